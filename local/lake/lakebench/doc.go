// Package lakebench holds the benchmark of `questlog sql` against DuckDB
// itself on the same files. It is a package of its own so that only it,
// not the lake's tests, links DuckDB into a test binary.
package lakebench
