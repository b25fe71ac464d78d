// Command api-join-guild is the Lambda function behind one route of the game API;
// see api.JoinGuild.
package main

import "github.com/questlog/questlog/internal/api"

func main() { api.Start(api.JoinGuild) }
