package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/local/show"
)

// eventIDPattern is the shape of the event ids the API makes (UUIDs).
var eventIDPattern = regexp.MustCompile(`^[0-9a-fA-F-]{8,64}$`)

// trace is one event's way through the pipeline: the route that published
// it, its Kafka record, and what each mapping and its job did with it.
type trace struct {
	EventID   string      `json:"event_id"`
	EventType string      `json:"event_type"`
	UserName  string      `json:"user_name,omitempty"`
	EventTime string      `json:"event_time"`
	Routes    []routeInfo `json:"routes"`
	Record    record      `json:"record"`
	Topic     string      `json:"topic"`
	Steps     []traceStep `json:"steps"`
}

type traceStep struct {
	Function  string `json:"function"`
	Group     string `json:"group"`
	Committed int64  `json:"committed"` // the group's next offset in the event's partition
	Consumed  bool   `json:"consumed"`
	Dataset   string `json:"dataset,omitempty"`
	// Status is "landed" (File and Row say where), "rejected" (a dead
	// letter), "filtered" (the job or the mapping's FilterCriteria left it
	// out) or "pending" (not consumed yet).
	Status string `json:"status"`
	File   string `json:"file,omitempty"`
	Row    int    `json:"row"` // 0-based row in File
	Reason string `json:"reason,omitempty"`
}

// handleTrace follows an event, by the id in the API's X-Event-Id header,
// from its route through Kafka to its rows.
func (s *Server) handleTrace(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !eventIDPattern.MatchString(id) {
		writeError(w, http.StatusBadRequest, "an event id is the X-Event-Id header of an API answer, e.g. 0190b0c2-5a1e-7c3d-9f00-1a2b3c4d5e6f")
		return
	}
	if s.admin == nil || s.store == nil {
		writeError(w, http.StatusNotFound, "the console has no Kafka or no datasets to search")
		return
	}
	ctx, cancel := requestContext(r)
	defer cancel()
	needle := []byte(`"event_id":"` + id + `"`)
	var found *record
	var topic string
	for _, t := range s.routeTopics() {
		recs, err := s.scan(ctx, scanRequest{topic: t, partition: -1, window: searchWindow, limit: 1,
			match: func(r *kgo.Record) bool { return bytes.Contains(r.Value, needle) }})
		if err != nil {
			writeError(w, http.StatusBadGateway, "search "+t+": "+err.Error())
			return
		}
		if len(recs) > 0 {
			found, topic = &recs[0], t
			break
		}
	}
	if found == nil {
		writeError(w, http.StatusNotFound, "event "+id+" is not among the newest "+strconv.Itoa(searchWindow)+
			" records of any partition of "+joinQuoted(s.routeTopics()))
		return
	}
	var ev struct {
		EventType string `json:"event_type"`
		UserName  string `json:"user_name"`
		EventTime string `json:"event_time"`
	}
	_ = json.Unmarshal([]byte(found.Value), &ev) // a record the API wrote; its fields are best effort here
	t := trace{EventID: id, EventType: ev.EventType, UserName: ev.UserName, EventTime: ev.EventTime, Record: *found, Topic: topic, Routes: []routeInfo{}, Steps: []traceStep{}}
	for _, pr := range publishers[ev.EventType] {
		for _, rt := range s.pipeline.Routes {
			if routeKey(pr) == rt.Method+" "+rt.Path && rt.Topic == topic {
				t.Routes = append(t.Routes, rt)
			}
		}
	}
	for _, m := range s.cfg.Mappings {
		if m.Topic != topic {
			continue
		}
		st := traceStep{Function: m.Function, Group: m.GroupID(), Committed: -1, Status: "pending"}
		for _, p := range m.Stats.Partitions() {
			if p.Partition == found.Partition {
				st.Committed = p.Committed
			}
		}
		st.Consumed = st.Committed > found.Offset
		if fn, ok := s.pipeline.function(m.Function); ok {
			st.Dataset = fn.Dataset
		}
		if st.Dataset != "" {
			s.locate(ctx, &st, id, topic, found.Partition, found.Offset)
		}
		t.Steps = append(t.Steps, st)
	}
	writeJSON(w, t)
}

// locate finds the event in the step's dataset, or in its dead letters.
func (s *Server) locate(ctx context.Context, st *traceStep, id, topic string, partition int32, offset int64) {
	find := func(ds string) (file string, row int, reason string, covered bool, err error) {
		f, ok, err := s.datasets.covering(ctx, ds, topic, partition, offset)
		if err != nil || !ok {
			return "", -1, "", false, err
		}
		rows, _, err := show.ReadFile(ctx, s.store, f.Path)
		if err != nil {
			return "", -1, "", true, err
		}
		i := slices.IndexFunc(rows, func(row map[string]any) bool {
			if v, ok := row["event_id"]; ok {
				return v == id
			}
			return row["kafka_partition"] == partition && row["kafka_offset"] == offset
		})
		if i >= 0 {
			reason, _ = rows[i]["reason"].(string)
		}
		return f.Path, i, reason, true, nil
	}
	file, row, _, covered, err := find(st.Dataset)
	if err == nil && row >= 0 {
		st.Status, st.File, st.Row = "landed", file, row
		return
	}
	rfile, rrow, reason, _, rerr := find(sink.RejectedDataset(st.Dataset))
	switch {
	case err != nil || rerr != nil:
		st.Reason = errors.Join(err, rerr).Error()
	case rrow >= 0:
		st.Status, st.File, st.Row, st.Reason = "rejected", rfile, rrow, reason
	case covered:
		st.Status, st.Reason = "filtered", "its batch landed in "+file+" without it: the job's filter left it out"
	case st.Consumed:
		st.Status, st.Reason = "filtered", "consumed, and no file holds its offset: the mapping's FilterCriteria or the job left it out"
	}
}

// routeTopics are the topics the API's routes publish to.
func (s *Server) routeTopics() []string {
	var out []string
	for _, r := range s.pipeline.Routes {
		if r.Topic != "" && !slices.Contains(out, r.Topic) {
			out = append(out, r.Topic)
		}
	}
	return out
}

func joinQuoted(ss []string) string {
	var b bytes.Buffer
	for i, s := range ss {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(s))
	}
	return b.String()
}
