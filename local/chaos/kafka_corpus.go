package chaos

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/questlog/questlog/internal/catalog"
	"github.com/questlog/questlog/internal/event"
	"github.com/questlog/questlog/internal/inventory"
	"github.com/questlog/questlog/local/loadgen"
)

// kafkaCase is one record of the garbage corpus, produced straight to the
// events topic as a client other than the API would.
type kafkaCase struct {
	name        string
	key, value  []byte // value nil: a NULL value
	headers     []kgo.RecordHeader
	partitioner string // how its partition is picked
}

// Partitioners of other Kafka clients. The API (kafka-go's Murmur2Balancer,
// like Java's default) is "murmur2"; kcat and every librdkafka client
// default to consistent_random, a CRC32 of the key; Sarama's default is
// FNV-1a; a record without a key goes round robin.
var partitioners = map[string]func(key []byte, n int, i int) int32{
	"murmur2": func(key []byte, n, _ int) int32 { return int32(inventory.PartitionOf(string(key), n)) },
	"crc32 (librdkafka consistent_random, kcat -k)": func(key []byte, n, _ int) int32 {
		return int32(crc32.ChecksumIEEE(key) % uint32(n))
	},
	"fnv1a (Sarama's hash partitioner)": func(key []byte, n, _ int) int32 {
		h := fnv.New32a()
		h.Write(key)
		p := int32(h.Sum32()) % int32(n)
		if p < 0 {
			p = -p
		}
		return p
	},
	"round robin (no key)": func(_ []byte, n, i int) int32 { return int32(i % n) },
}

const (
	murmur2    = "murmur2"
	crc32Part  = "crc32 (librdkafka consistent_random, kcat -k)"
	fnvPart    = "fnv1a (Sarama's hash partitioner)"
	roundRobin = "round robin (no key)"
)

// kafkaCorpus builds the garbage corpus: values that are not events,
// events of the wrong shape or version, NULL and empty values, values over
// the broker's limit, poison purchases, valid purchases partitioned by
// other clients' partitioners, and credentials in record headers.
func kafkaCorpus(rng *rand.Rand, sec *secrets) []kafkaCase {
	now := time.Now().UTC()
	valid := func(mod func(e *event.Event)) []byte {
		e := event.Event{SchemaVersion: event.SchemaVersion, EventID: uuid.Must(uuid.NewV7()).String(), EventType: event.TypeDefault,
			EventTime: event.MillisOf(now), RemoteIP: "10.1.2.3", UserAgent: "chaos-kafka/1", Host: "kafka-corpus"}
		mod(&e)
		b, err := json.Marshal(e)
		if err != nil {
			panic(err)
		}
		return b
	}
	purchase := func(user, item string, quantity int64) func(e *event.Event) {
		return func(e *event.Event) {
			it, _ := catalog.Lookup(item)
			e.EventType, e.UserName, e.ItemType, e.ItemName, e.ItemRarity = event.TypePurchaseItem, user, item, it.Name, it.Rarity
			e.Quantity, e.PriceCents, e.Currency, e.StoreID = quantity, it.PriceCents*quantity, catalog.DefaultCurrency, "kafka"
		}
	}
	head := fmt.Sprintf(`{"schema_version":1,"event_id":%q,"event_time":%q`, uuid.Must(uuid.NewV7()).String(), event.MillisOf(now))
	random := make([]byte, 64)
	for i := range random {
		random[i] = byte(rng.IntN(256))
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(valid(func(*event.Event) {}))
	zw.Close()
	deep := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)

	cases := []kafkaCase{
		{name: "not JSON", value: []byte("this is not json")},
		{name: "random bytes", value: random},
		{name: "gzip-compressed event", value: gz.Bytes()},
		{name: "truncated JSON", value: []byte(head)},
		{name: "JSON array", value: []byte(`[1,2,3]`)},
		{name: "JSON string", value: []byte(`"hello"`)},
		{name: "JSON null", value: []byte(`null`)},
		{name: "empty object", value: []byte(`{}`)},
		{name: "byte order mark", value: append([]byte("\xef\xbb\xbf"), valid(func(*event.Event) {})...)},
		{name: "trailing garbage", value: append(valid(func(*event.Event) {}), "xyz"...)},
		{name: "schema_version as a string", value: []byte(strings.Replace(string(valid(func(*event.Event) {})), `"schema_version":1`, `"schema_version":"1"`, 1))},
		{name: "quantity as a string", value: []byte(head + `,"event_type":"purchase_item","user_name":"kafka-types","item_type":"shield","quantity":"two"}`)},
		{name: "headers as an array", value: []byte(head + `,"event_type":"default","headers":[1,2]}`)},
		{name: "user_name as a number", value: []byte(head + `,"event_type":"default","user_name":42}`)},
		{name: "event_time as a number", value: []byte(fmt.Sprintf(`{"schema_version":1,"event_id":%q,"event_type":"default","event_time":1700000000000}`, uuid.Must(uuid.NewV7()).String()))},
		{name: "invalid UTF-8 in user_name", value: []byte(head + ",\"event_type\":\"default\",\"user_name\":\"\xff\xfe\"}")},
		{name: "deep nesting", value: []byte(head + `,"event_type":"default","x":` + deep + `}`)},
		{name: "schema_version 2", value: valid(func(e *event.Event) { e.SchemaVersion = 2 })},
		{name: "schema_version 0", value: valid(func(e *event.Event) { e.SchemaVersion = 0 })},
		{name: "schema_version huge", value: []byte(strings.Replace(string(valid(func(*event.Event) {})), `"schema_version":1`, `"schema_version":99999999999`, 1))},
		{name: "negative price", value: valid(func(e *event.Event) { purchase("kafka-neg", "shield", 1)(e); e.PriceCents = -100 })},
		{name: "NULL value", key: []byte("kafka-null"), value: nil},
		{name: "empty value", key: []byte("kafka-empty"), value: []byte{}},
		// Random, so that no compression brings it under the limit.
		{name: "value over the broker's limit (2 MB)", value: valid(func(e *event.Event) { e.UserAgent = randomString(rng, 2<<20, alnum) })},
		{name: "large valid event (900 KB)", value: valid(func(e *event.Event) { e.UserAgent = strings.Repeat("y", 900<<10) })},
		{name: "duplicate keys", value: []byte(strings.Replace(string(valid(func(e *event.Event) { e.UserName = "kafka-dup-a" })), `"user_name":"kafka-dup-a"`, `"user_name":"kafka-dup-a","user_name":"kafka-dup-b"`, 1))},
		{name: "event_time 1970", value: valid(func(e *event.Event) { e.EventTime = 1 })},
		{name: "event_time 9999", value: valid(func(e *event.Event) { e.EventTime = event.MillisOf(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)) })},
		{name: "unknown item (invalid purchase)", key: []byte("kafka-unobtainium"), value: valid(func(e *event.Event) {
			purchase("kafka-unobtainium", "shield", 1)(e)
			e.ItemType = "unobtainium"
		})},
		{name: "quantity 1000 (invalid purchase)", key: []byte("kafka-bulk"), value: valid(purchase("kafka-bulk", "potion", 1000))},
	}
	// Poison: two valid-looking purchases whose 600 KB item types would make
	// the player's state larger than a Kafka record may be.
	for i, fill := range []string{"p", "q"} {
		cases = append(cases, kafkaCase{name: fmt.Sprintf("poison purchase %d (600 KB item_type)", i+1), key: []byte("kafka-poison"), partitioner: murmur2,
			value: valid(func(e *event.Event) {
				purchase("kafka-poison", "shield", 1)(e)
				e.ItemType = strings.Repeat(fill, 600<<10)
			})})
	}
	// Valid purchases placed by other clients' partitioners, for players
	// the load generator also plays and for players only Kafka knows.
	users := []string{loadgen.Player(0), loadgen.Player(1), loadgen.Player(2), "kafka-crc", "kafka-fnv", "kafka-nokey"}
	for i, user := range users {
		part := []string{crc32Part, crc32Part, fnvPart, crc32Part, fnvPart, roundRobin}[i]
		item := catalog.Items[rng.IntN(len(catalog.Items))].Type
		c := kafkaCase{name: "valid purchase, " + part, key: []byte(user), partitioner: part, value: valid(purchase(user, item, int64(1+rng.IntN(3))))}
		if part == roundRobin {
			c.key = nil
		}
		cases = append(cases, c)
	}
	// Credentials in record headers, on a valid event.
	var headers []kgo.RecordHeader
	for _, name := range []string{"Authorization", "X-Api-Key", "Cookie"} {
		v := sec.add("Kafka header "+name, true)
		if name == "Authorization" {
			v = "Bearer " + v
		}
		headers = append(headers, kgo.RecordHeader{Key: name, Value: []byte(v)})
	}
	cases = append(cases, kafkaCase{name: "credentials in record headers", key: []byte("kafka-headers"), headers: headers,
		value: valid(purchase("kafka-headers", "ring", 1))})
	for i := range cases {
		if cases[i].partitioner == "" {
			cases[i].partitioner = murmur2
			if cases[i].key == nil {
				cases[i].partitioner = roundRobin
			}
		}
	}
	return cases
}

// kafkaCorpusResult is what producing the corpus did.
type kafkaCorpusResult struct {
	sent, acked int
	refused     []string // refused by the broker, with the error
}

// produceKafkaCorpus writes the corpus to topic, each record to the
// partition its partitioner picks.
func produceKafkaCorpus(ctx context.Context, brokers []string, topic string, partitions int, cases []kafkaCase) (kafkaCorpusResult, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchMaxBytes(4<<20), // let the broker, not the client, refuse the oversized value
		// A refused record must not poison the producer id of the others.
		kgo.DisableIdempotentWrite())
	if err != nil {
		return kafkaCorpusResult{}, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var res kafkaCorpusResult
	for i, c := range cases {
		r := &kgo.Record{Key: c.key, Value: c.value, Headers: c.headers,
			Partition: partitioners[c.partitioner](c.key, partitions, i)}
		res.sent++
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			res.refused = append(res.refused, fmt.Sprintf("%s: %v", c.name, err))
			continue
		}
		res.acked++
	}
	return res, nil
}
