package template

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Pseudo holds the values of CloudFormation pseudo parameters. Zero fields
// take SAM CLI's local defaults (see the field comments).
type Pseudo struct {
	Region    string // AWS::Region. Default: us-east-1
	AccountID string // AWS::AccountId. Default: 123456789012
	Partition string // AWS::Partition. Default: aws
	StackName string // AWS::StackName. Default: local
	URLSuffix string // AWS::URLSuffix. Default: amazonaws.com
}

func (p Pseudo) withDefaults() Pseudo {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&p.Region, "us-east-1")
	def(&p.AccountID, "123456789012")
	def(&p.Partition, "aws")
	def(&p.StackName, "local")
	def(&p.URLSuffix, "amazonaws.com")
	return p
}

// noValue is what Ref AWS::NoValue resolves to: the enclosing key or list
// element is dropped.
type noValue struct{}

// resolver evaluates intrinsic functions against parameters, pseudo
// parameters, Conditions, Mappings and the resource table.
type resolver struct {
	params     map[string]paramValue
	pseudo     Pseudo
	conditions map[string]any
	mappings   map[string]any
	resources  map[string]string // logical ID → resource type, incl. SAM's implicit resources

	condValue map[string]bool
	condBusy  map[string]bool
	warn      func(string)
}

// resolve returns v with every intrinsic evaluated. Keys and list elements
// whose value is AWS::NoValue are dropped; a top-level AWS::NoValue is
// returned as noValue{} for the caller to treat as "absent".
func (r *resolver) resolve(v any, path string) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		if name, arg, ok := intrinsic(v); ok {
			return r.intrinsic(name, arg, path)
		}
		out := make(map[string]any, len(v))
		for _, k := range sortedKeys(v) {
			rv, err := r.resolve(v[k], joinPath(path, k))
			if err != nil {
				return nil, err
			}
			if _, drop := rv.(noValue); !drop {
				out[k] = rv
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(v))
		for i, e := range v {
			rv, err := r.resolve(e, joinPath(path, i))
			if err != nil {
				return nil, err
			}
			if _, drop := rv.(noValue); !drop {
				out = append(out, rv)
			}
		}
		return out, nil
	default:
		return v, nil
	}
}

// intrinsic reports whether m is an intrinsic function call: a single-key
// mapping whose key is Ref or starts with Fn::.
func intrinsic(m map[string]any) (name string, arg any, ok bool) {
	if len(m) != 1 {
		return "", nil, false
	}
	for k, v := range m {
		if k == "Ref" || strings.HasPrefix(k, "Fn::") {
			return k, v, true
		}
	}
	return "", nil, false
}

func isIntrinsic(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	_, _, ok = intrinsic(m)
	return ok
}

func (r *resolver) intrinsic(name string, arg any, path string) (any, error) {
	switch name {
	case "Ref":
		target, ok := arg.(string)
		if !ok {
			return nil, invalidf(path, "Ref wants a logical ID or parameter name, got %s", kindOf(arg))
		}
		return r.ref(target, path)
	case "Fn::Sub":
		return r.sub(arg, path)
	case "Fn::If":
		return r.fnIf(arg, path)
	case "Fn::Join":
		return r.join(arg, path)
	case "Fn::Select":
		return r.selectFn(arg, path)
	case "Fn::Split":
		return r.split(arg, path)
	case "Fn::FindInMap":
		return r.findInMap(arg, path)
	case "Fn::Base64":
		s, err := r.resolveString(arg, path, name)
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "Fn::GetAtt":
		return r.getAttFn(arg, path)
	case "Fn::ImportValue":
		exp, err := r.resolveString(arg, path, name)
		if err != nil {
			return nil, err
		}
		r.warn(fmt.Sprintf("%s: Fn::ImportValue %q resolved to \"\" (cross-stack exports do not exist locally)", path, exp))
		return "", nil
	case "Fn::GetAZs":
		region, err := r.resolveString(arg, path, name)
		if err != nil {
			return nil, err
		}
		if region == "" {
			region = r.pseudo.Region
		}
		return []any{region + "a", region + "b", region + "c"}, nil
	case "Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not":
		return nil, fmt.Errorf("%s: %s is only allowed in Conditions: %w", path, name, ErrInvalid)
	default:
		return nil, fmt.Errorf("%s: unsupported intrinsic %s: %w", path, name, ErrUnsupported)
	}
}

// resolveString resolves v and demands a scalar result.
func (r *resolver) resolveString(v any, path, fn string) (string, error) {
	rv, err := r.resolve(v, path)
	if err != nil {
		return "", err
	}
	if _, ok := rv.(noValue); ok {
		return "", invalidf(path, "%s: AWS::NoValue is not a string", fn)
	}
	s, ok := scalarString(rv)
	if !ok {
		return "", invalidf(path, "%s wants a string, got %s", fn, kindOf(rv))
	}
	return s, nil
}

// resolveList resolves v and demands a list.
func (r *resolver) resolveList(v any, path, fn string) ([]any, error) {
	rv, err := r.resolve(v, path)
	if err != nil {
		return nil, err
	}
	l, ok := rv.([]any)
	if !ok {
		return nil, invalidf(path, "%s wants a list, got %s", fn, kindOf(rv))
	}
	return l, nil
}

func args(arg any, path, fn string, min, max int) ([]any, error) {
	l, ok := arg.([]any)
	if !ok || len(l) < min || len(l) > max {
		if min == max {
			return nil, invalidf(path, "%s wants a list of %d arguments", fn, min)
		}
		return nil, invalidf(path, "%s wants a list of %d to %d arguments", fn, min, max)
	}
	return l, nil
}

func (r *resolver) ref(target, path string) (any, error) {
	switch target {
	case "AWS::NoValue":
		return noValue{}, nil
	case "AWS::Region":
		return r.pseudo.Region, nil
	case "AWS::AccountId":
		return r.pseudo.AccountID, nil
	case "AWS::Partition":
		return r.pseudo.Partition, nil
	case "AWS::StackName":
		return r.pseudo.StackName, nil
	case "AWS::URLSuffix":
		return r.pseudo.URLSuffix, nil
	case "AWS::StackId":
		return r.arn("cloudformation", "stack/"+r.pseudo.StackName+"/00000000-0000-0000-0000-000000000000"), nil
	case "AWS::NotificationARNs":
		return []any{}, nil
	}
	if p, ok := r.params[target]; ok {
		return p.value(), nil
	}
	if _, ok := r.resources[target]; ok {
		return target, nil
	}
	return nil, invalidf(path, "Ref %s: no such parameter, pseudo parameter or resource", target)
}

// sub implements Fn::Sub in its string and [string, {vars}] forms.
func (r *resolver) sub(arg any, path string) (any, error) {
	var tmpl string
	vars := map[string]any{}
	switch a := arg.(type) {
	case string:
		tmpl = a
	case []any:
		if len(a) != 2 {
			return nil, invalidf(path, "Fn::Sub wants a string or [string, {variables}]")
		}
		s, ok := a[0].(string)
		if !ok {
			return nil, invalidf(path, "Fn::Sub template must be a string, got %s", kindOf(a[0]))
		}
		m, ok := a[1].(map[string]any)
		if !ok {
			return nil, invalidf(path, "Fn::Sub variables must be a mapping, got %s", kindOf(a[1]))
		}
		tmpl, vars = s, m
	default:
		return nil, invalidf(path, "Fn::Sub wants a string or [string, {variables}], got %s", kindOf(arg))
	}

	var b strings.Builder
	for {
		i := strings.Index(tmpl, "${")
		if i < 0 {
			b.WriteString(tmpl)
			break
		}
		b.WriteString(tmpl[:i])
		rest := tmpl[i+2:]
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			// CloudFormation leaves an unterminated "${" as text.
			b.WriteString(tmpl[i:])
			break
		}
		name := rest[:end]
		tmpl = rest[end+1:]
		if lit, ok := strings.CutPrefix(name, "!"); ok {
			b.WriteString("${" + lit + "}")
			continue
		}
		s, err := r.subVar(name, vars, path)
		if err != nil {
			return nil, err
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

func (r *resolver) subVar(name string, vars map[string]any, path string) (string, error) {
	name = strings.TrimSpace(name)
	var v any
	var err error
	if raw, ok := vars[name]; ok {
		v, err = r.resolve(raw, joinPath(path, name))
	} else if res, attr, dotted := strings.Cut(name, "."); dotted && !strings.HasPrefix(name, "AWS::") {
		v, err = r.getAtt(res, attr, path)
	} else {
		v, err = r.ref(name, path)
	}
	if err != nil {
		return "", err
	}
	s, ok := scalarString(v)
	if _, isNoValue := v.(noValue); isNoValue || !ok {
		return "", invalidf(path, "Fn::Sub variable ${%s} is %s, not a string", name, kindOf(v))
	}
	return s, nil
}

func (r *resolver) fnIf(arg any, path string) (any, error) {
	a, err := args(arg, path, "Fn::If", 3, 3)
	if err != nil {
		return nil, err
	}
	cond, ok := a[0].(string)
	if !ok {
		return nil, invalidf(path, "Fn::If wants a condition name first, got %s", kindOf(a[0]))
	}
	yes, err := r.condition(cond, path)
	if err != nil {
		return nil, err
	}
	if yes {
		return r.resolve(a[1], path)
	}
	return r.resolve(a[2], path)
}

func (r *resolver) join(arg any, path string) (any, error) {
	a, err := args(arg, path, "Fn::Join", 2, 2)
	if err != nil {
		return nil, err
	}
	sep, err := r.resolveString(a[0], path, "Fn::Join delimiter")
	if err != nil {
		return nil, err
	}
	l, err := r.resolveList(a[1], path, "Fn::Join")
	if err != nil {
		return nil, err
	}
	parts := make([]string, len(l))
	for i, e := range l {
		s, ok := scalarString(e)
		if !ok {
			return nil, invalidf(path, "Fn::Join element %d is %s, not a string", i, kindOf(e))
		}
		parts[i] = s
	}
	return strings.Join(parts, sep), nil
}

func (r *resolver) selectFn(arg any, path string) (any, error) {
	a, err := args(arg, path, "Fn::Select", 2, 2)
	if err != nil {
		return nil, err
	}
	iv, err := r.resolve(a[0], path)
	if err != nil {
		return nil, err
	}
	i, ok := toInt(iv)
	if !ok {
		return nil, invalidf(path, "Fn::Select index %v is not an integer", iv)
	}
	l, err := r.resolveList(a[1], path, "Fn::Select")
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(l) {
		return nil, invalidf(path, "Fn::Select index %d out of range (list has %d elements)", i, len(l))
	}
	return l[i], nil
}

func (r *resolver) split(arg any, path string) (any, error) {
	a, err := args(arg, path, "Fn::Split", 2, 2)
	if err != nil {
		return nil, err
	}
	sep, err := r.resolveString(a[0], path, "Fn::Split delimiter")
	if err != nil {
		return nil, err
	}
	if sep == "" {
		return nil, invalidf(path, "Fn::Split delimiter is empty")
	}
	s, err := r.resolveString(a[1], path, "Fn::Split")
	if err != nil {
		return nil, err
	}
	parts := strings.Split(s, sep)
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

// findInMap implements Fn::FindInMap, including the optional fourth
// argument {DefaultValue: …} of the AWS::LanguageExtensions transform.
func (r *resolver) findInMap(arg any, path string) (any, error) {
	a, err := args(arg, path, "Fn::FindInMap", 3, 4)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 3)
	for i := range keys {
		if keys[i], err = r.resolveString(a[i], path, "Fn::FindInMap"); err != nil {
			return nil, err
		}
	}
	var def any
	hasDef := false
	if len(a) == 4 {
		m, ok := a[3].(map[string]any)
		if !ok || len(m) != 1 {
			return nil, invalidf(path, "Fn::FindInMap fourth argument must be {DefaultValue: …}")
		}
		def, hasDef = m["DefaultValue"]
		if !hasDef {
			return nil, invalidf(path, "Fn::FindInMap fourth argument must be {DefaultValue: …}")
		}
	}
	var cur any = r.mappings
	for i, k := range keys {
		m, ok := cur.(map[string]any)
		var next any
		if ok {
			next, ok = m[k]
		}
		if !ok {
			if hasDef {
				return r.resolve(def, path)
			}
			what := [...]string{"mapping", "top-level key", "second-level key"}[i]
			return nil, invalidf(path, "Fn::FindInMap [%s]: %s %q not found", strings.Join(keys, ", "), what, k)
		}
		cur = next
	}
	return r.resolve(cur, path)
}

func (r *resolver) getAttFn(arg any, path string) (any, error) {
	var res, attr string
	switch a := arg.(type) {
	case string:
		var ok bool
		if res, attr, ok = strings.Cut(a, "."); !ok {
			return nil, invalidf(path, "Fn::GetAtt %q: want Resource.Attribute", a)
		}
	case []any:
		if len(a) != 2 {
			return nil, invalidf(path, "Fn::GetAtt wants [Resource, Attribute]")
		}
		var err error
		if res, err = r.resolveString(a[0], path, "Fn::GetAtt"); err != nil {
			return nil, err
		}
		if attr, err = r.resolveString(a[1], path, "Fn::GetAtt"); err != nil {
			return nil, err
		}
	default:
		return nil, invalidf(path, "Fn::GetAtt wants [Resource, Attribute], got %s", kindOf(arg))
	}
	return r.getAtt(res, attr, path)
}

func (r *resolver) arn(service, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", r.pseudo.Partition, service, r.pseudo.Region, r.pseudo.AccountID, resource)
}

// getAtt synthesizes a plausible value for Fn::GetAtt; nothing is deployed,
// so ARNs are built from the logical ID. See the package documentation.
func (r *resolver) getAtt(res, attr, path string) (any, error) {
	typ, ok := r.resources[res]
	if !ok {
		return nil, invalidf(path, "Fn::GetAtt %s.%s: no such resource", res, attr)
	}
	p := r.pseudo
	switch typ {
	case "AWS::Serverless::Function", "AWS::Lambda::Function":
		if attr == "Arn" {
			return r.arn("lambda", "function:"+res), nil
		}
	case "AWS::SQS::Queue":
		switch attr {
		case "Arn":
			return r.arn("sqs", res), nil
		case "QueueUrl":
			return fmt.Sprintf("https://sqs.%s.%s/%s/%s", p.Region, p.URLSuffix, p.AccountID, res), nil
		case "QueueName":
			return res, nil
		}
	case "AWS::SNS::Topic":
		switch attr {
		case "Arn", "TopicArn":
			return r.arn("sns", res), nil
		case "TopicName":
			return res, nil
		}
	case "AWS::S3::Bucket":
		switch attr {
		case "Arn":
			return fmt.Sprintf("arn:%s:s3:::%s", p.Partition, strings.ToLower(res)), nil
		case "DomainName":
			return strings.ToLower(res) + ".s3." + p.URLSuffix, nil
		}
	case "AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable":
		switch attr {
		case "Arn":
			return r.arn("dynamodb", "table/"+res), nil
		case "StreamArn":
			return r.arn("dynamodb", "table/"+res+"/stream/1970-01-01T00:00:00.000"), nil
		}
	case "AWS::IAM::Role":
		switch attr {
		case "Arn":
			return fmt.Sprintf("arn:%s:iam::%s:role/%s", p.Partition, p.AccountID, res), nil
		case "RoleId":
			return res, nil
		}
	case "AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api":
		switch attr {
		case "ApiId":
			return res, nil
		case "ApiEndpoint":
			return fmt.Sprintf("https://%s.execute-api.%s.%s", res, p.Region, p.URLSuffix), nil
		}
	case "AWS::Serverless::Api", "AWS::ApiGateway::RestApi":
		if attr == "RootResourceId" {
			return "root", nil
		}
	case "AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine":
		if attr == "Arn" {
			return r.arn("states", "stateMachine:"+res), nil
		}
	case "AWS::Logs::LogGroup":
		if attr == "Arn" {
			return r.arn("logs", "log-group:"+res+":*"), nil
		}
	}
	if attr == "Arn" || strings.HasSuffix(attr, "Arn") {
		// Generic: arn:aws:<service>:<region>:<account>:<kind>/<logical ID>.
		parts := strings.Split(typ, "::")
		service, kind := "unknown", "resource"
		if len(parts) == 3 {
			service, kind = strings.ToLower(parts[1]), strings.ToLower(parts[2])
		}
		return r.arn(service, kind+"/"+res), nil
	}
	return res + "." + attr, nil
}

// condition evaluates a named condition from the Conditions section,
// memoized, with cycle detection.
func (r *resolver) condition(name, path string) (bool, error) {
	if v, ok := r.condValue[name]; ok {
		return v, nil
	}
	def, ok := r.conditions[name]
	if !ok {
		return false, invalidf(path, "condition %s is not declared in Conditions", name)
	}
	if r.condBusy[name] {
		return false, invalidf("Conditions."+name, "circular condition")
	}
	r.condBusy[name] = true
	v, err := r.condExpr(def, "Conditions."+name)
	delete(r.condBusy, name)
	if err != nil {
		return false, err
	}
	r.condValue[name] = v
	return v, nil
}

func (r *resolver) condExpr(v any, path string) (bool, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false, invalidf(path, "condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition")
	}
	for name, arg := range m {
		switch name {
		case "Condition":
			s, ok := arg.(string)
			if !ok {
				return false, invalidf(path, "Condition wants a condition name")
			}
			return r.condition(s, path)
		case "Fn::Equals":
			a, err := args(arg, path, name, 2, 2)
			if err != nil {
				return false, err
			}
			var vals [2]string
			for i := range a {
				rv, err := r.resolve(a[i], path)
				if err != nil {
					return false, err
				}
				if l, ok := rv.([]any); ok {
					// Comparing a list parameter: compare its comma-joined form.
					ss := make([]string, len(l))
					for j, e := range l {
						ss[j], _ = scalarString(e)
					}
					vals[i] = strings.Join(ss, ",")
					continue
				}
				s, ok := scalarString(rv)
				if !ok {
					return false, invalidf(path, "Fn::Equals operand is %s", kindOf(rv))
				}
				vals[i] = s
			}
			return vals[0] == vals[1], nil
		case "Fn::Not":
			a, err := args(arg, path, name, 1, 1)
			if err != nil {
				return false, err
			}
			b, err := r.condExpr(a[0], path)
			return !b, err
		case "Fn::And", "Fn::Or":
			a, err := args(arg, path, name, 2, 10)
			if err != nil {
				return false, err
			}
			// CloudFormation evaluates every operand; so do we, to surface errors.
			res := name == "Fn::And"
			for _, e := range a {
				b, err := r.condExpr(e, path)
				if err != nil {
					return false, err
				}
				if name == "Fn::And" {
					res = res && b
				} else {
					res = res || b
				}
			}
			return res, nil
		case "Fn::If":
			return false, invalidf(path, "Fn::If is not allowed in a condition")
		default:
			if strings.HasPrefix(name, "Fn::") {
				return false, fmt.Errorf("%s: unsupported intrinsic %s in condition: %w", path, name, ErrUnsupported)
			}
			return false, invalidf(path, "condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition, got %s", name)
		}
	}
	return false, errors.New("unreachable")
}
