package inventory

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/questlog/questlog/internal/api"
	"github.com/questlog/questlog/internal/fnenv"
	"github.com/questlog/questlog/internal/job"
	"github.com/questlog/questlog/internal/kafkaconf"
	"github.com/questlog/questlog/internal/sink"
)

// config is what both inventory functions read from the environment.
type config struct {
	brokers            []string
	topic, eventsTopic string
	partitions         int
}

// loadConfig reads KAFKA_BOOTSTRAP_SERVERS, KAFKA_TOPIC (the game events)
// and INVENTORY_TOPIC, and checks that the two topics have the same
// partition count, which co-partitioning needs.
func loadConfig(env *fnenv.Env) (config, error) {
	c := config{
		brokers:     kafkaconf.Brokers(env.Required("KAFKA_BOOTSTRAP_SERVERS")),
		eventsTopic: env.Required("KAFKA_TOPIC"),
		topic:       env.Required("INVENTORY_TOPIC"),
	}
	if err := env.Err(); err != nil {
		return c, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	var err error
	if c.partitions, err = Partitions(ctx, c.brokers, c.topic); err != nil {
		return c, err
	}
	events, err := Partitions(ctx, c.brokers, c.eventsTopic)
	if err != nil {
		return c, err
	}
	if events != c.partitions || c.partitions == 0 {
		return c, fmt.Errorf("topic %s has %d partitions and %s has %d: create the inventory topic (cleanup.policy=compact) with as many partitions as the events topic",
			c.topic, c.partitions, c.eventsTopic, events)
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
	lambda.Start(f.Handle)
}

// StartAPI runs GET /inventory/{username} as a Lambda function behind API
// Gateway's HTTP API.
func StartAPI() {
	log := fnenv.Logger()
	c, err := loadConfig(&fnenv.Env{})
	if err != nil {
		fnenv.Fatal(log, "configuration", err)
	}
	api.Serve(Handler(NewTable(c.brokers, c.topic), c.partitions, log))
}
