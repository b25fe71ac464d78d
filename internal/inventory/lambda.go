package inventory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/questlog/questlog/internal/api"
	"github.com/questlog/questlog/internal/fnenv"
	"github.com/questlog/questlog/internal/job"
	"github.com/questlog/questlog/internal/kafkaconf"
	"github.com/questlog/questlog/internal/kafkapayload"
	"github.com/questlog/questlog/internal/sink"
)

// config is what both inventory functions read from the environment.
type config struct {
	brokers []string
	topic   string
}

// loadConfig reads KAFKA_BOOTSTRAP_SERVERS and INVENTORY_TOPIC, and checks
// that the inventory topic exists.
func loadConfig(env *fnenv.Env) (config, error) {
	c := config{
		brokers: kafkaconf.Brokers(env.Required("KAFKA_BOOTSTRAP_SERVERS")),
		topic:   env.Required("INVENTORY_TOPIC"),
	}
	if err := env.Err(); err != nil {
		return c, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	n, err := Partitions(ctx, c.brokers, c.topic)
	if err == nil && n == 0 {
		err = errors.New("no partitions")
	}
	if err != nil {
		return c, fmt.Errorf("inventory topic %s: %w: create it (cleanup.policy=compact)", c.topic, err)
	}
	return c, nil
}

// StartFolder runs the fold job as a Kafka-triggered Lambda function. It
// also reads DATASET_ROOT and DATASET (the snapshot dataset).
func StartFolder() {
	job.TuneGC()
	log := fnenv.Logger()
	env := &fnenv.Env{}
	root, dataset := env.Required("DATASET_ROOT"), env.Required("DATASET")
	c, err := loadConfig(env)
	if err == nil {
		err = sink.ValidateDataset(dataset)
	}
	if err != nil {
		fnenv.Fatal(log, "configuration", err)
	}
	f := &Folder{Table: NewTable(c.brokers, c.topic), Sink: job.OpenSink(log, root), Dataset: dataset, Log: log}
	lambda.Start(kafkapayload.Handler(f.Handle)) // the payload's bytes, as the jobs take them
}

// StartAPI runs GET /inventory/{username} as a Lambda function behind API
// Gateway's HTTP API.
func StartAPI() {
	log := fnenv.Logger()
	c, err := loadConfig(&fnenv.Env{})
	if err != nil {
		fnenv.Fatal(log, "configuration", err)
	}
	api.Serve(Handler(NewTable(c.brokers, c.topic), log))
}
