// Command inventory is the Kafka-triggered job that folds purchases into
// each player's inventory (a compacted Kafka topic) and lands snapshots in
// the inventory dataset.
package main

import "github.com/questlog/questlog/internal/inventory"

func main() { inventory.StartFolder() }
