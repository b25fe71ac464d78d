package emulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"sync"

	"github.com/questlog/questlog/local/netns"
)

// openNetwork creates the functions' network namespace when cfg asks for
// isolation; nil otherwise.
func openNetwork(cfg Config) (*netns.Network, error) {
	if cfg.Isolation == nil {
		return nil, nil
	}
	n, err := netns.New(*cfg.Isolation)
	if err != nil {
		return nil, fmt.Errorf("isolate the functions' network: %w (run as root, or without --isolate-network)", err)
	}
	cfg.Logger.Info("functions run in their own network namespace", "gateway", n.Gateway.String(), "link", n.Link)
	return n, nil
}

// warnAdvertising points out listen and advertise hosts that do not go
// together: every interface but 127.0.0.1 advertised (clients elsewhere
// are sent back to themselves), or one address advertised and another
// listened on.
func warnAdvertising(cfg Config, network *netns.Network) {
	host, _, _ := net.SplitHostPort(cfg.KafkaAddr)
	switch {
	case unspecified(host) && cfg.AdvertiseHost == "" && network == nil:
		cfg.Logger.Warn("Kafka and HDFS listen on every interface but tell clients to use 127.0.0.1; " +
			"for containers or other machines give --advertise-host an address they reach")
	case !unspecified(host) && cfg.AdvertiseHost != "" && cfg.AdvertiseHost != host &&
		(network == nil || cfg.AdvertiseHost != network.Gateway.String()):
		cfg.Logger.Warn("Kafka and HDFS advertise one address and listen on another: clients will not reach them; "+
			"listen with --host 0.0.0.0 or --host set to the advertised address", "listen", host, "advertise", cfg.AdvertiseHost)
	}
}

// warnLoopback points out the services isolated functions cannot reach:
// those at a loopback address, the namespace's own.
func warnLoopback(log *slog.Logger, brokers []string, datasetRoot string) {
	addrs := slices.Clone(brokers)
	if u, err := url.Parse(datasetRoot); err == nil && u.Scheme == "hdfs" {
		addrs = append(addrs, u.Host)
	}
	for _, addr := range addrs {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			log.Warn("the functions run in their own network, where this address is not this machine: they will not reach it", "addr", addr)
		}
	}
}

// checkAdvertiseHost refuses a host:port or a URL where a host belongs.
func checkAdvertiseHost(host string) error {
	if host == "" || net.ParseIP(host) != nil {
		return nil
	}
	if _, _, err := net.SplitHostPort(host); err == nil || !validHostname(host) {
		return fmt.Errorf("advertise host %q: give a host name or an IP address, without port or scheme", host)
	}
	return nil
}

func validHostname(h string) bool {
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return h != ""
}

// unspecified reports whether host means every interface.
func unspecified(host string) bool {
	ip := net.ParseIP(host)
	return host == "" || ip != nil && ip.IsUnspecified()
}

// advertised is the host that clients and functions are given for a
// service listening on addr: --advertise-host, else the namespace's
// gateway, else the listen host (127.0.0.1 for every interface).
func advertised(cfg *Config, network *netns.Network, addr string) string {
	if cfg.AdvertiseHost != "" {
		return cfg.AdvertiseHost
	}
	if network != nil {
		return network.Gateway.String()
	}
	host, _, _ := net.SplitHostPort(addr)
	if unspecified(host) {
		return "127.0.0.1"
	}
	return host
}

// reachableURL is how a user reaches a listener: its address, or for every
// interface the advertised host (127.0.0.1 by default).
func reachableURL(cfg *Config, ln net.Listener) string {
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if unspecified(host) {
		host = advertised(cfg, nil, ln.Addr().String())
	}
	return "http://" + net.JoinHostPort(host, port)
}

// listenFor returns how a function-facing service (Kafka, HDFS) listens:
// on its address and, when the functions are isolated and that address
// does not already cover it, on the namespace's gateway with the same port.
func listenFor(network *netns.Network) func(ctx context.Context, netw, addr string) (net.Listener, error) {
	return func(ctx context.Context, netw, addr string) (net.Listener, error) {
		var lc net.ListenConfig
		ln, err := lc.Listen(ctx, netw, addr)
		if err != nil || network == nil {
			return ln, err
		}
		host, _, _ := net.SplitHostPort(addr)
		if unspecified(host) || host == network.Gateway.String() {
			return ln, nil
		}
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		gw, err := lc.Listen(ctx, netw, net.JoinHostPort(network.Gateway.String(), port))
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("listen on the functions' gateway too: %w", err)
		}
		return newMultiListener(ln, gw), nil
	}
}

// multiListener accepts on several listeners as one; Addr is the first's.
type multiListener struct {
	lns      []net.Listener
	accepted chan accepted
	closed   chan struct{}
	once     sync.Once
}

type accepted struct {
	conn net.Conn
	err  error
}

func newMultiListener(lns ...net.Listener) *multiListener {
	m := &multiListener{lns: lns, accepted: make(chan accepted), closed: make(chan struct{})}
	for _, ln := range lns {
		go m.accept(ln)
	}
	return m
}

// accept hands over ln's connections and errors (a full file table, say)
// until ln is closed.
func (m *multiListener) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			m.Close()
			return
		}
		select {
		case m.accepted <- accepted{c, err}:
		case <-m.closed:
			if c != nil {
				c.Close()
			}
			return
		}
	}
}

func (m *multiListener) Accept() (net.Conn, error) {
	select {
	case a := <-m.accepted:
		return a.conn, a.err
	case <-m.closed:
		return nil, net.ErrClosed
	}
}

func (m *multiListener) Close() error {
	var errs []error
	m.once.Do(func() {
		close(m.closed)
		for _, ln := range m.lns {
			errs = append(errs, ln.Close())
		}
	})
	return errors.Join(errs...)
}

func (m *multiListener) Addr() net.Addr { return m.lns[0].Addr() }
