//go:build linux

package netns

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Available reports why New cannot work here, or nil.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("network namespaces need root (CAP_SYS_ADMIN and CAP_NET_ADMIN)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("network namespaces need the ip command (apt-get install iproute2)")
	}
	return nil
}

// Network is a network namespace joined to the host by a veth pair.
type Network struct {
	// Gateway is the host's end of the pair: the address processes inside
	// use to reach services on the host.
	Gateway netip.Addr
	// Addr is the namespace's end, its eth0.
	Addr netip.Addr
	// Link is the name of the host's end of the pair.
	Link string

	tid   int         // the thread that lives in the namespace
	calls chan func() // run on that thread

	mu     sync.Mutex
	closed bool
	exited chan struct{} // the thread is gone
}

// seq spreads the Networks of one process over the pool.
var seq atomic.Uint32

// probes is how many subnets New tries before giving up.
const probes = 64

// New creates a namespace and its veth pair, with a subnet from the pool.
func New(opts Options) (*Network, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := Available(); err != nil {
		return nil, err
	}
	n := &Network{calls: make(chan func()), exited: make(chan struct{})}
	started := make(chan error, 1)
	go n.thread(started)
	if err := <-started; err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			n.Close()
		}
	}()
	subnets := opts.subnets()
	first := (os.Getpid()*probes + int(seq.Add(1))) % subnets
	var taken []string
	for i := range min(probes, subnets) {
		idx := (first + i) % subnets
		subnet, gw, addr := opts.subnet(idx)
		if hostUses(subnet) {
			continue
		}
		link := opts.NamePrefix + strconv.Itoa(idx)
		out, err := ip(nil, "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", strconv.Itoa(n.tid))
		if err != nil && strings.Contains(out, "File exists") {
			taken = append(taken, link)
			continue // another Network holds this subnet
		}
		if err != nil {
			return nil, fmt.Errorf("netns: create veth pair %s: %w: %s", link, err, out)
		}
		n.Gateway, n.Addr, n.Link = gw, addr, link
		break
	}
	if n.Link == "" {
		return nil, fmt.Errorf("netns: no free /30 in %s after %d tries (taken: %s)", opts.Pool, probes, strings.Join(taken, " "))
	}
	inside := fmt.Sprintf("link set lo up\naddr add %s/30 dev eth0\nlink set eth0 up\nroute add default via %s\n", n.Addr, n.Gateway)
	if err := n.do(func() error { return ipBatch(inside) }); err != nil {
		return nil, fmt.Errorf("netns: configure the namespace: %w", err)
	}
	if err := ipBatch(fmt.Sprintf("addr add %s/30 dev %s\nlink set %s up\n", n.Gateway, n.Link, n.Link)); err != nil {
		return nil, fmt.Errorf("netns: configure %s: %w", n.Link, err)
	}
	ok = true
	return n, nil
}

// thread moves its OS thread into a new network namespace and runs calls
// on it until Close.
func (n *Network) thread(started chan<- error) {
	// Never unlocked: the thread leaves the host's namespace for good, so it
	// must end with this goroutine instead of going back to the scheduler.
	runtime.LockOSThread()
	if unix.Gettid() == unix.Getpid() {
		// The runtime parks the main thread forever instead of ending it,
		// namespace and all: hand over to a goroutine that cannot run on
		// this thread while it is locked here.
		handedOver := make(chan error, 1)
		go n.thread(handedOver)
		err := <-handedOver
		runtime.UnlockOSThread()
		started <- err
		return
	}
	defer close(n.exited)
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		started <- fmt.Errorf("netns: unshare the network namespace: %w", err)
		return
	}
	n.tid = unix.Gettid()
	started <- nil
	for call := range n.calls {
		call()
	}
}

// do runs f on the namespace's thread.
func (n *Network) do(f func() error) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errors.New("netns: network closed")
	}
	var err error
	done := make(chan struct{})
	n.calls <- func() { err = f(); close(done) }
	<-done
	return err
}

// Start starts cmd inside the namespace (cmd.Start). The process keeps the
// namespace alive until it exits; a Pdeathsig in cmd.SysProcAttr fires when
// the Network is closed.
func (n *Network) Start(cmd *exec.Cmd) error {
	return n.do(cmd.Start)
}

// Listen opens a listener inside the namespace, e.g. on its own loopback.
func (n *Network) Listen(network, address string) (net.Listener, error) {
	var ln net.Listener
	err := n.do(func() (err error) {
		ln, err = net.Listen(network, address)
		return err
	})
	return ln, err
}

// Close deletes the veth pair and ends the namespace's thread. The
// namespace itself goes when the last process started in it has exited.
func (n *Network) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	close(n.calls)
	n.mu.Unlock()
	<-n.exited
	if n.Link == "" {
		return nil
	}
	if out, err := ip(nil, "link", "del", n.Link); err != nil && !strings.Contains(out, "Cannot find device") {
		return fmt.Errorf("netns: delete %s: %w: %s", n.Link, err, out)
	}
	return nil
}

// ip runs the ip command, from the calling thread's namespace.
func ip(stdin []byte, args ...string) (string, error) {
	cmd := exec.Command("ip", args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// ipBatch runs several ip commands in one process.
func ipBatch(commands string) error {
	if out, err := ip([]byte(commands), "-batch", "-"); err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

// hostUses reports whether an interface of the host has an address in
// subnet (a network that is not ours, or a leftover).
func hostUses(subnet netip.Prefix) bool {
	ifAddrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range ifAddrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if addr, ok := netip.AddrFromSlice(ipn.IP); ok && subnet.Contains(addr.Unmap()) {
				return true
			}
		}
	}
	return false
}
