package chaos

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
)

// secrets are the credentials the corpora send. Each is unique to the run
// and shares a random marker with the others, so one search for the
// marker finds any of them in a log line, a Kafka record or a Parquet value.
type secrets struct {
	marker string
	mu     sync.Mutex
	all    map[string]*secret
	rng    *rand.Rand
}

type secret struct {
	value string
	// via says how it was sent: "HTTP X-Api-Key", "Kafka header Cookie".
	via string
	// inEventHeaders: the corpus itself put it in the events topic's record
	// headers, so it is expected there and nowhere else.
	inEventHeaders bool
}

const secretTail = 12 // characters after the marker

func newSecrets(rng *rand.Rand) *secrets {
	return &secrets{marker: "qlsec" + randomString(rng, 6, "0123456789abcdef"), all: map[string]*secret{}, rng: rng}
}

// add makes a new secret sent via the given channel and returns its value.
func (s *secrets) add(via string, inEventHeaders bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := fmt.Sprintf("%s%02d%s", s.marker, len(s.all)%100, randomString(s.rng, secretTail-2, alnum))
	s.all[v] = &secret{value: v, via: via, inEventHeaders: inEventHeaders}
	return v
}

// in returns the secrets b contains.
func (s *secrets) in(b []byte) []string {
	var found []string
	for {
		i := bytes.Index(b, []byte(s.marker))
		if i < 0 {
			return found
		}
		b = b[i+len(s.marker):]
		if len(b) >= secretTail {
			v := s.marker + string(b[:secretTail])
			s.mu.Lock()
			_, ok := s.all[v]
			s.mu.Unlock()
			if ok {
				found = append(found, v)
			}
		}
	}
}

func (s *secrets) get(v string) *secret {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.all[v]
}

func (s *secrets) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.all)
}

// leaks records where each secret was found.
type leaks map[string]map[string]bool // secret value → places

func (l leaks) add(value, where string) {
	if l[value] == nil {
		l[value] = map[string]bool{}
	}
	l[value][where] = true
}

// describe lists the leaks as "HTTP X-Pwd → kafka game-events, log", sorted.
func (l leaks) describe(s *secrets) []string {
	var out []string
	for v, places := range l {
		var where []string
		for p := range places {
			where = append(where, p)
		}
		sort.Strings(where)
		via := "?"
		if sec := s.get(v); sec != nil {
			via = sec.via
		}
		out = append(out, fmt.Sprintf("%s → %s", via, joinComma(where)))
	}
	sort.Strings(out)
	return out
}

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func randomString(rng *rand.Rand, n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}
