package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// EnsureTopics creates the topics that do not exist yet on the cluster
// reachable at brokers: the embedded broker or any real Kafka cluster. It
// uses the CreateTopics API with the broker's default replication factor. A
// topic that already exists is left as it is (its partition count is not
// changed), so calling EnsureTopics again is harmless.
func EnsureTopics(ctx context.Context, brokers []string, topics []Topic) error {
	if len(topics) == 0 {
		return nil
	}
	if len(brokers) == 0 {
		return errors.New("kafka: ensure topics: no brokers")
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return fmt.Errorf("kafka: ensure topics: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	var errs []error
	for _, t := range topics {
		if err := ValidTopicName(t.Name); err != nil {
			return fmt.Errorf("kafka: ensure topics: %w", err)
		}
		p := int32(t.Partitions)
		if p <= 0 {
			p = -1 // broker default
		}
		var configs map[string]*string
		for k, v := range t.Configs {
			if configs == nil {
				configs = map[string]*string{}
			}
			configs[k] = &v
		}
		names := []string{t.Name}
		resps, err := adm.CreateTopics(ctx, p, -1, configs, names...)
		if err != nil {
			return fmt.Errorf("kafka: create topics %v: %w", names, err)
		}
		for _, name := range names {
			r, ok := resps[name]
			if !ok {
				errs = append(errs, fmt.Errorf("kafka: create topic %q: missing from response", name))
				continue
			}
			if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
				msg := ""
				if r.ErrMessage != "" {
					msg = " (" + r.ErrMessage + ")"
				}
				errs = append(errs, fmt.Errorf("kafka: create topic %q%s: %w", name, msg, r.Err))
			}
		}
	}
	return errors.Join(errs...)
}

// ValidTopicName reports whether name is a legal Kafka topic name: 1 to 249
// characters from [a-zA-Z0-9._-], and not "." or "..". Real brokers reject
// other names; kfake does not, so the emulator checks for it.
func ValidTopicName(name string) error {
	switch {
	case name == "":
		return errors.New("empty topic name")
	case name == "." || name == "..":
		return fmt.Errorf("invalid topic name %q", name)
	case len(name) > 249:
		return fmt.Errorf("topic name %.20q... longer than 249 characters", name)
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("invalid topic name %q: only ASCII letters, digits, '.', '_' and '-' are allowed", name)
		}
	}
	return nil
}
