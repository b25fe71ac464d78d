package e2e_test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The commands a user types: generate a Kafka batch, invoke a job on it,
// then show the dataset.
func TestGenerateInvokeShow(t *testing.T) {
	dataDir, root := t.TempDir(), t.TempDir()
	common := []string{"--data-dir", dataDir, "--parameter-overrides", "DatasetRoot=file://" + root, "--log-level", "warn"}

	gen := exec.Command(questlogBin, "generate-event", "kafka", "--count", "25", "--seed", "9")
	gen.Dir = projectDir()
	batch, err := gen.Output()
	if err != nil {
		t.Fatalf("generate-event kafka: %v", err)
	}
	inv := exec.Command(questlogBin, append([]string{"invoke", "ExtractFunction", "-e", "-"}, common...)...)
	inv.Dir = projectDir()
	inv.Stdin = strings.NewReader(string(batch))
	var note strings.Builder
	inv.Stderr = &note
	out, err := inv.Output()
	if err != nil {
		t.Fatalf("invoke: %v\n%s", err, out)
	}
	// Synthetic records are in no topic: they run on a scratch stack, whose
	// datasets the note names.
	scratchRoot := "file://" + filepath.Join(dataDir, "scratch", "datasets")
	if !strings.Contains(note.String(), "scratch stack") || !strings.Contains(note.String(), "DatasetRoot="+scratchRoot) {
		t.Errorf("invoke's note: %q, want one naming the scratch datasets %s", note.String(), scratchRoot)
	}
	common[3] = "DatasetRoot=" + scratchRoot // show reads what the invocation landed
	var sum struct {
		Dataset string
		Landed  int
	}
	if err := json.Unmarshal(out, &sum); err != nil || sum.Landed != 25 || sum.Dataset != "extracted_events" {
		t.Fatalf("invoke printed %s (%v), want a summary of 25 landed events", out, err)
	}
	again := cmdOutput(t, nil, questlogBin, append([]string{"invoke", "ExtractFunction", "-e", writeFile(t, batch)}, common...)...)
	if !strings.Contains(again, `"landed":0`) || !strings.Contains(again, `"skipped_already_landed":25`) {
		t.Errorf("invoking the same batch again: %s", again)
	}

	show := cmdOutput(t, nil, questlogBin, append([]string{"show", "extracted_events", "--limit", "5"}, common...)...)
	lines := strings.Split(strings.TrimSpace(show), "\n")
	if len(lines) != 1+1+1+5+1+1 || !strings.Contains(lines[1], " event_type|") || lines[len(lines)-1] != "only showing top 5 rows" {
		t.Errorf("show:\n%s", show)
	}
	where := cmdOutput(t, nil, questlogBin, append([]string{"show", "extracted_events", "--json", "--where", `event_type == "default"`}, common...)...)
	for _, line := range strings.Split(strings.TrimSpace(where), "\n") {
		if !strings.Contains(line, `"event_type":"default"`) {
			t.Errorf("--where kept %s", line)
		}
	}

	httpEvent := cmdOutput(t, nil, questlogBin, "generate-event", "http", "/purchase_a_sword/divya", "--header", "X-Test: 1")
	var ev struct {
		RawPath string            `json:"rawPath"`
		Headers map[string]string `json:"headers"`
	}
	if err := json.Unmarshal([]byte(httpEvent), &ev); err != nil || ev.RawPath != "/purchase_a_sword/divya" || ev.Headers["x-test"] != "1" {
		t.Errorf("generate-event http: %v\n%s", err, httpEvent)
	}
}

func writeFile(t *testing.T, data []byte) string {
	p := filepath.Join(t.TempDir(), "event.json")
	if err := writeBytes(p, data); err != nil {
		t.Fatal(err)
	}
	return p
}
