// Command api-inventory answers GET /inventory/{username}.
package main

import "github.com/questlog/questlog/internal/inventory"

func main() { inventory.StartAPI() }
