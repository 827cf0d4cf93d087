package plexsource

import (
	"encoding/json"
	"testing"
)

func TestSchemaListsEveryPropertyInOrder(t *testing.T) {
	raw := configSchema()
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if len(s.Properties) != len(propertyOrder) {
		t.Fatalf("%d properties, %d in the order", len(s.Properties), len(propertyOrder))
	}
	var c map[string]any
	b, _ := json.Marshal(Config{})
	_ = json.Unmarshal(b, &c)
	for k := range c {
		if _, ok := s.Properties[k]; !ok {
			t.Errorf("config field %s missing from the schema", k)
		}
	}
}
