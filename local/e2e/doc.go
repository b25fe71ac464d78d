// Package e2e holds the emulator's end-to-end tests: the real template,
// the real function binaries built by its Makefile, the embedded Kafka and
// HDFS, driven over HTTP, the Kafka protocol and the HDFS protocol.
package e2e
