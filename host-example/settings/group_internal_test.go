package settings

import (
	"testing"

	"github.com/plexlogin/plexlogin/shared/source"
)

// The form follows the schema's groups; a folded group opens when one of its fields has an
// error; a property of no declared group lands in "Other settings", after the others.
func TestSchemaGroups(t *testing.T) {
	sch, err := ParseSchema([]byte(`{"type":"object","properties":{
		"timeout":{"type":"integer","title":"Timeout","x-group":"advanced"},
		"mode":{"type":"string","title":"Who","x-group":"access"},
		"stray":{"type":"string"}},
		"x-groups":[{"id":"access","title":"Who may log in"},{"id":"empty","title":"Nothing here"},{"id":"advanced","title":"Advanced","x-collapsed":true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	groups := sch.Grouped(sch.Fields(map[string]any{}, nil))
	var got []string
	for _, g := range groups {
		got = append(got, g.ID)
	}
	if len(groups) != 3 || got[0] != "access" || got[1] != "advanced" || got[2] != "other" || groups[1].Open || groups[2].Title != "Other settings" {
		t.Fatalf("groups %v (advanced open %v)", got, groups[1].Open)
	}
	groups = sch.Grouped(sch.Fields(map[string]any{}, []source.FieldError{{Field: "timeout", Message: "must be between 1 and 60"}}))
	if !groups[1].Open {
		t.Fatal("a folded group with an error stays closed")
	}
}
