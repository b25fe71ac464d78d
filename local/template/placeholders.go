package template

import (
	"fmt"
	"strings"
)

// placeholderPrefixes name placeholders after the IDs AWS gives such
// resources.
var placeholderPrefixes = map[string]string{
	"AWS::EC2::Subnet::Id":        "subnet",
	"AWS::EC2::SecurityGroup::Id": "sg",
	"AWS::EC2::VPC::Id":           "vpc",
	"AWS::EC2::Image::Id":         "ami",
	"AWS::EC2::Instance::Id":      "i",
	"AWS::EC2::Volume::Id":        "vol",
}

// placeholder stands in for a parameter without a value whose type names
// resources of an AWS account (subnets, security groups, …): they mean
// nothing locally, and a template must not need fake defaults to run here.
// Lists get two items, for templates that select per Availability Zone.
func placeholder(typ string) (paramValue, bool) {
	elem, isList := strings.CutPrefix(typ, "List<")
	if isList {
		elem = strings.TrimSuffix(elem, ">")
	}
	if !strings.HasPrefix(elem, "AWS::") || strings.HasPrefix(elem, "AWS::SSM::") {
		return paramValue{}, false
	}
	prefix := placeholderPrefixes[elem]
	if prefix == "" {
		prefix = "local"
	}
	if !isList {
		return paramValue{str: prefix + "-local"}, true
	}
	items := []string{fmt.Sprintf("%s-local1", prefix), fmt.Sprintf("%s-local2", prefix)}
	return paramValue{list: items, isList: true}, true
}
