// Package kafkaconf holds the rules for the Kafka settings that questlog
// reads from its template, environment and command line: topic names and
// bootstrap-server lists. The functions, the emulator and the sink apply
// the same rules from here.
package kafkaconf

import (
	"errors"
	"fmt"
	"strings"
)

// MaxTopicLength is the longest topic name Kafka accepts.
const MaxTopicLength = 249

// ValidateTopic applies Kafka's topic name rules: 1 to 249 characters from
// [a-zA-Z0-9._-], and not "." or "..". Real brokers refuse other names;
// the embedded broker does not, so questlog checks. Topic names also end
// up in dataset file names, which these characters keep safe.
func ValidateTopic(name string) error {
	switch {
	case name == "":
		return errors.New("topic is required")
	case name == "." || name == "..":
		return fmt.Errorf("topic %q is not a valid name", name)
	case len(name) > MaxTopicLength:
		return fmt.Errorf("topic %.20q... is longer than %d characters", name, MaxTopicLength)
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("topic %q has characters other than ASCII letters, digits, '.', '_' and '-'", name)
		}
	}
	return nil
}

// Brokers splits a comma-separated bootstrap-server list
// ("broker1:9092, broker2:9092"), dropping blanks.
func Brokers(list string) []string {
	var brokers []string
	for _, b := range strings.Split(list, ",") {
		if b = strings.TrimSpace(b); b != "" {
			brokers = append(brokers, b)
		}
	}
	return brokers
}
