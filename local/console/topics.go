package console

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Bounds of a topic read: the newest records are read from the end of
// each partition, a search by key scans at most searchWindow records of
// each partition, and a value is cut at maxValueBytes for display.
const (
	defaultRecords = 50
	maxRecords     = 500
	searchWindow   = 20000
	maxValueBytes  = 4096
	readTimeout    = 5 * time.Second
)

// topicOffsets lists the start and end offsets of every topic of the
// pipeline.
func (s *Server) topicOffsets(ctx context.Context) map[string][]partitionLive {
	out := map[string][]partitionLive{}
	if s.admin == nil || len(s.pipeline.Topics) == 0 {
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	starts, err := s.admin.ListStartOffsets(ctx, s.pipeline.Topics...)
	if err != nil {
		return out
	}
	ends, err := s.admin.ListEndOffsets(ctx, s.pipeline.Topics...)
	if err != nil {
		return out
	}
	for topic, parts := range ends {
		for p, end := range parts {
			if end.Err != nil {
				continue
			}
			pl := partitionLive{Partition: p, End: end.Offset}
			if start, ok := starts.Lookup(topic, p); ok && start.Err == nil {
				pl.Start = start.Offset
			}
			out[topic] = append(out[topic], pl)
		}
		slices.SortFunc(out[topic], func(a, b partitionLive) int { return int(a.Partition - b.Partition) })
	}
	return out
}

// record is a Kafka record as the Topics page shows it, like kcat -C.
type record struct {
	Partition int32             `json:"partition"`
	Offset    int64             `json:"offset"`
	Timestamp int64             `json:"timestamp"` // Unix ms
	Key       string            `json:"key"`
	Value     string            `json:"value"`
	Truncated bool              `json:"truncated,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
}

func toRecord(r *kgo.Record) record {
	out := record{Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp.UnixMilli(), Key: printable(r.Key)}
	v := r.Value
	if len(v) > maxValueBytes {
		v, out.Truncated = v[:maxValueBytes], true
	}
	out.Value = printable(v)
	for _, h := range r.Headers {
		if out.Headers == nil {
			out.Headers = map[string]string{}
		}
		out.Headers[h.Key] = printable(h.Value)
	}
	return out
}

// printable is b as text, or as Go-quoted bytes when it is not UTF-8.
func printable(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strconv.Quote(string(b))
}

// scanRequest says which records of a topic to read.
type scanRequest struct {
	topic     string
	partition int32 // -1: every partition
	window    int64 // records from the end of each partition
	// match, if set, keeps only the records it accepts.
	match func(*kgo.Record) bool
	limit int // stop after this many kept records (newest kept)
}

// scan reads the last window records of the chosen partitions, up to
// their end offsets at the start of the scan, and returns the kept ones,
// newest first.
func (s *Server) scan(ctx context.Context, req scanRequest) ([]record, error) {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	starts, err := s.admin.ListStartOffsets(ctx, req.topic)
	if err != nil {
		return nil, err
	}
	ends, err := s.admin.ListEndOffsets(ctx, req.topic)
	if err != nil {
		return nil, err
	}
	if err := ends.Error(); err != nil {
		return nil, err
	}
	from := map[int32]kgo.Offset{}
	until := map[int32]int64{}
	ends.Each(func(e kadm.ListedOffset) {
		if req.partition >= 0 && e.Partition != req.partition {
			return
		}
		start := e.Offset - req.window
		if st, ok := starts.Lookup(e.Topic, e.Partition); ok && st.Offset > start {
			start = st.Offset
		}
		if start < e.Offset {
			from[e.Partition] = kgo.NewOffset().At(start)
			until[e.Partition] = e.Offset
		}
	})
	var kept []record
	if len(from) == 0 {
		return []record{}, nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.cfg.Brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{req.topic: from}),
		kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	for len(until) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			break // return what was read; compacted partitions may end early
		}
		fs.EachRecord(func(r *kgo.Record) {
			end, open := until[r.Partition]
			if !open {
				return
			}
			if r.Offset+1 >= end {
				delete(until, r.Partition)
			}
			if r.Offset < end && (req.match == nil || req.match(r)) {
				kept = append(kept, toRecord(r))
			}
		})
	}
	slices.SortFunc(kept, func(a, b record) int {
		if a.Timestamp != b.Timestamp {
			return int(b.Timestamp - a.Timestamp)
		}
		return int(b.Offset - a.Offset)
	})
	if req.limit > 0 && len(kept) > req.limit {
		kept = kept[:req.limit]
	}
	return kept, nil
}

// handleRecords serves a topic's newest records: ?limit= (50, at most
// 500), ?partition=, and ?key= to search the newest records by key.
func (s *Server) handleRecords(w http.ResponseWriter, r *http.Request) {
	topic := r.PathValue("name")
	if !slices.Contains(s.pipeline.Topics, topic) || s.admin == nil {
		writeError(w, http.StatusNotFound, "no topic "+strconv.Quote(topic)+" in the pipeline")
		return
	}
	q := r.URL.Query()
	limit := defaultRecords
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "limit must be a positive number")
			return
		}
		limit = min(n, maxRecords)
	}
	req := scanRequest{topic: topic, partition: -1, window: int64(limit), limit: limit}
	if v := q.Get("partition"); v != "" {
		p, err := strconv.ParseInt(v, 10, 32)
		if err != nil || p < 0 {
			writeError(w, http.StatusBadRequest, "partition must be a partition number")
			return
		}
		req.partition = int32(p)
	}
	key := q.Get("key")
	if key != "" {
		req.window = searchWindow
		want := []byte(key)
		req.match = func(r *kgo.Record) bool { return bytes.Equal(r.Key, want) }
	}
	ctx, cancel := requestContext(r)
	defer cancel()
	recs, err := s.scan(ctx, req)
	if err != nil {
		writeError(w, http.StatusBadGateway, "read "+topic+": "+err.Error())
		return
	}
	writeJSON(w, map[string]any{"topic": topic, "records": recs, "searched_per_partition": req.window})
}
