package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/questlog/questlog/internal/kafkaconf"
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
		if err := kafkaconf.ValidateTopic(t.Name); err != nil {
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
