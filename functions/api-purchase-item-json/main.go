// Command api-purchase-item-json is the Lambda function behind
// POST /purchase/{username}; see api.PurchaseItemJSON.
package main

import "github.com/questlog/questlog/internal/api"

func main() { api.Start(api.PurchaseItemJSON) }
