package chaos

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Report is what a chaos run found.
type Report struct {
	Duration time.Duration // of the load phase
	Elapsed  time.Duration // of the whole run
	Seed     uint64

	// Accepted is the distinct event ids of 2xx answers (load generator
	// and hostile corpus); AcceptedNoID counts 2xx answers without one.
	Accepted, AcceptedNoID   int
	LoadRequests, LoadErrors int
	LoadErrorsByStatus       map[string]int // "transport", "500", …

	Topic                                string
	TopicRecords, TopicEvents, TopicLost int
	TopicDuplicated                      int // event ids in more than one record

	Datasets    []datasetCheck
	Inventory   inventoryCheck
	DeadLetters []deadLetterCount

	SecretsSent int
	Leaks       []string // "HTTP X-Pwd → kafka game-events, parquet extracted_events"

	Crashes          []string // exits nobody caused
	FunctionTimeouts int      // function processes the emulator killed at their timeout
	FunctionKills    int
	StackKills       int
	PlannedFunction  int
	PlannedStack     int

	HTTPRequests  int
	HTTPByClass   map[string]int
	HTTPNonJSON   map[string]int // error answers that are not {"message": …}, by status
	HTTP5xx       []string
	HTTPNoAnswer  []string          // hostile requests the server never answered
	SlowHeld      map[string]string // slow client kind → "held/clients"
	Smuggled      []string          // players of smuggled requests that ran
	KafkaSent     int
	KafkaAcked    int
	KafkaRefused  []string
	Lag           map[string]int64 // consumer groups not at the end of the topic after the drain
	PeakRSSMB     int64            // the emulator's largest peak RSS
	LogLines      int
	DataDir, Logs string
}

type deadLetterCount struct {
	Reason        string
	Records, Rows int // distinct topic records, rows over every job
}

// Failures lists what makes the run fail: a loss, a duplicate, an
// inventory mismatch, a leaked secret, a smuggled request that ran or a
// crash. The rest of the table (hostile answers, slow clients, lag)
// informs.
func (r *Report) Failures() []string {
	var f []string
	if r.TopicLost > 0 {
		f = append(f, fmt.Sprintf("%d accepted events are not in %s", r.TopicLost, r.Topic))
	}
	if r.TopicDuplicated > 0 {
		f = append(f, fmt.Sprintf("%d events are in %s more than once", r.TopicDuplicated, r.Topic))
	}
	for _, d := range r.Datasets {
		if d.failed() {
			f = append(f, fmt.Sprintf("%s: %d lost, %d duplicated, %d unexpected, %d dead letters missing", d.Dataset, d.Lost, d.Duplicated, d.Extra, d.DeadLost))
		}
	}
	if r.Inventory.Mismatched > 0 {
		f = append(f, fmt.Sprintf("%d of %d inventories are wrong", r.Inventory.Mismatched, r.Inventory.Players))
	}
	if len(r.Leaks) > 0 {
		f = append(f, fmt.Sprintf("%d secrets leaked", len(r.Leaks)))
	}
	if len(r.Crashes) > 0 {
		f = append(f, fmt.Sprintf("%d processes crashed", len(r.Crashes)))
	}
	if len(r.Smuggled) > 0 {
		f = append(f, fmt.Sprintf("%d smuggled requests ran", len(r.Smuggled)))
	}
	return f
}

// WriteTable writes the report as one Markdown table, then the details of
// whatever failed.
func (r *Report) WriteTable(w io.Writer) {
	t := &table{header: []string{"check", "expected", "got", "distinct", "lost", "duplicated", "notes"}}
	n := commas
	t.row("accepted (2xx with X-Event-Id)", "", n(r.Accepted), n(r.Accepted), "", "",
		fmt.Sprintf("%s load requests, %s failed (%s); %d 2xx without an id", n(r.LoadRequests), n(r.LoadErrors), counts(r.LoadErrorsByStatus), r.AcceptedNoID))
	t.row("topic "+r.Topic, n(r.Accepted)+" accepted", n(r.TopicRecords)+" records", n(r.TopicEvents)+" events", n(r.TopicLost), n(r.TopicDuplicated),
		fmt.Sprintf("%s records are not events", n(r.TopicRecords-r.TopicEvents)))
	for _, d := range r.Datasets {
		name, got, distinct, lost := "dataset "+d.Dataset, n(d.Rows), n(d.Distinct), n(d.Lost)
		note := fmt.Sprintf("dead letters %s of %s", n(d.DeadLanded), n(d.DeadExpected))
		if d.DeadLost > 0 {
			note += fmt.Sprintf(" (%s missing)", n(d.DeadLost))
		}
		if d.Players {
			name += " (per player)"
			got, distinct, lost = n(d.Rows)+" snapshots", n(d.Distinct)+" players", n(d.Lost)+" stale"
		}
		if d.Extra > 0 {
			note += fmt.Sprintf("; %s unexpected", n(d.Extra))
		}
		t.row(name, n(d.Expected), got, distinct, lost, n(d.Duplicated), note)
	}
	t.row("inventories (GET /inventory)", n(r.Inventory.Players)+" players", n(r.Inventory.Players-r.Inventory.Mismatched)+" right", "", "", "",
		fmt.Sprintf("%s mismatches", n(r.Inventory.Mismatched)))
	t.row("secrets found (Kafka, Parquet, logs)", "0", n(len(r.Leaks)), "", "", "", fmt.Sprintf("%d sent", r.SecretsSent))
	t.row("processes crashed", "0", n(len(r.Crashes)), "", "", "",
		fmt.Sprintf("killed: %d of %d function processes, %d of %d whole stacks; %d function timeouts", r.FunctionKills, r.PlannedFunction, r.StackKills, r.PlannedStack, r.FunctionTimeouts))
	t.row("smuggled requests run", "0", n(len(r.Smuggled)), "", "", "", "hidden after bodies whose framings disagree (RFC 9112: close after answering)")
	for _, d := range r.DeadLetters {
		t.row("dead letters: "+d.Reason, "", n(d.Records)+" records", "", "", "", fmt.Sprintf("%s rows over every job", n(d.Rows)))
	}
	t.row("hostile HTTP requests", "", n(r.HTTPRequests), "", "", "", "answers "+counts(r.HTTPByClass))
	t.row("error answers that are not JSON", "0", countsOr(r.HTTPNonJSON, "0"), "", "", "", "by status; API Gateway's errors are {\"message\": …}")
	t.row("slow clients still connected at the end", "", slowSummary(r.SlowHeld), "", "", "", "held/sent, by kind")
	t.row("garbage Kafka records", n(r.KafkaSent), n(r.KafkaAcked)+" acknowledged", "", "", "", fmt.Sprintf("%d refused by the broker", len(r.KafkaRefused)))
	lag := "none"
	if len(r.Lag) > 0 {
		lag = countsOr64(r.Lag)
	}
	t.row("consumer lag after the drain", "0", lag, "", "", "", fmt.Sprintf("emulator peak RSS %d MB", r.PeakRSSMB))
	t.write(w)

	details := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s:\n", title)
		for _, l := range lines {
			fmt.Fprintf(w, "  - %s\n", l)
		}
	}
	details("Wrong inventories (first 5)", r.Inventory.Examples)
	details("Secrets found", r.Leaks)
	details("Crashes", r.Crashes)
	details("Smuggled requests that ran", r.Smuggled)
	details("5xx answers to hostile requests", r.HTTP5xx)
	details("Hostile requests never answered (10 s)", r.HTTPNoAnswer)
	details("Refused garbage Kafka records", r.KafkaRefused)
	if f := r.Failures(); len(f) > 0 {
		details("FAILED", f)
	} else {
		fmt.Fprintln(w, "\nPASSED: nothing lost, duplicated, wrong, leaked or crashed.")
	}
	fmt.Fprintf(w, "\n%s load, seed %d, %s in all; the emulator's output (%s lines) is in %s\n",
		r.Duration, r.Seed, r.Elapsed.Round(time.Second), n(r.LogLines), r.Logs)
}

// table renders rows as a Markdown table with aligned columns.
type table struct {
	header []string
	rows   [][]string
}

func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) {
	widths := make([]int, len(t.header))
	for _, r := range append([][]string{t.header}, t.rows...) {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range cells {
			b.WriteString(" " + c + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)) + " |")
		}
		fmt.Fprintln(w, b.String())
	}
	line(t.header)
	sep := make([]string, len(widths))
	for i, n := range widths {
		sep[i] = strings.Repeat("-", n)
	}
	line(sep)
	for _, r := range t.rows {
		line(r)
	}
}

// commas writes n with thousands separators.
func commas(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

func counts(m map[string]int) string { return countsOr(m, "none") }

func countsOr(m map[string]int, none string) string {
	if len(m) == 0 {
		return none
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %s", k, commas(m[k])))
	}
	return strings.Join(parts, ", ")
}

func countsOr64(m map[string]int64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %s", k, commas(int(m[k]))))
	}
	return strings.Join(parts, ", ")
}

func slowSummary(m map[string]string) string {
	if len(m) == 0 {
		return "none sent"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+" "+m[k])
	}
	return strings.Join(parts, ", ")
}

func joinComma(s []string) string {
	sort.Strings(s)
	return strings.Join(s, ", ")
}
