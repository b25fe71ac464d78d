package apigw

import "github.com/questlog/questlog/local/internal/jsonenc"

// appendJSONObject appends pairs (already sorted and unique) as a JSON
// object of strings.
func appendJSONObject(dst []byte, pairs []kv) []byte {
	dst = append(dst, '{')
	for i, p := range pairs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonenc.AppendString(dst, p.k)
		dst = append(dst, ':')
		dst = jsonenc.AppendString(dst, p.v)
	}
	return append(dst, '}')
}
