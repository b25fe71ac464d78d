// Package chaos breaks a whole questlog stack on purpose and checks that
// nothing was lost, duplicated, wrong or leaked.
//
// Run starts the emulator as a child process on free ports and its own data
// directory, plays loadgen against it while it SIGKILLs function processes
// of that child (found by walking /proc down from its PID, never by name)
// and the whole emulator (restarting it on the same data), and sends a
// hostile HTTP corpus over raw TCP and a garbage Kafka corpus straight to
// the topic. Then it compares the accepted event ids with the topic and
// every dataset (each job's expected rows follow its FilterCriteria and
// FILTER, read from the template), recomputes every player's inventory,
// searches Kafka, Parquet and the logs for the credentials it sent, and
// counts exits nobody caused. Report.Failures says what fails the run.
package chaos
