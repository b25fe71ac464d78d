package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/questlog/questlog/local/emulator"
	"github.com/questlog/questlog/local/invoke"
	"github.com/questlog/questlog/local/netns"
	"github.com/questlog/questlog/local/netns/netnstest"
)

// lockedBuffer collects function logs written from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The functions run in a network namespace of their own, where 127.0.0.1
// is not the host, as in a SAM CLI container or on AWS. Told the
// namespace's gateway (what --advertise-host does), an API function
// publishes through the Runtime API to Kafka and a filter job lands
// Parquet through the NameNode and the DataNode. Told 127.0.0.1, as the
// emulator always told them before --advertise-host, the same run fails:
// the publish answers 503 and the job cannot open its dataset store.
func TestFunctionsInANetworkNamespace(t *testing.T) {
	netnstest.Require(t)
	functions := []string{"ApiPurchaseSwordFunction", "SwordPurchasesFilter"}
	ours, _ := os.Readlink("/proc/self/ns/net")

	t.Run("advertising the gateway", func(t *testing.T) {
		cfg := config(t)
		cfg.Isolation, cfg.Functions = &netnstest.Options, functions
		e := start(t, cfg, emulator.Serve{API: true, Mappings: true})
		host, _, _ := net.SplitHostPort(e.Brokers[0])
		if !netns.DefaultPool.Contains(mustAddr(t, host)) {
			t.Fatalf("brokers %v: want the namespace's gateway, in %s", e.Brokers, netns.DefaultPool)
		}
		if !strings.Contains(e.DatasetRoot, "//"+host+":") {
			t.Errorf("DatasetRoot %s does not name the gateway %s", e.DatasetRoot, host)
		}

		if r := request(t, "GET", e.APIURL+"/purchase_a_sword/divya", ""); r.status != 200 {
			t.Fatalf("GET /purchase_a_sword/divya = %d %s", r.status, r.body)
		}
		for _, fn := range functions {
			for _, pid := range e.Runtime.PIDs(fn) {
				if theirs, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid)); theirs == ours {
					t.Errorf("%s (pid %d) runs in the test's network namespace", fn, pid)
				}
			}
		}
		got := waitRows(t, openStore(t, e.DatasetRoot), "sword_purchases_hits", 1, time.Minute)
		if got[0].UserName != "divya" {
			t.Errorf("landed %+v", got[0])
		}
	})

	t.Run("advertising 127.0.0.1", func(t *testing.T) {
		cfg := config(t)
		logs := &lockedBuffer{}
		cfg.Isolation, cfg.Functions, cfg.AdvertiseHost, cfg.FunctionLogs = &netnstest.Options, functions, "127.0.0.1", logs
		e := start(t, cfg, emulator.Serve{API: true})
		batch, err := os.ReadFile(projectDir() + "/events/kafka-event.json")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var wg sync.WaitGroup
		var res *invoke.Result
		wg.Go(func() {
			res, err = e.Runtime.Invoke(ctx, invoke.Request{Function: "SwordPurchasesFilter", Payload: batch})
		})
		published := request(t, "GET", e.APIURL+"/purchase_a_sword/divya", "")
		wg.Wait()
		if published.status != 503 {
			t.Errorf("publishing to Kafka at 127.0.0.1 from the namespace answered %d %s, want 503", published.status, published.body)
		}
		if err != nil || res.Error == nil {
			t.Errorf("the filter job with HDFS at 127.0.0.1 succeeded from the namespace: %v %+v", err, res)
		}
		if out := logs.String(); !strings.Contains(out, "open the dataset store") || !strings.Contains(out, "127.0.0.1") {
			t.Errorf("the job's log does not say it could not reach its store at 127.0.0.1:\n%s", out)
		}
	})
}

func mustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
