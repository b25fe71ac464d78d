package netns_test

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/questlog/questlog/local/netns"
	"github.com/questlog/questlog/local/netns/netnstest"
)

// helperEnv makes the test binary a dialer: run inside a namespace, it
// reports which of its arguments (host:port) it could connect to.
const helperEnv = "NETNS_TEST_DIAL"

// holderEnv makes the test binary create a Network, print its link and
// wait to be killed.
const holderEnv = "NETNS_TEST_HOLD"

func TestMain(m *testing.M) {
	if os.Getenv(holderEnv) != "" {
		n, err := netns.New(netnstest.Options)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		sleeper := exec.Command("sleep", "60")
		sleeper.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // as the emulator starts functions
		if err := n.Start(sleeper); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println(n.Link)
		select {}
	}
	if os.Getenv(helperEnv) != "" {
		for _, addr := range os.Args[1:] {
			c, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err != nil {
				fmt.Printf("%s unreachable\n", addr)
				continue
			}
			c.Close()
			fmt.Printf("%s reachable\n", addr)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func listen(t *testing.T, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	acceptAll(t, ln)
	return ln
}

// acceptAll accepts and closes connections until the test ends.
func acceptAll(t *testing.T, ln net.Listener) {
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
}

// runInside runs cmd in n and returns its output.
func runInside(t *testing.T, n *netns.Network, cmd *exec.Cmd) string {
	t.Helper()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := n.Start(cmd); err != nil {
		t.Fatalf("Start %s: %v", cmd.Path, err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd.Path, err, out.String())
	}
	return out.String()
}

func dialInside(t *testing.T, n *netns.Network, addrs ...string) map[string]string {
	t.Helper()
	cmd := exec.Command(os.Args[0], addrs...)
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(runInside(t, n, cmd)), "\n") {
		addr, state, _ := strings.Cut(line, " ")
		got[addr] = state
	}
	return got
}

// Inside the namespace the host's loopback is out of reach and the
// gateway is the way to the host, as in a container; the namespace has a
// loopback of its own, which Listen serves.
func TestProcessesInsideSeeTheHostOnlyThroughTheGateway(t *testing.T) {
	n := netnstest.New(t)
	onLoopback := listen(t, "127.0.0.1:0").Addr().String()
	onGateway := listen(t, n.Gateway.String()+":0").Addr().String()
	inner, err := n.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen inside: %v", err)
	}
	acceptAll(t, inner)

	got := dialInside(t, n, onLoopback, onGateway, inner.Addr().String())
	want := map[string]string{onLoopback: "unreachable", onGateway: "reachable", inner.Addr().String(): "reachable"}
	for addr, state := range want {
		if got[addr] != state {
			t.Errorf("from inside, %s is %q, want %s (all: %v)", addr, got[addr], state, got)
		}
	}

	addrs := runInside(t, n, exec.Command("ip", "-br", "-4", "addr"))
	if !strings.Contains(addrs, "eth0") || !strings.Contains(addrs, n.Addr.String()+"/30") || strings.Contains(addrs, n.Gateway.String()) {
		t.Errorf("inside, ip addr shows:\n%s\nwant eth0 with %s/30 and not the host's %s", addrs, n.Addr, n.Gateway)
	}
	if !netip.PrefixFrom(n.Gateway, 30).Masked().Contains(n.Addr) || !netns.DefaultPool.Contains(n.Gateway) {
		t.Errorf("gateway %s and address %s are not one /30 of %s", n.Gateway, n.Addr, netns.DefaultPool)
	}

	sleeper := exec.Command("sleep", "5")
	if err := n.Start(sleeper); err != nil {
		t.Fatal(err)
	}
	defer func() { sleeper.Process.Kill(); sleeper.Wait() }()
	theirs, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", sleeper.Process.Pid))
	ours, _ := os.Readlink("/proc/self/ns/net") // the main thread's
	if mine, _ := os.Readlink("/proc/thread-self/ns/net"); mine != ours {
		t.Errorf("this thread is in %s, the main thread in %s: only the Network's own thread may move", mine, ours)
	}
	if theirs == "" || theirs == ours {
		t.Errorf("a started process is in network namespace %q, ours is %q", theirs, ours)
	}
}

func TestConcurrentNetworksGetTheirOwnSubnets(t *testing.T) {
	const count = 4
	nets := make([]*netns.Network, count)
	var wg sync.WaitGroup
	for i := range nets {
		wg.Go(func() { nets[i] = netnstest.New(t) })
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, n := range nets {
		if n == nil {
			t.FailNow()
		}
		if seen[n.Link] || seen[n.Gateway.String()] {
			t.Errorf("%s / %s handed out twice", n.Link, n.Gateway)
		}
		seen[n.Link], seen[n.Gateway.String()] = true, true
		if !strings.HasPrefix(n.Link, netnstest.Options.NamePrefix) {
			t.Errorf("link %s lacks the prefix %s", n.Link, netnstest.Options.NamePrefix)
		}
	}
}

func TestCloseDeletesTheLink(t *testing.T) {
	n := netnstest.New(t)
	if out, err := exec.Command("ip", "link", "show", n.Link).CombinedOutput(); err != nil {
		t.Fatalf("ip link show %s while open: %v\n%s", n.Link, err, out)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ip", "link", "show", n.Link).CombinedOutput(); err == nil {
		t.Errorf("%s still exists after Close:\n%s", n.Link, out)
	}
	if err := n.Start(exec.Command("true")); err == nil {
		t.Error("Start after Close succeeded")
	}
}

// A process killed with SIGKILL cannot clean up: its namespace and veth
// pair go anyway, with its last thread and the processes started in it
// (which die with the thread that started them, through Pdeathsig).
func TestKilledOwnerLeavesNothing(t *testing.T) {
	netnstest.Require(t)
	holder := exec.Command(os.Args[0])
	holder.Env = append(os.Environ(), holderEnv+"=1")
	holder.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	link := strings.TrimSpace(line)
	if err != nil || !strings.HasPrefix(link, netnstest.Options.NamePrefix) {
		holder.Process.Kill()
		holder.Wait()
		t.Fatalf("the holder said %q (%v)", line, err)
	}
	holder.Process.Kill()
	holder.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command("ip", "link", "show", link).Run() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("%s still exists 10 s after its owner was killed", link)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestOptionsAreChecked(t *testing.T) {
	for _, o := range []netns.Options{
		{NamePrefix: "much-too-long-"},
		{Pool: netip.MustParsePrefix("fd00::/64")},
		{Pool: netip.MustParsePrefix("10.0.0.0/31")},
	} {
		n, err := netns.New(o)
		if err == nil {
			n.Close()
			t.Errorf("New(%+v) succeeded", o)
		} else if !strings.Contains(err.Error(), "netns: ") || strings.Contains(err.Error(), "root") {
			t.Errorf("New(%+v): %v, want the options refused", o, err)
		}
	}
}

// BenchmarkNew measures creating and closing a Network, each reported
// on its own: what a namespace per execution environment would add to
// every cold start and every retirement. The baseline, in the same run,
// starts and reaps a trivial process on the host.
//
//	go test ./local/netns -run '^$' -bench New -benchtime 50x
func BenchmarkNew(b *testing.B) {
	netnstest.Require(b)
	var creating, closing, baseline time.Duration
	for range b.N {
		start := time.Now()
		if err := exec.Command("true").Run(); err != nil {
			b.Fatal(err)
		}
		baseline += time.Since(start)

		start = time.Now()
		n, err := netns.New(netnstest.Options)
		if err != nil {
			b.Fatal(err)
		}
		creating += time.Since(start)
		start = time.Now()
		if err := n.Close(); err != nil {
			b.Fatal(err)
		}
		closing += time.Since(start)
	}
	per := func(d time.Duration) float64 { return float64(d) / float64(b.N) / float64(time.Millisecond) }
	b.ReportMetric(per(creating), "new-ms")
	b.ReportMetric(per(closing), "close-ms")
	b.ReportMetric(per(baseline), "baseline-start-true-ms")
}
