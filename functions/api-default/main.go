// Command api-default is the Lambda function behind one route of the game API;
// see api.Default.
package main

import "github.com/questlog/questlog/internal/api"

func main() { api.Start(api.Default) }
