// Package scratch keeps invocations of made-up Kafka events away from the
// live datasets.
//
// A Kafka job lands a record once per topic, partition and offset: the
// sink skips offsets a dataset already holds. A sample event (the
// README's events/kafka-event.json, `generate-event kafka`) claims
// offsets of the live topic that real records hold or will hold, so
// landing it in the live datasets would falsify them and make the real
// records there be skipped as already landed. So an invocation runs live
// only when every record of its event is in the live topic at its
// partition and offset with the same key and value bytes (what
// `generate-event kafka --from-topic` prints); any other event runs on a
// scratch stack of its own, an embedded broker and file:// datasets under
// <DataDir>/scratch (or the DatasetRoot the user overrode explicitly), which
// the live datasets never see.
package scratch

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/questlog/questlog/local/emulator"
	"github.com/questlog/questlog/local/esm"
)

// For returns the configuration to invoke a function on payload with:
// cfg itself, or, if payload is a Kafka event with records that are not in
// the live topic as they are in the event, a scratch stack's, and a note
// that says why and where its datasets are.
func For(ctx context.Context, cfg emulator.Config, payload []byte) (emulator.Config, string, error) {
	ev, ok := esm.KafkaEventOf(payload)
	if !ok {
		return cfg, "", nil
	}
	live, err := emulator.StartServicesOnly(ctx, cfg)
	if err != nil {
		return cfg, "", err
	}
	mismatch, err := esm.Foreign(ctx, live.Brokers, ev)
	live.Close(context.Background())
	if err != nil {
		return cfg, "", fmt.Errorf("compare the event's records with the live topic: %w", err)
	}
	if mismatch == "" {
		return cfg, "", nil
	}
	cfg = cfg.WithDefaults()
	dir := filepath.Join(cfg.DataDir, "scratch")
	root := "file://" + filepath.Join(dir, "datasets")
	scratch := cfg
	scratch.DataDir = dir
	scratch.KafkaAddr, scratch.HDFSAddr = "127.0.0.1:0", "127.0.0.1:0"
	scratch.ParameterOverrides = map[string]string{}
	for k, v := range cfg.ParameterOverrides {
		if k != emulator.ParamKafka { // a real cluster is live too
			scratch.ParameterOverrides[k] = v
		}
	}
	if explicit, ok := cfg.ParameterOverrides[emulator.ParamDatasetRoot]; ok {
		root = explicit // the user chose where it lands
	}
	scratch.ParameterOverrides[emulator.ParamDatasetRoot] = root
	note := fmt.Sprintf("questlog invoke: %s, so this is not a live record: the event runs on a scratch stack "+
		"(its own Kafka, datasets in %s); the live topic and datasets are untouched. "+
		"See what it landed: go run ./local show <dataset> --parameter-overrides DatasetRoot=%s", mismatch, root, root)
	return scratch, note, nil
}
