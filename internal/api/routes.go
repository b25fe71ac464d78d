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
			user := r.PathValue("username")
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
			user, guild := r.PathValue("username"), r.PathValue("guildname")
			return &Draft{
				Event: event.Event{EventType: event.TypeJoinGuild, UserName: user, GuildName: guild},
				Reply: fmt.Sprintf("Hey %s!! You joined the guild %s successfully!\n", user, guild),
			}, nil
		},
	}
)
