// Package hdfspb holds the generated Go types for the subset of the Hadoop
// wire protocol spoken by the emulator (see questlog_hdfs.proto). The generated file is
// committed so that builds need no protoc.
package hdfspb

//go:generate protoc --go_out=. --go_opt=paths=source_relative questlog_hdfs.proto
