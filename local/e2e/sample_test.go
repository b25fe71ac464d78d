package e2e_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// invokeCLI runs `questlog invoke` against the emulator owning dataDir and
// returns its standard output and error.
// invokeSample runs questlog invoke on the emulator of dataDir and fails
// the test unless the invocation succeeds.
func invokeSample(t *testing.T, dataDir, fn, eventFile string, stdin []byte) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, code := invokeCLI(t, stdin, fn, "-e", eventFile, "--data-dir", dataDir, "--log-level", "warn")
	if code != 0 {
		t.Fatalf("invoke %s -e %s: exit %d\n%s%s", fn, eventFile, code, stdout, stderr)
	}
	return stdout, stderr
}

// The README's sample invocation on a live stack: its records claim
// game-events partition 0 offsets 0-4, which real events take later. It
// must land nothing in the live datasets (it runs on a scratch stack and
// says so), so every real event lands. (Before, the sample marked those
// offsets landed and the real events there were skipped: lost.)
func TestSampleInvocationLosesNoLiveRecord(t *testing.T) {
	cfg := config(t)
	cfg.Functions = []string{"DefaultHitsFilter", "ApiDefaultFunction"}
	e := start(t, cfg, everything)

	out, note := invokeSample(t, cfg.DataDir, "DefaultHitsFilter", "events/kafka-event.json", nil)
	if !strings.Contains(out, `"dataset":"default_hits"`) || !strings.Contains(note, "scratch") {
		t.Errorf("sample invocation printed %q, note %q; want its summary and a note that it ran on a scratch stack", out, note)
	}

	accepted := map[string]bool{}
	for range 30 {
		r := request(t, "GET", e.APIURL+"/", "")
		if r.status != 200 {
			t.Fatalf("GET / = %d %s", r.status, r.body)
		}
		accepted[r.header.Get("X-Event-Id")] = true
	}
	st := openStore(t, e.DatasetRoot)
	got := exactlyOnce(t, "default_hits", waitRows(t, st, "default_hits", 30, 60*time.Second))
	for id := range got {
		if !accepted[id] {
			t.Errorf("default_hits holds event %s, which the API never accepted (a sample record)", id)
		}
	}
	if len(got) != len(accepted) {
		t.Errorf("default_hits holds %d of the %d accepted events", len(got), len(accepted))
	}

	// Records taken from the live topic are genuine: they run live, and
	// the mapping landed them already.
	gen := exec.Command(questlogBin, "generate-event", "kafka", "--from-topic", "--count", "5", "--data-dir", cfg.DataDir, "--log-level", "warn")
	gen.Dir = projectDir()
	live, err := gen.Output()
	if err != nil {
		t.Fatalf("generate-event kafka --from-topic: %v", err)
	}
	out, note = invokeSample(t, cfg.DataDir, "DefaultHitsFilter", "-", live)
	if !strings.Contains(out, `"skipped_already_landed":5`) || strings.Contains(note, "scratch") {
		t.Errorf("invoking live records printed %q, note %q; want them skipped as landed, live", out, note)
	}

	// The same records with one value changed are not the live ones.
	var ev events.KafkaEvent
	if err := json.Unmarshal(live, &ev); err != nil {
		t.Fatal(err)
	}
	for key, recs := range ev.Records {
		v, _ := base64.StdEncoding.DecodeString(recs[0].Value)
		recs[0].Value = base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(v), `"default"`, `"default" `, 1)))
		ev.Records[key] = recs
	}
	forged, _ := json.Marshal(ev)
	if _, note = invokeSample(t, cfg.DataDir, "DefaultHitsFilter", "-", forged); !strings.Contains(note, "scratch") {
		t.Errorf("invoking altered records: note %q, want a scratch run", note)
	}

	// The Lambda Invoke API (aws lambda invoke --endpoint-url) runs on the
	// live stack: it refuses what is not the topic's and runs what is.
	sample, err := os.ReadFile(filepath.Join(projectDir(), "events", "kafka-event.json"))
	if err != nil {
		t.Fatal(err)
	}
	invokeURL := e.LambdaURL + "/2015-03-31/functions/DefaultHitsFilter/invocations"
	for name, payload := range map[string][]byte{"the sample": sample, "altered records": forged} {
		if r := request(t, "POST", invokeURL, string(payload)); r.status != 400 || r.header.Get("X-Amzn-Errortype") != "InvalidRequestContentException" || !strings.Contains(r.body, "questlog invoke DefaultHitsFilter -e") {
			t.Errorf("Invoke API with %s: %d %s, want 400 InvalidRequestContentException pointing to questlog invoke -e", name, r.status, r.body)
		}
	}
	if r := request(t, "POST", invokeURL, string(live)); r.status != 200 || !strings.Contains(r.body, `"skipped_already_landed":5`) {
		t.Errorf("Invoke API with the topic's records: %d %s, want them run and skipped as landed", r.status, r.body)
	}
	if n := len(rows(t, st, "default_hits")); n != 30 {
		t.Errorf("default_hits holds %d rows after the invocations, want the 30 real ones", n)
	}
}
