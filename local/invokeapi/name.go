package invokeapi

import (
	"errors"
	"fmt"
	"strings"
)

// errBadFunctionName is wrapped by every malformed FunctionName.
var errBadFunctionName = errors.New("invalid function name")

// functionRef is a parsed FunctionName.
type functionRef struct {
	name      string // the function name, e.g. "PurchaseSwordFunction"
	qualifier string // "" when none was given
	region    string // "" unless a full ARN named one
	account   string // "" unless an ARN named one
}

// parseFunctionName accepts the forms the Invoke API does:
//
//	Name                                              (function name)
//	Name:Qualifier                                    (name with version or alias)
//	123456789012:function:Name[:Qualifier]            (partial ARN)
//	arn:aws:lambda:us-east-1:123456789012:function:Name[:Qualifier]
func parseFunctionName(s string) (functionRef, error) {
	if s == "" || len(s) > 170 {
		return functionRef{}, fmt.Errorf("%q: %w", s, errBadFunctionName)
	}
	parts := strings.Split(s, ":")
	var (
		ref  functionRef
		rest []string // the name and, optionally, the qualifier
	)
	switch {
	case parts[0] == "arn":
		if len(parts) < 7 || len(parts) > 8 || !strings.HasPrefix(parts[1], "aws") || parts[2] != "lambda" ||
			parts[3] == "" || parts[5] != "function" {
			return functionRef{}, fmt.Errorf("%q is not a lambda function arn: %w", s, errBadFunctionName)
		}
		ref.region, ref.account, rest = parts[3], parts[4], parts[6:]
	case len(parts) >= 3 && parts[1] == "function":
		ref.account, rest = parts[0], parts[2:]
	default:
		rest = parts
	}
	if len(rest) > 2 {
		return functionRef{}, fmt.Errorf("%q: %w", s, errBadFunctionName)
	}
	ref.name = rest[0]
	if len(rest) == 2 {
		if rest[1] == "" {
			return functionRef{}, fmt.Errorf("empty qualifier in %q: %w", s, errBadFunctionName)
		}
		ref.qualifier = rest[1]
	}
	if !validName(ref.name) || len(ref.name) > 64 {
		return functionRef{}, fmt.Errorf("function name %q: %w", ref.name, errBadFunctionName)
	}
	if ref.account != "" && !isDigits(ref.account, 12) {
		return functionRef{}, fmt.Errorf("account %q: %w", ref.account, errBadFunctionName)
	}
	if ref.qualifier != "" && !validQualifier(ref.qualifier) {
		return functionRef{}, fmt.Errorf("qualifier %q: %w", ref.qualifier, errBadFunctionName)
	}
	return ref, nil
}

// validName: letters, digits, hyphens and underscores.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validQualifier: $LATEST, a version number or an alias name.
func validQualifier(s string) bool {
	if s == "$LATEST" {
		return true
	}
	if len(s) > 128 {
		return false
	}
	return validName(s)
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
