package job

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/questlog/questlog/internal/fnenv"
	"github.com/questlog/questlog/internal/sink"
	"github.com/questlog/questlog/internal/store"
)

// Start runs a job as a Lambda function. Its configuration comes from the
// environment: DATASET_ROOT (file:///dir or hdfs://host:port/dir), DATASET,
// and what transform reads (FILTER for filter jobs). Bad configuration
// fails init, so a broken job never consumes a batch.
func Start(transform func(env *fnenv.Env) (Transform, error)) {
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
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	st, err := store.Open(ctx, root)
	cancel()
	if err != nil {
		fnenv.Fatal(log, "open the dataset store", err)
	}
	j := &Job{Dataset: dataset, Transform: t, Sink: sink.New(st, log), Log: log}
	lambda.Start(j.Handle)
}
