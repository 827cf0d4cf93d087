package plexsource

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
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

// The manifest's logo exists, and the icon Describe returns is the same picture.
func TestManifestLogoAndIcon(t *testing.T) {
	var m struct {
		Info struct {
			Logos map[string]string `json:"logos"`
		} `json:"info"`
	}
	b, err := os.ReadFile("../../plugin.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile("../../" + m.Info.Logos["small"])
	if err != nil {
		t.Fatalf("logo: %v", err)
	}
	if Icon != "data:image/svg+xml;base64,"+base64.StdEncoding.EncodeToString(bytes.TrimSpace(svg)) {
		t.Fatal("Describe's icon differs from the manifest's logo")
	}
}
