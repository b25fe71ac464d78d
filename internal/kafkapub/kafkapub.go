// Package kafkapub publishes events to Kafka synchronously: Publish returns
// only once every in-sync replica has the record (acks=all), so an API
// function answers 2xx only for events that are safely in Kafka.
package kafkapub

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
)

// Config configures a Publisher.
type Config struct {
	// Brokers are the bootstrap servers, host:port.
	Brokers []string
	// Topic is the topic every record goes to.
	Topic string
	// Timeout bounds one Publish, including retries, when the caller's
	// context has no earlier deadline. Default: 5s.
	Timeout time.Duration
}

func (c Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 5 * time.Second
}

// Publisher writes records to one topic. It is created once per execution
// environment and reused across invocations; it is safe for concurrent use.
type Publisher struct {
	w       *kafka.Writer
	timeout time.Duration
}

// ErrUnavailable wraps every publish failure: Kafka did not acknowledge the
// record, so the caller must report the event as not recorded.
var ErrUnavailable = errors.New("kafka did not acknowledge the event")

// ErrTooLarge wraps a publish refused because the record exceeds the
// broker's (or the topic's) maximum record size: no retry can succeed.
var ErrTooLarge = errors.New("the event is too large for a Kafka record")

// New returns a Publisher. It does not connect until the first Publish.
func New(cfg Config) (*Publisher, error) {
	if len(cfg.Brokers) == 0 || cfg.Topic == "" {
		return nil, errors.New("kafka publisher needs brokers and a topic")
	}
	w := &kafka.Writer{
		Addr:  kafka.TCP(cfg.Brokers...),
		Topic: cfg.Topic,
		// Java's partitioner: the same user lands in the same partition
		// whichever client produced the record.
		Balancer:     &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll,
		// One record per batch: a synchronous write must not wait for
		// kafka-go's default one-second BatchTimeout to fill a batch.
		BatchSize:    1,
		BatchTimeout: time.Millisecond,
		MaxAttempts:  3,
		// Fail fast when the broker is down; the context bounds the rest.
		WriteBackoffMin: 20 * time.Millisecond,
		WriteBackoffMax: 200 * time.Millisecond,
		ReadTimeout:     cfg.timeout(),
		WriteTimeout:    cfg.timeout(),
		Transport: &kafka.Transport{
			Dial:        (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
			DialTimeout: 2 * time.Second,
			IdleTimeout: 10 * time.Minute,
		},
	}
	return &Publisher{w: w, timeout: cfg.timeout()}, nil
}

// ParseBrokers splits a comma-separated bootstrap server list.
func ParseBrokers(list string) []string {
	var brokers []string
	for _, b := range strings.Split(list, ",") {
		if b = strings.TrimSpace(b); b != "" {
			brokers = append(brokers, b)
		}
	}
	return brokers
}

// Publish writes one record and waits for its acknowledgement. A nil key
// spreads keyless records over the partitions at random.
func (p *Publisher) Publish(ctx context.Context, key, value []byte) error {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	err := p.w.WriteMessages(ctx, kafka.Message{Key: key, Value: value})
	if err != nil {
		if TooLarge(err) {
			return fmt.Errorf("%w: %v", ErrTooLarge, err)
		}
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// TooLarge reports whether a kafka-go write error says a record exceeds
// the maximum size, whether the client or the broker found it.
func TooLarge(err error) bool {
	var each kafka.WriteErrors
	if errors.As(err, &each) {
		for _, e := range each {
			if e != nil && TooLarge(e) {
				return true
			}
		}
	}
	return errors.Is(err, kafka.MessageSizeTooLarge)
}

// Close flushes and closes the connections.
func (p *Publisher) Close() error { return p.w.Close() }
