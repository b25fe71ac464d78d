package template

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Sentinel errors. Load wraps them with the file and the property path, so
// test for them with errors.Is.
var (
	// ErrUnsupported marks a construct the emulator cannot evaluate locally
	// (Fn::Transform, Fn::Cidr, an S3 CodeUri, container images, …).
	ErrUnsupported = errors.New("unsupported")
	// ErrParameter marks a template parameter without a value or with a
	// value its declaration rejects.
	ErrParameter = errors.New("invalid parameter")
	// ErrInvalid marks a property value that is missing or out of range.
	ErrInvalid = errors.New("invalid property")
)

func invalidf(path, format string, args ...any) error {
	return fmt.Errorf("%s: %s: %w", path, fmt.Sprintf(format, args...), ErrInvalid)
}

// joinPath appends a key or list index to a property path:
// joinPath("A.B", "C") = "A.B.C", joinPath("A.B", 2) = "A.B[2]".
func joinPath(path string, elem any) string {
	switch e := elem.(type) {
	case int:
		return path + "[" + strconv.Itoa(e) + "]"
	default:
		if path == "" {
			return fmt.Sprint(e)
		}
		return path + "." + fmt.Sprint(e)
	}
}

// scalarString renders a resolved scalar the way CloudFormation and SAM CLI
// hand it to a function: booleans as "true"/"false", numbers in decimal
// without exponent, null as "". Lists and maps are not scalars.
func scalarString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case uint64:
		return strconv.FormatUint(v, 10), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case nil:
		return "", true
	}
	return "", false
}

// toInt accepts integers, integral floats and numeric strings (a Ref to a
// Number parameter yields a string).
func toInt(v any) (int, bool) {
	switch v := v.(type) {
	case int:
		return v, true
	case int64:
		if v >= math.MinInt && v <= math.MaxInt {
			return int(v), true
		}
	case uint64:
		if v <= math.MaxInt {
			return int(v), true
		}
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return int(v), true
		}
	case string:
		if i, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			return i, true
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			return toInt(f)
		}
	}
	return 0, false
}

// toFloat accepts numbers and numeric strings.
func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint64:
		return float64(v), true
	case float64:
		return v, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil
	}
	return 0, false
}

// toBool accepts booleans and the strings "true"/"false" (any case).
func toBool(v any) (bool, bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}
