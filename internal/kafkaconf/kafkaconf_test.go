package kafkaconf

import (
	"strings"
	"testing"
)

func TestValidateTopic(t *testing.T) {
	for name, want := range map[string]string{
		"game-events":            "",
		"a.b_c-D9":               "",
		strings.Repeat("t", 249): "",
		"":                       "topic is required",
		".":                      "not a valid name",
		"..":                     "not a valid name",
		strings.Repeat("t", 250): "longer than 249 characters",
		"game events":            "has characters other than",
		"game/events":            "has characters other than",
		"événements":             "has characters other than",
	} {
		err := ValidateTopic(name)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("ValidateTopic(%.30q) = %v, want %q", name, err, want)
		}
	}
}

func TestBrokers(t *testing.T) {
	if got := strings.Join(Brokers(" b1:9092, ,b2:9092,"), "|"); got != "b1:9092|b2:9092" {
		t.Errorf("Brokers = %q", got)
	}
	if got := Brokers(""); len(got) != 0 {
		t.Errorf("Brokers(\"\") = %q", got)
	}
}
