package template_test

import (
	"errors"
	"testing"

	"github.com/questlog/questlog/local/template"
)

const vpcTemplate = `Transform: AWS::Serverless-2016-10-31
Parameters:
  Subnets: { Type: "List<AWS::EC2::Subnet::Id>" }
  Group: { Type: "AWS::EC2::SecurityGroup::Id" }
  Name: { Type: String }
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: bootstrap
      Runtime: provided.al2023
      VpcConfig: { SubnetIds: !Ref Subnets, SecurityGroupIds: [!Ref Group] }
      Environment:
        Variables:
          SECOND_SUBNET: !Select [1, !Ref Subnets]
          NAME: !Ref Name
`

// AWS resource IDs (subnets, security groups) mean nothing locally: a
// template without fake defaults for them still runs, with placeholders
// (two for a list, one per Availability Zone a template may select).
// Other parameters still need a value.
func TestAWSResourceParametersGetPlaceholders(t *testing.T) {
	if _, err := load(t, vpcTemplate, template.Options{}); !errors.Is(err, template.ErrParameter) {
		t.Fatalf("Name has no value, yet Load says %v", err)
	}
	tpl := mustLoad(t, vpcTemplate, template.Options{ParameterOverrides: map[string]string{"Name": "x"}})
	if got := tpl.Parameters["Subnets"]; got != "subnet-local1,subnet-local2" {
		t.Errorf("Subnets = %q", got)
	}
	if got := tpl.Parameters["Group"]; got != "sg-local" {
		t.Errorf("Group = %q", got)
	}
	if got := mustFunction(t, tpl, "Fn").Environment["SECOND_SUBNET"]; got != "subnet-local2" {
		t.Errorf("SECOND_SUBNET = %q", got)
	}
	given := mustLoad(t, vpcTemplate, template.Options{ParameterOverrides: map[string]string{"Name": "x", "Subnets": "subnet-a,subnet-b,subnet-c"}})
	if got := given.Parameters["Subnets"]; got != "subnet-a,subnet-b,subnet-c" {
		t.Errorf("an override of Subnets gives %q", got)
	}
}
