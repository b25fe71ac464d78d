package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/questlog/questlog/internal/kafkapub"
)

// Table is the inventory topic read into memory, one partition at a time,
// and kept current by reading only what was appended since the last read.
// It is safe for concurrent use.
type Table struct {
	brokers []string
	topic   string
	dialer  *kafka.Dialer
	writer  *kafka.Writer

	mu         sync.Mutex
	parts      map[int]*partition
	partitions int // of the topic, once read
	maxRecord  int // the topic's max.message.bytes, once read
}

type partition struct {
	mu     sync.Mutex // held while reading; guards the fields below
	next   int64      // next offset to read
	states map[string]State
}

// NewTable reads topic on brokers lazily.
func NewTable(brokers []string, topic string) *Table {
	return &Table{
		brokers: brokers,
		topic:   topic,
		dialer:  &kafka.Dialer{Timeout: 5 * time.Second},
		writer: &kafka.Writer{
			Addr:         kafka.TCP(brokers...),
			Topic:        topic,
			RequiredAcks: kafka.RequireAll,
			BatchTimeout: time.Millisecond,
			BatchSize:    10_000,
			// Each state goes to the partition its Message.Partition names:
			// the partition of its player, which Put computed.
			Balancer: kafka.BalancerFunc(func(m kafka.Message, _ ...int) int { return m.Partition }),
		},
		parts: map[int]*partition{},
	}
}

// Partitions returns the topic's partition count.
func Partitions(ctx context.Context, brokers []string, topic string) (int, error) {
	var lastErr error
	for _, b := range brokers {
		conn, err := (&kafka.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", b)
		if err != nil {
			lastErr = err
			continue
		}
		parts, err := conn.ReadPartitions(topic)
		conn.Close()
		if err != nil {
			return 0, fmt.Errorf("read partitions of %s: %w", topic, err)
		}
		return len(parts), nil
	}
	return 0, fmt.Errorf("reach kafka %v: %w", brokers, lastErr)
}

// Topic is the inventory topic's name.
func (t *Table) Topic() string { return t.topic }

// PartitionOf returns the partition of the inventory topic that holds a
// player's state, wherever the player's events are.
func (t *Table) PartitionOf(ctx context.Context, user string) (int, error) {
	t.mu.Lock()
	n := t.partitions
	t.mu.Unlock()
	if n == 0 {
		var err error
		if n, err = Partitions(ctx, t.brokers, t.topic); err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, fmt.Errorf("the inventory topic %s has no partitions: create it (cleanup.policy=compact)", t.topic)
		}
		t.mu.Lock()
		t.partitions = n
		t.mu.Unlock()
	}
	return PartitionOf(user, n), nil
}

// PartitionOf returns the partition of a player's records among n, as
// Kafka's default partitioner (and questlog's publisher) picks it.
func PartitionOf(user string, n int) int {
	ids := make([]int, n)
	for i := range ids {
		ids[i] = i
	}
	return kafka.Murmur2Balancer{Consistent: true}.Balance(kafka.Message{Key: []byte(user)}, ids...)
}

func (t *Table) part(p int) *partition {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.parts[p] == nil {
		t.parts[p] = &partition{states: map[string]State{}}
	}
	return t.parts[p]
}

// CatchUp reads partition p from where the last read stopped to its end
// as of now, so Get sees every state written before the call.
func (t *Table) CatchUp(ctx context.Context, p int) error {
	part := t.part(p)
	part.mu.Lock()
	defer part.mu.Unlock()
	return t.catchUp(ctx, p, part)
}

func (t *Table) catchUp(ctx context.Context, p int, part *partition) error {
	conn, err := t.dialLeader(ctx, p)
	if err != nil {
		return err
	}
	defer conn.Close()
	first, last, err := conn.ReadOffsets()
	if err != nil {
		return fmt.Errorf("read offsets of %s[%d]: %w", t.topic, p, err)
	}
	if part.next < first {
		part.next = first // the log was truncated; compaction keeps the latest anyway
	}
	for part.next < last {
		if deadline, ok := ctx.Deadline(); ok {
			conn.SetReadDeadline(deadline)
		} else {
			conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		}
		if _, err := conn.Seek(part.next, kafka.SeekAbsolute); err != nil {
			return fmt.Errorf("seek %s[%d] to %d: %w", t.topic, p, part.next, err)
		}
		batch := conn.ReadBatchWith(kafka.ReadBatchConfig{MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 100 * time.Millisecond})
		for {
			m, err := batch.ReadMessage()
			if err != nil {
				if cerr := batch.Close(); cerr != nil && !errors.Is(err, io.EOF) {
					return fmt.Errorf("read %s[%d] at %d: %w", t.topic, p, part.next, errors.Join(err, cerr))
				}
				break
			}
			part.next = m.Offset + 1
			if m.Value == nil { // a tombstone: the player's state was deleted
				delete(part.states, string(m.Key))
				continue
			}
			var s State
			if err := json.Unmarshal(m.Value, &s); err != nil {
				return fmt.Errorf("inventory record %s[%d]@%d is not a State: %w", t.topic, p, m.Offset, err)
			}
			part.states[string(m.Key)] = s
		}
	}
	return nil
}

func (t *Table) dialLeader(ctx context.Context, p int) (*kafka.Conn, error) {
	var lastErr error
	for _, b := range t.brokers {
		conn, err := t.dialer.DialLeader(ctx, "tcp", b, t.topic, p)
		if err == nil {
			return conn, nil
		}
		lastErr = err
		var netErr net.Error
		if !errors.As(err, &netErr) {
			break
		}
	}
	return nil, fmt.Errorf("connect to the leader of %s[%d]: %w", t.topic, p, lastErr)
}

// Get returns a player's state as last read from partition p.
func (t *Table) Get(p int, user string) (State, bool) {
	part := t.part(p)
	part.mu.Lock()
	defer part.mu.Unlock()
	s, ok := part.states[user]
	return s.Clone(), ok
}

// MaxRecordBytes returns the largest record batch the topic takes, its
// max.message.bytes, read once.
func (t *Table) MaxRecordBytes(ctx context.Context) (int, error) {
	t.mu.Lock()
	n := t.maxRecord
	t.mu.Unlock()
	if n > 0 {
		return n, nil
	}
	client := &kafka.Client{Addr: kafka.TCP(t.brokers...), Timeout: 5 * time.Second}
	resp, err := client.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: t.topic, ConfigNames: []string{"max.message.bytes"},
	}}})
	if err == nil && len(resp.Resources) == 1 {
		err = resp.Resources[0].Error
	}
	if err != nil {
		return 0, fmt.Errorf("read max.message.bytes of %s: %w", t.topic, err)
	}
	n = defaultMaxMessageBytes
	for _, c := range resp.Resources[0].ConfigEntries {
		if v, err := strconv.Atoi(c.ConfigValue); c.ConfigName == "max.message.bytes" && err == nil && v > 0 {
			n = v
		}
	}
	t.mu.Lock()
	t.maxRecord = n
	t.mu.Unlock()
	return n, nil
}

// defaultMaxMessageBytes is Kafka's default max.message.bytes.
const defaultMaxMessageBytes = 1048588

// StateLimit is the largest state record (see recordSize) the table
// writes: what the topic takes as a batch of its own, at most
// MaxStateBytes.
func (t *Table) StateLimit(ctx context.Context) (int, error) {
	n, err := t.MaxRecordBytes(ctx)
	return min(n, MaxStateBytes), err
}

// Put writes states, all of players in partition p, and waits until Kafka
// has them (acks=all); then Get returns them. Each write is a batch the
// topic's max.message.bytes takes; if Kafka still finds one too large (its
// configuration changed), the limit is read again on the next call.
func (t *Table) Put(ctx context.Context, p int, states []State) error {
	if len(states) == 0 {
		return nil
	}
	limit, err := t.MaxRecordBytes(ctx)
	if err != nil {
		return err
	}
	var msgs []kafka.Message
	size := batchOverhead
	flush := func() error {
		if len(msgs) == 0 {
			return nil
		}
		if err := t.writer.WriteMessages(ctx, msgs...); err != nil {
			if kafkapub.TooLarge(err) {
				t.mu.Lock()
				t.maxRecord = 0
				t.mu.Unlock()
			}
			return fmt.Errorf("write %d inventory states to %s[%d]: %w", len(msgs), t.topic, p, err)
		}
		msgs, size = msgs[:0], batchOverhead
		return nil
	}
	for _, s := range states {
		value, err := json.Marshal(s)
		if err != nil {
			return err
		}
		n := recordOverhead + len(s.UserName) + len(value)
		if size+n > limit {
			if err := flush(); err != nil {
				return err
			}
		}
		msgs = append(msgs, kafka.Message{Key: []byte(s.UserName), Value: value, Partition: p})
		size += n
	}
	if err := flush(); err != nil {
		return err
	}
	part := t.part(p)
	part.mu.Lock()
	defer part.mu.Unlock()
	for _, s := range states {
		part.states[s.UserName] = s.Clone()
	}
	return nil
}

// Close releases the writer's connections.
func (t *Table) Close() error { return t.writer.Close() }
