// Command api-purchase-item is the Lambda function behind
// GET /purchase/{username}/{item_type}; see api.PurchaseItem.
package main

import "github.com/questlog/questlog/internal/api"

func main() { api.Start(api.PurchaseItem) }
