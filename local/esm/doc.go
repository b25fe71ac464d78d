// Package esm emulates AWS Lambda's Kafka event source mappings (ESM) for
// self-managed Kafka: it polls a topic in a consumer group, batches records
// the way Lambda does, invokes a function through an invoke.Invoker with the
// exact events.KafkaEvent JSON Lambda sends, and commits offsets only after
// the function succeeded.
//
// # Behaviour
//
//   - Consumer group: Mapping.ConsumerGroupID when set (the template's
//     ConsumerGroupId); otherwise a stable id derived from the function and
//     the topic (see Mapping.GroupID), so a restarted emulator resumes
//     where it stopped.
//   - Starting position: if the group already has committed offsets for the
//     topic, they win and StartingPosition is ignored. Otherwise Run resolves
//     StartingPosition (TRIM_HORIZON, LATEST, AT_TIMESTAMP) to offsets once
//     and commits them for the group before joining it, the way a mapping's
//     position is fixed when AWS creates it: records produced after that
//     are delivered even if the emulator restarts before any invocation.
//   - Batching: per partition. A batch is invoked when BatchSize records
//     are gathered, when the batching window (started by the batch's first
//     record) elapses, or when the next record would push the JSON payload
//     over invoke.MaxPayloadBytes (6 MB). Each payload holds the records of
//     one partition, offsets ascending; the payload format allows several
//     partitions, and consumers of it must not assume otherwise.
//   - Ordering: at most one batch per partition is in flight; partitions are
//     processed concurrently.
//   - Filtering: FilterPatterns (FilterCriteria) are applied to each record's
//     value as it arrives. Records that match no pattern are not sent; their
//     offsets are committed with the next successful batch, or on their own
//     when a batch window holds only filtered records.
//   - Oversized records: a record whose payload alone would exceed 6 MB is
//     logged at ERROR (topic, partition, offset), counted in Stats.Oversized
//     and committed without being delivered ("can go unprocessed", as AWS
//     documents).
//   - Errors: a function error (Result.Error) or an invoke error other than
//     the cancellation of our own context retries the same batch, forever,
//     with exponential backoff and jitter, blocking that partition. Records
//     are never skipped because of errors; nothing is committed for a batch
//     until it succeeded.
//   - Shutdown: cancelling Run's context stops fetching and batching; batches
//     being invoked may finish (bounded by Options.DrainTimeout), successful
//     ones are committed, then the member leaves the group.
//   - Rebalances: offsets are committed manually (auto-commit is disabled)
//     and polling blocks rebalances until the polled records are handed to
//     the partition workers, so a record is never routed to a worker of a
//     partition this member no longer owns. When partitions are revoked, the
//     member stops their workers, lets an in-flight invocation finish
//     (bounded by Options.DrainTimeout), commits what succeeded from inside
//     the revoke callback, and only then lets the rebalance proceed: the new
//     owner starts exactly after the last successful batch. A batch still
//     failing or unfinished at revocation is not committed and is delivered
//     again by the new owner (at-least-once, like Lambda). Lost partitions
//     (session expired) are dropped without commit.
//
// Replay is the batch counterpart: it reads a topic from the earliest to the
// latest offsets as of its start, with the same payloads, filters and
// retries, and commits nothing, so it does not disturb the live mapping.
//
// # Not emulated
//
// Provisioned-mode controls (MaximumRetryAttempts, MaximumRecordAgeInSeconds,
// BisectBatchOnFunctionError, ReportBatchItemFailures), on-failure
// destinations, poller scaling (here: one consumer per mapping, one worker
// per assigned partition), SASL/TLS to the brokers, MSK (eventSource
// "aws:kafka", eventSourceArn) and the up-to-15-minute delay AWS takes to
// apply filter changes.
package esm
