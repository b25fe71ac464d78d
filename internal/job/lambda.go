package job

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/questlog/questlog/internal/fnenv"
	"github.com/questlog/questlog/internal/kafkapayload"
	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
)

// Start runs a job as a Lambda function. Its configuration comes from the
// environment: DATASET_ROOT (file:///dir or hdfs://host:port/dir), DATASET,
// and what transform reads (FILTER for filter jobs). Bad configuration
// fails init, so a broken job never consumes a batch.
func Start(transform func(env *fnenv.Env) (Transform, error)) {
	TuneGC()
	log := fnenv.Logger()
	env := &fnenv.Env{}
	root := env.Required("DATASET_ROOT")
	dataset := env.Required("DATASET")
	t, err := transform(env)
	if err == nil {
		err = env.Err()
	}
	if err == nil {
		err = sink.ValidateDataset(dataset)
	}
	if err != nil {
		fnenv.Fatal(log, "configuration", err)
	}
	j := &Job{Dataset: dataset, Transform: t, Sink: OpenSink(log, root), Log: log}
	// The raw handler gets the payload bytes: decoding them with
	// kafkapayload instead of aws-lambda-go's encoding/json halves the cost
	// of a batch.
	lambda.Start(kafkapayload.Handler(j.Handle))
}

// OpenSink opens the dataset store at init, ending init if it cannot.
func OpenSink(log *slog.Logger, root string) *sink.Sink {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	st, err := store.Open(ctx, root)
	if err != nil {
		fnenv.Fatal(log, "open the dataset store", err)
	}
	return sink.New(st, log)
}

// GCPercent is the jobs' garbage-collector target: a batch allocates
// mostly short-lived memory, and the functions have memory to spare
// (512 MB for a batch of at most a few MB), so they trade it for CPU.
const GCPercent = 400

// TuneGC applies GCPercent unless GOGC is set.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
}
