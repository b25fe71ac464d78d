// Package kafka runs the emulator's embedded Kafka broker: a thin wrapper over
// kfake (github.com/twmb/franz-go/pkg/kfake), a broker written in Go that
// speaks the real Kafka wire protocol, so the Lambda functions
// (segmentio/kafka-go), the rest of the emulator (franz-go: event source
// mappings, replay, loadgen, generate-event) and tools such as kcat all talk
// to it as they would to a real cluster.
//
// The broker is one node. Its topics are created explicitly through the
// CreateTopics API when it starts (see EnsureTopics); metadata requests never
// create topics. This matters for durability: kfake persists a topic created
// by CreateTopics at once, whereas a topic auto-created by a metadata request
// is not written to its topic list and is forgotten after a crash (kill -9),
// orphaning its data.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/questlog/questlog/local/internal/kafkalog"
)

// Defaults applied by Start.
const (
	// DefaultAddr is where the broker listens when Config.Addr is empty.
	DefaultAddr = "127.0.0.1:9092"
	// DefaultPartitions is the partition count of topics created without
	// one when Config.DefaultPartitions is zero.
	DefaultPartitions = 3
)

// Topic is a topic to create.
type Topic struct {
	Name string
	// Partitions is the partition count. Zero or less means the broker's
	// default (Config.DefaultPartitions for the embedded broker,
	// num.partitions for a real cluster).
	Partitions int
	// Configs are topic configs set at creation, e.g. cleanup.policy=compact.
	Configs map[string]string
}

// Config configures the embedded broker.
type Config struct {
	// Addr is the host:port to listen on. Port 0 picks a free port (tests).
	// An empty host or 0.0.0.0 / [::] listens on every interface.
	// Default: 127.0.0.1:9092.
	Addr string

	// AdvertisedHost is the host the broker tells clients to connect to in
	// metadata responses. Default: the host of Addr, or 127.0.0.1 when Addr
	// listens on every interface (set it to a reachable name or address if
	// clients on other machines or containers must connect).
	AdvertisedHost string

	// DataDir is where the broker persists its log segments, topics and
	// consumer-group offsets; a broker started again on the same directory
	// carries on where the last one stopped. Default: empty, meaning
	// everything is kept in memory and lost on Close.
	DataDir string

	// SyncWrites fsyncs every produced batch before acknowledging it.
	// Without it an acknowledged record survives a process crash (it is in
	// the page cache) but not necessarily a machine crash. Default: false.
	SyncWrites bool

	// Topics are created at start (idempotently: existing topics are kept
	// as they are).
	Topics []Topic

	// DefaultPartitions is the partition count used for Topics without
	// one and for CreateTopics requests that ask for the broker default.
	// Default: 3 (DefaultPartitions).
	DefaultPartitions int

	// Logger receives the broker's logs: kfake errors and warnings at the
	// same level, its per-request info logs at DEBUG. Default: discard.
	Logger *slog.Logger

	// Listen binds the broker's listener, e.g. on more than one address.
	// Default: net.Listen.
	Listen func(network, address string) (net.Listener, error)
}

func (c Config) addr() string {
	if c.Addr == "" {
		return DefaultAddr
	}
	return c.Addr
}

func (c Config) listen() func(network, address string) (net.Listener, error) {
	if c.Listen != nil {
		return c.Listen
	}
	return net.Listen
}

func (c Config) defaultPartitions() int {
	if c.DefaultPartitions > 0 {
		return c.DefaultPartitions
	}
	return DefaultPartitions
}

func (c Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// Broker is a running embedded broker.
type Broker struct {
	cluster *kfake.Cluster
	addrs   []string
	log     *slog.Logger
}

// Start starts the broker on cfg.Addr, reloading cfg.DataDir if it holds a
// previous broker's state, and creates cfg.Topics through the CreateTopics
// API. ctx bounds the topic creation only; the broker runs until Close.
func Start(ctx context.Context, cfg Config) (*Broker, error) {
	host, portStr, err := net.SplitHostPort(cfg.addr())
	if err != nil {
		return nil, fmt.Errorf("kafka: invalid addr %q: %w", cfg.addr(), err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("kafka: invalid port in addr %q", cfg.addr())
	}
	log := cfg.logger()

	opts := []kfake.Opt{
		// One broker on exactly this port (port 0: a free one).
		kfake.Ports(port),
		kfake.DefaultNumPartitions(cfg.defaultPartitions()),
		kfake.WithLogger(kafkalog.Broker(log)),
		// kfake always asks to listen on 127.0.0.1:<port>; we listen on
		// the configured host instead and advertise a reachable host.
		kfake.ListenFn(listenFn(cfg.listen(), host, cfg.AdvertisedHost)),
		// AllowAutoTopicCreation is deliberately not set: a metadata
		// request for an unknown topic answers UNKNOWN_TOPIC_OR_PARTITION
		// instead of creating a topic kfake would not persist.
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
		if cfg.SyncWrites {
			opts = append(opts, kfake.SyncWrites())
		}
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka: start broker on %s: %w", cfg.addr(), err)
	}
	b := &Broker{cluster: c, addrs: c.ListenAddrs(), log: log}

	topics := make([]Topic, len(cfg.Topics))
	for i, t := range cfg.Topics {
		if t.Partitions <= 0 {
			t.Partitions = cfg.defaultPartitions()
		}
		topics[i] = t
	}
	if err := EnsureTopics(ctx, b.addrs, topics); err != nil {
		c.Close()
		return nil, err
	}
	log.Info("kafka broker started", "addrs", b.addrs, "data_dir", cfg.DataDir, "topics", len(topics))
	return b, nil
}

// Addrs returns the host:port addresses clients bootstrap from.
func (b *Broker) Addrs() []string { return append([]string(nil), b.addrs...) }

// Close stops the broker. With a DataDir, it first writes its state so that
// the next Start resumes exactly; it is safe to call Close more than once.
func (b *Broker) Close() {
	b.cluster.Close()
	b.log.Info("kafka broker stopped", "addrs", b.addrs)
}

// listenFn returns a kfake.ListenFn that replaces kfake's fixed 127.0.0.1
// with host, and reports advertised (or a reachable default) as the
// listener's address, which kfake uses in metadata responses.
func listenFn(listen func(network, address string) (net.Listener, error), host, advertised string) func(network, address string) (net.Listener, error) {
	return func(network, address string) (net.Listener, error) {
		_, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		ln, err := listen(network, net.JoinHostPort(host, port))
		if err != nil {
			return nil, err
		}
		adv := advertised
		if adv == "" {
			if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
				adv = "127.0.0.1"
			}
		}
		if adv == "" {
			return ln, nil
		}
		tcp, ok := ln.Addr().(*net.TCPAddr)
		if !ok {
			ln.Close()
			return nil, errors.New("kafka: listener is not TCP")
		}
		return advertisedListener{ln, advAddr{net.JoinHostPort(adv, strconv.Itoa(tcp.Port))}}, nil
	}
}

type advertisedListener struct {
	net.Listener
	addr net.Addr
}

func (l advertisedListener) Addr() net.Addr { return l.addr }

type advAddr struct{ hostport string }

func (advAddr) Network() string  { return "tcp" }
func (a advAddr) String() string { return a.hostport }
