// Package event defines questlog's game event: the versioned JSON document
// the API functions publish to Kafka, its validation, the deterministic
// munge step, and the typed Parquet row the Kafka-triggered jobs write.
//
// Wire format (schema_version 1), one JSON object per Kafka record, keyed by
// the user name so one player's events stay ordered in one partition:
//
//	{"schema_version":1,"event_id":"0192…","event_type":"purchase_sword",
//	 "event_time":"2026-11-26T23:44:55.123Z","user_name":"divya",
//	 "item_type":"sword","remote_ip":"203.0.113.7","user_agent":"curl/8.5.0",
//	 "host":"localhost:3000","headers":{"Accept":"*/*"}}
//
// Optional fields are omitted when empty. Consumers reject documents whose
// schema_version they do not know instead of guessing.
package event
