package esm

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/questlog/questlog/internal/kafkaconf"
)

// Starting positions (Mapping.StartingPosition).
const (
	// TrimHorizon starts at the oldest retained record.
	TrimHorizon = "TRIM_HORIZON"
	// Latest starts just after the newest record when the position is
	// resolved; records produced before are not delivered.
	Latest = "LATEST"
	// AtTimestamp starts at the first record whose timestamp is at or after
	// StartingPositionTimestamp.
	AtTimestamp = "AT_TIMESTAMP"
)

// Limits and defaults, as documented for Lambda's Kafka event sources.
const (
	DefaultBatchSize      = 100
	MaxBatchSize          = 10000
	DefaultBatchingWindow = 500 * time.Millisecond
	MaxBatchingWindow     = 300 * time.Second
	// NoBatchingWindow, as Mapping.BatchingWindow, invokes as soon as
	// records are available (MaximumBatchingWindowInSeconds: 0). Any
	// negative duration means the same.
	NoBatchingWindow time.Duration = -1
	// MaxFilters is the maximum number of FilterCriteria filters.
	MaxFilters = 5

	// EventSource is the eventSource field of a self-managed Kafka event.
	EventSource = "SelfManagedKafka"
)

// Mapping is one Kafka event source mapping: a function triggered by a topic.
type Mapping struct {
	// Function is the function to invoke (its logical ID in template.yaml).
	Function string

	// Brokers are the bootstrap servers (host:port). They are also sent to
	// the function, comma-joined, as bootstrapServers.
	Brokers []string

	// Topic is the topic to consume (Lambda accepts exactly one).
	Topic string

	// ConsumerGroupID is the template's ConsumerGroupId. Default: a stable
	// id derived from Function and Topic; see GroupID.
	ConsumerGroupID string

	// StartingPosition is TRIM_HORIZON, LATEST or AT_TIMESTAMP, used only
	// when the consumer group has no committed offsets for the topic. AWS
	// requires it; the emulator defaults to TRIM_HORIZON so that nothing
	// produced locally is missed.
	StartingPosition string

	// StartingPositionTimestamp is required with AT_TIMESTAMP and must be
	// zero otherwise.
	StartingPositionTimestamp time.Time

	// BatchSize is the maximum number of records per invocation, 1 to
	// 10000. Default: 100.
	BatchSize int

	// BatchingWindow is the longest a batch waits for more records after its
	// first one (MaximumBatchingWindowInSeconds), at most 300 s. Default:
	// 500ms; NoBatchingWindow (or any negative value) means no wait.
	BatchingWindow time.Duration

	// FilterPatterns are the FilterCriteria.Filters[].Pattern JSON strings,
	// at most 5; a record is delivered if it matches any of them. Default:
	// none, every record is delivered.
	FilterPatterns []string
}

// GroupID returns the consumer group the mapping consumes in: the
// ConsumerGroupID when set, otherwise
//
//	"lambda-esm-<Function>-<Topic>-<h>"
//
// where h is the first 8 bytes, in hex, of SHA-256(Function + "\x00" +
// Topic). The id is stable across restarts, unique per function and topic
// (the hash disambiguates names containing '-'), and readable in tools such
// as kcat -L or kafka-consumer-groups. AWS names the group after the
// mapping's UUID instead; a stable derived id is the emulator's equivalent.
func (m Mapping) GroupID() string {
	if m.ConsumerGroupID != "" {
		return m.ConsumerGroupID
	}
	sum := sha256.Sum256([]byte(m.Function + "\x00" + m.Topic))
	return "lambda-esm-" + m.Function + "-" + m.Topic + "-" + hex.EncodeToString(sum[:8])
}

func (m Mapping) batchSize() int {
	if m.BatchSize > 0 {
		return m.BatchSize
	}
	return DefaultBatchSize
}

// batchingWindow returns the window to apply; 0 means no window.
func (m Mapping) batchingWindow() time.Duration {
	switch {
	case m.BatchingWindow == 0:
		return DefaultBatchingWindow
	case m.BatchingWindow < 0:
		return 0
	}
	return m.BatchingWindow
}

func (m Mapping) startingPosition() string {
	if m.StartingPosition == "" {
		return TrimHorizon
	}
	return m.StartingPosition
}

func (m Mapping) bootstrapServers() string { return strings.Join(m.Brokers, ",") }

// Validate reports every problem with the mapping, joined; nil when valid.
func (m Mapping) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if m.Function == "" {
		add("function is required")
	}
	if len(m.Brokers) == 0 {
		add("at least one broker is required")
	}
	for _, b := range m.Brokers {
		if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
			add("broker %q is not host:port", b)
		}
	}
	if err := kafkaconf.ValidateTopic(m.Topic); err != nil {
		add("%w", err)
	}
	switch m.startingPosition() {
	case TrimHorizon, Latest:
		if !m.StartingPositionTimestamp.IsZero() {
			add("starting position timestamp is only allowed with %s", AtTimestamp)
		}
	case AtTimestamp:
		if m.StartingPositionTimestamp.IsZero() {
			add("starting position %s needs a starting position timestamp", AtTimestamp)
		}
	default:
		add("starting position %q is not %s, %s or %s", m.StartingPosition, TrimHorizon, Latest, AtTimestamp)
	}
	if m.BatchSize < 0 || m.BatchSize > MaxBatchSize {
		add("batch size %d is out of range 1..%d", m.BatchSize, MaxBatchSize)
	}
	if m.BatchingWindow > MaxBatchingWindow {
		add("batching window %s exceeds the maximum %s", m.BatchingWindow, MaxBatchingWindow)
	}
	if _, err := compileFilters(m.FilterPatterns); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("esm: invalid mapping for function %q topic %q: %w", m.Function, m.Topic, errors.Join(errs...))
}
