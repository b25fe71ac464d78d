// Package kafkapub publishes events to Kafka synchronously: Publish returns
// only once every in-sync replica has the record (acks=all), so an API
// function answers 2xx only for events that are safely in Kafka.
//
// It writes each record with one produce request on a connection to the
// partition's leader (kafka-go's Conn), on the caller's goroutine. kafka-go's
// Writer, built for batching, hands every record through goroutines and
// timers; for one synchronous record per request that doubled the
// function's CPU time per publish.
package kafkapub

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"sync"
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

// Retries: a failed attempt (the leader moved, the connection broke) is
// retried on a fresh connection, up to maxAttempts in all, with a short
// backoff; the context bounds the whole.
const (
	maxAttempts = 3
	backoffMin  = 20 * time.Millisecond
	backoffMax  = 200 * time.Millisecond
	dialTimeout = 2 * time.Second
)

// Publisher writes records to one topic. It is created once per execution
// environment and reused across invocations; it is safe for concurrent use.
type Publisher struct {
	cfg    Config
	dialer *kafka.Dialer
	// Java's partitioner: the same user lands in the same partition
	// whichever client produced the record.
	balancer kafka.Murmur2Balancer

	mu      sync.Mutex
	leaders map[int]kafka.Partition // by partition id; nil until looked up
	ids     []int                   // partition ids, sorted
	conns   map[int]*leaderConn
}

// leaderConn is the connection to one partition's leader; its mutex keeps
// one produce request at a time on it.
type leaderConn struct {
	mu   sync.Mutex
	conn *kafka.Conn
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
	return &Publisher{
		cfg:    cfg,
		dialer: &kafka.Dialer{Timeout: dialTimeout},
		conns:  map[int]*leaderConn{},
	}, nil
}

// Publish writes one record and waits for its acknowledgement. A nil key
// spreads keyless records over the partitions at random.
func (p *Publisher) Publish(ctx context.Context, key, value []byte) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.timeout())
	defer cancel()
	var err error
	for attempt := 1; ; attempt++ {
		if err = p.publish(ctx, key, value); err == nil {
			return nil
		}
		if TooLarge(err) {
			return fmt.Errorf("%w: %v", ErrTooLarge, err)
		}
		if attempt == maxAttempts || ctx.Err() != nil {
			break
		}
		delay := min(backoffMin<<(attempt-1), backoffMax)
		t := time.NewTimer(delay/2 + rand.N(delay/2+1))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (last error: %v)", context.Cause(ctx), err)
	}
	return fmt.Errorf("%w: %v", ErrUnavailable, err)
}

// publish is one attempt. A failure forgets the connection and the
// partition leaders, so the next attempt looks them up again.
func (p *Publisher) publish(ctx context.Context, key, value []byte) error {
	ids, err := p.partitions(ctx)
	if err != nil {
		return err
	}
	msg := kafka.Message{Key: key, Value: value}
	partition := p.balancer.Balance(msg, ids...)
	lc := p.leaderConn(partition)
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.conn == nil {
		if lc.conn, err = p.dial(ctx, partition); err != nil {
			return err
		}
	}
	deadline, _ := ctx.Deadline() // Publish always sets one
	if err = lc.conn.SetDeadline(deadline); err == nil {
		_, err = lc.conn.WriteMessages(msg)
	}
	if err != nil {
		lc.conn.Close()
		lc.conn = nil
		p.forgetLeaders()
		return fmt.Errorf("produce to %s[%d]: %w", p.cfg.Topic, partition, err)
	}
	return nil
}

// partitions returns the topic's partition ids, looking the leaders up
// from the first bootstrap server that answers.
func (p *Publisher) partitions(ctx context.Context) ([]int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.leaders != nil {
		return p.ids, nil
	}
	var errs []error
	for _, b := range p.cfg.Brokers {
		parts, err := p.dialer.LookupPartitions(ctx, "tcp", b, p.cfg.Topic)
		if err == nil && len(parts) == 0 {
			err = fmt.Errorf("topic %s has no partitions", p.cfg.Topic)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("look up %s on %s: %w", p.cfg.Topic, b, err))
			continue
		}
		p.leaders = make(map[int]kafka.Partition, len(parts))
		p.ids = p.ids[:0]
		for _, part := range parts {
			p.leaders[part.ID] = part
			p.ids = append(p.ids, part.ID)
		}
		slices.Sort(p.ids)
		return p.ids, nil
	}
	return nil, errors.Join(errs...)
}

func (p *Publisher) forgetLeaders() {
	p.mu.Lock()
	p.leaders = nil
	p.mu.Unlock()
}

func (p *Publisher) leaderConn(partition int) *leaderConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	lc := p.conns[partition]
	if lc == nil {
		lc = &leaderConn{}
		p.conns[partition] = lc
	}
	return lc
}

// dial connects to the partition's leader, which acknowledges with acks=all.
func (p *Publisher) dial(ctx context.Context, partition int) (*kafka.Conn, error) {
	p.mu.Lock()
	leader, ok := p.leaders[partition]
	p.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("no leader known for %s[%d]", p.cfg.Topic, partition)
	}
	conn, err := p.dialer.DialPartition(ctx, "tcp", net.JoinHostPort(leader.Leader.Host, strconv.Itoa(leader.Leader.Port)), leader)
	if err != nil {
		return nil, fmt.Errorf("connect to the leader of %s[%d]: %w", p.cfg.Topic, partition, err)
	}
	if err := conn.SetRequiredAcks(int(kafka.RequireAll)); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// TooLarge reports whether err is Kafka's refusal of a record over the
// maximum record size.
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

// Close closes the connections.
func (p *Publisher) Close() error {
	p.mu.Lock()
	conns := p.conns
	p.conns = map[int]*leaderConn{}
	p.mu.Unlock()
	var errs []error
	for _, lc := range conns {
		lc.mu.Lock()
		if lc.conn != nil {
			errs = append(errs, lc.conn.Close())
			lc.conn = nil
		}
		lc.mu.Unlock()
	}
	return errors.Join(errs...)
}
