package catalog_test

import (
	"testing"

	"github.com/questlog/questlog/internal/catalog"
	"github.com/questlog/questlog/internal/event"
)

func TestCatalogIsValid(t *testing.T) {
	if err := catalog.Check(); err != nil {
		t.Fatal(err)
	}
	if len(catalog.Items) < 8 {
		t.Fatalf("catalog has %d items", len(catalog.Items))
	}
	for _, want := range []string{"sword", "shield", "armor", "bow", "potion"} {
		if _, ok := catalog.Lookup(want); !ok {
			t.Errorf("catalog lacks %s", want)
		}
	}
	for _, it := range catalog.Items {
		if !event.ValidName(it.Type) {
			t.Errorf("item type %q is not a valid name", it.Type)
		}
	}
}

func TestLookupAndLimits(t *testing.T) {
	if _, ok := catalog.Lookup("laser"); ok {
		t.Error("Lookup(laser) found an item")
	}
	for q, want := range map[int64]bool{0: false, 1: true, 99: true, 100: false, -1: false} {
		if catalog.ValidQuantity(q) != want {
			t.Errorf("ValidQuantity(%d) != %v", q, want)
		}
	}
	if !catalog.ValidCurrency("gold") || catalog.ValidCurrency("doubloons") {
		t.Error("ValidCurrency")
	}
}
