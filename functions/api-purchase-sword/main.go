// Command api-purchase-sword is the Lambda function behind one route of the game API;
// see api.PurchaseSword.
package main

import "github.com/questlog/questlog/internal/api"

func main() { api.Start(api.PurchaseSword) }
