package inventory

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/aws/aws-lambda-go/events"

	"github.com/questlog/questlog/internal/job"
	"github.com/questlog/questlog/internal/sink"
)

// Snapshot is a row of the inventory dataset: a player's inventory right
// after a batch changed it, and the event that last changed it.
type Snapshot struct {
	UserName       string           `parquet:"user_name,dict"`
	Items          map[string]int64 `parquet:"items" parquet-key:",dict"`
	SpentCents     map[string]int64 `parquet:"spent_cents" parquet-key:",dict"`
	Purchases      int64            `parquet:"purchases"`
	UpdatedAt      int64            `parquet:"updated_at,timestamp(millisecond:utc)"`
	KafkaTopic     string           `parquet:"kafka_topic,dict"`
	KafkaPartition int32            `parquet:"kafka_partition"`
	KafkaOffset    int64            `parquet:"kafka_offset"`
}

// Folder is the Kafka-triggered job that folds purchases into inventories.
type Folder struct {
	Table   *Table
	Sink    *sink.Sink
	Dataset string // the snapshot dataset, "inventory"
	Log     *slog.Logger
}

// Handle folds one batch, each partition under its lock.
func (f *Folder) Handle(ctx context.Context, batch events.KafkaEvent) (job.Summary, error) {
	sum, err := job.EachPartition(ctx, batch, f.partition)
	sum.Dataset = f.Dataset
	if err == nil {
		f.Log.Info("inventories folded", "records", sum.Records, "changed_players", sum.Landed, "skipped", sum.Skipped, "rejected", sum.Rejected)
	}
	return sum, err
}

func (f *Folder) partition(ctx context.Context, records []events.KafkaRecord) (job.Summary, error) {
	sum := job.Summary{Records: len(records)}
	part, err := job.DecodePartition(records)
	if err != nil || len(records) == 0 {
		return sum, err
	}
	// One folder per event partition at a time, across processes: a replay
	// beside the live mapping must not apply an event twice.
	unlock, err := f.lock(ctx, fmt.Sprintf("fold+%s+%d", part.Topic, part.Partition))
	if err != nil {
		return sum, err
	}
	defer unlock()

	// Only valid purchases are folded; the others are dead letters with
	// the reason, and the partition moves on.
	var purchases []*job.Decoded
	for i := range part.Events {
		d := &part.Events[i]
		if !IsPurchase(&d.Event) {
			sum.Filtered++
		} else if err := CheckPurchase(&d.Event); err != nil {
			part.Reject(d.Record, "purchase not folded: "+err.Error())
		} else {
			purchases = append(purchases, d)
		}
	}

	// A player's state lives in one partition of the inventory topic
	// whatever partition their events were on, so folds of different event
	// partitions may touch the same player: each state partition the batch
	// touches is locked (in ascending order, as every folder takes them,
	// so two never deadlock) and read to its end before the fold.
	stateOf := map[string]int{} // user → state partition
	for _, d := range purchases {
		if _, ok := stateOf[d.Event.UserName]; !ok {
			if stateOf[d.Event.UserName], err = f.Table.PartitionOf(ctx, d.Event.UserName); err != nil {
				return sum, err
			}
		}
	}
	stateParts := slices.Compact(slices.Sorted(maps.Values(stateOf)))
	for _, sp := range stateParts {
		unlock, err := f.lock(ctx, fmt.Sprintf("state+%s+%d", f.Table.Topic(), sp))
		if err != nil {
			return sum, err
		}
		defer unlock()
		if err := f.Table.CatchUp(ctx, sp); err != nil {
			return sum, err
		}
	}

	changed := map[string]*State{}
	last := map[string]*job.Decoded{}             // a player's last event applied in this batch
	applied := map[string][]*events.KafkaRecord{} // and all of them
	var order []string
	for _, d := range purchases {
		e := &d.Event
		st, ok := changed[e.UserName]
		if !ok {
			base, _ := f.Table.Get(stateOf[e.UserName], e.UserName)
			st = &base
		}
		fresh, err := st.Apply(e, part.Partition, d.Source.Offset)
		if err != nil {
			part.Reject(d.Record, "purchase not folded: "+err.Error())
			continue
		}
		if !fresh {
			sum.Skipped++ // applied before: a redelivery or a replay
			continue
		}
		if !ok {
			changed[e.UserName] = st
			order = append(order, e.UserName)
		}
		last[e.UserName] = d
		applied[e.UserName] = append(applied[e.UserName], d.Record)
	}

	// A state the topic cannot hold would fail every retry: its player's
	// purchases of this batch are dead letters instead, decided from the
	// topic's limit before anything is written, so a redelivery decides
	// the same.
	limit, err := f.Table.StateLimit(ctx)
	if err != nil {
		return sum, err
	}
	order = slices.DeleteFunc(order, func(user string) bool {
		size, err := recordSize(changed[user])
		if err == nil && size <= limit {
			return false
		}
		for _, rec := range applied[user] {
			part.Reject(rec, fmt.Sprintf("purchase not folded: %s's inventory would be a %d-byte record, over the %d bytes the inventory topic %s takes (max.message.bytes)",
				user, size, limit, f.Table.Topic()))
		}
		return true
	})

	// Snapshots first, then the states: if the process dies in between (or
	// between two state partitions), the redelivered batch folds onto the
	// same bases where the states were not written, and lands the same
	// snapshots, which the sink skips.
	snapshots := make([]sink.Record[Snapshot], 0, len(order))
	states := map[int][]State{} // by state partition
	for _, user := range order {
		st, d := changed[user], last[user]
		snapshots = append(snapshots, sink.Record[Snapshot]{Offset: d.Source.Offset, Date: d.Event.EventTime.Time(), Row: Snapshot{
			UserName: user, Items: st.Items, SpentCents: st.SpentCents, Purchases: st.Purchases, UpdatedAt: int64(st.UpdatedAt),
			KafkaTopic: part.Topic, KafkaPartition: part.Partition, KafkaOffset: d.Source.Offset,
		}})
		states[stateOf[user]] = append(states[stateOf[user]], *st)
	}
	landed, err := sink.Land(ctx, f.Sink, f.Dataset, part.Topic, part.Partition, snapshots)
	if err != nil {
		return sum, err
	}
	for _, sp := range stateParts {
		if err := f.Table.Put(ctx, sp, states[sp]); err != nil {
			return sum, err
		}
	}
	dead, err := part.LandRejected(ctx, f.Sink, f.Dataset, f.Log)
	if err != nil {
		return sum, err
	}
	sum.Landed, sum.Rejected = len(order), len(part.Rejected)
	sum.Skipped += dead.Skipped
	sum.Files = append(landed.Files, dead.Files...)
	return sum, nil
}

// lock takes one of the folders' store locks, which live beside the
// snapshot dataset.
func (f *Folder) lock(ctx context.Context, name string) (func() error, error) {
	return f.Sink.Store().Lock(ctx, f.Dataset+"/_locks/"+name)
}
