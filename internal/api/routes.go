package api

import (
	"fmt"

	"github.com/questlog/questlog/internal/catalog"
	"github.com/questlog/questlog/internal/event"
)

// The reference pipeline's routes, with its response texts.
var (
	Default = Route{
		Pattern: "GET /{$}",
		Build: func(r *Request) (*Draft, error) {
			return &Draft{
				Event: event.Event{EventType: event.TypeDefault},
				Reply: "This is the default response!\n",
			}, nil
		},
	}

	PurchaseSword = Route{
		Pattern: "GET /purchase_a_sword/{username}",
		Build: func(r *Request) (*Draft, error) {
			user, err := name(r, "username")
			if err != nil {
				return nil, err
			}
			sword, _ := catalog.Lookup("sword")
			return &Draft{
				Event: event.Event{
					EventType: event.TypePurchaseSword, UserName: user,
					ItemType: sword.Type, ItemName: sword.Name, ItemRarity: sword.Rarity,
					Quantity: 1, PriceCents: sword.PriceCents, Currency: catalog.DefaultCurrency,
				},
				Reply: fmt.Sprintf("Hello %s!! You purchased a Sword successfully!\n", user),
			}, nil
		},
	}

	JoinGuild = Route{
		Pattern: "GET /join_a_guild/{username}/{guildname}",
		Build: func(r *Request) (*Draft, error) {
			user, err := name(r, "username")
			if err != nil {
				return nil, err
			}
			guild, err := name(r, "guildname")
			if err != nil {
				return nil, err
			}
			return &Draft{
				Event: event.Event{EventType: event.TypeJoinGuild, UserName: user, GuildName: guild},
				Reply: fmt.Sprintf("Hey %s!! You joined the guild %s successfully!\n", user, guild),
			}, nil
		},
	}
)

// name reads and validates a path parameter naming a user or a guild.
func name(r *Request, param string) (string, error) {
	v := r.PathValue(param)
	if !event.ValidName(v) {
		return "", &BadRequest{Field: param, Reason: fmt.Sprintf("%s %q must be %s", param, v, event.NameRule)}
	}
	return v, nil
}
