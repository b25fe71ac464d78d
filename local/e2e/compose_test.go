package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// compose.yaml cannot run here (no Docker engine), so this checks what the
// README relies on: only loopback ports, named volumes, fixed cluster ids,
// a named network, and a Kafka listener for containers on it.
func TestComposeFile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(projectDir(), "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Ports       []string
			Volumes     []string
			Environment map[string]any
		}
		Networks map[string]struct{ Name string }
		Volumes  map[string]any
	}
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for _, name := range []string{"kafka", "namenode", "datanode"} {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("no service %s", name)
		}
	}
	for name, s := range c.Services {
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s publishes %s on every interface, want 127.0.0.1:…", name, p)
			}
		}
		if len(s.Volumes) == 0 {
			t.Errorf("%s keeps its data in the container", name)
		}
		for _, v := range s.Volumes {
			vol, _, _ := strings.Cut(v, ":")
			if _, declared := c.Volumes[vol]; !declared {
				t.Errorf("%s mounts %s, not a declared named volume", name, vol)
			}
		}
	}
	kafka := c.Services["kafka"].Environment
	if kafka["CLUSTER_ID"] == nil || c.Services["namenode"].Environment["ENSURE_NAMENODE_CLUSTERID"] == nil {
		t.Error("Kafka's or HDFS's cluster id is not fixed: a new container would not match its volume")
	}
	if adv, _ := kafka["KAFKA_ADVERTISED_LISTENERS"].(string); !strings.Contains(adv, "127.0.0.1:9092") || !strings.Contains(adv, "//kafka:") {
		t.Errorf("Kafka advertises %q, want 127.0.0.1:9092 for this machine and kafka:… for containers", adv)
	}
	if c.Networks["default"].Name != "questlog" {
		t.Errorf("the network is %q, want questlog (sam local --docker-network questlog)", c.Networks["default"].Name)
	}
}
