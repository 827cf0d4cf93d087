package source_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/shared/source"
)

func TestSchemaBuilderWritesTheVocabulary(t *testing.T) {
	raw, err := source.NewSchemaBuilder("Example").
		Property("b", source.FieldExtensions{Group: "main", Widget: source.WidgetCode, Language: "text", Defaults: "d"},
			map[string]any{"type": "string", "title": "B"}).
		Property("a", source.FieldExtensions{Group: "main", Capability: source.CapPasswordLogin}, map[string]any{"type": "boolean", "title": "A"}).
		Require("b").
		Group(source.SchemaGroup{ID: "main", Title: "Main", Collapsed: true}).
		Action(source.SchemaAction{ID: "go", Title: "Go", Kind: source.ActionKindMessage, Health: true,
			Input: json.RawMessage(`{"type":"object","properties":{"x":{"type":"string","title":"X"}}}`)}).
		SubjectHelp("Enter their id.").
		Attribute("level", "Level of access").
		Build()
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	_ = json.Unmarshal(raw, &got)
	_ = json.Unmarshal([]byte(`{"$schema":"https://json-schema.org/draft/2020-12/schema","title":"Example","type":"object",
		"additionalProperties":false,"required":["b"],
		"properties":{"b":{"type":"string","title":"B","x-group":"main","x-widget":"code","x-language":"text","x-defaults":"d"},
			"a":{"type":"boolean","title":"A","x-group":"main","x-capability":"login.password"}},
		"x-groups":[{"id":"main","title":"Main","x-collapsed":true}],
		"x-actions":[{"id":"go","title":"Go","kind":"message","x-health":true,"input":{"type":"object","properties":{"x":{"type":"string","title":"X"}}}}],
		"x-subject-help":"Enter their id.","x-attributes":[{"name":"level","title":"Level of access"}]}`), &want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("built %s", raw)
	}
	if !strings.Contains(string(raw), `"properties":{"b":`) {
		t.Errorf("properties not in the order added: %s", raw)
	}
	p, err := source.ParseSchema(raw)
	if err != nil {
		t.Fatal(err)
	}
	if p.SubjectHelp != "Enter their id." || len(p.Groups) != 1 || !p.Groups[0].Collapsed || len(p.Actions) != 1 || !p.Actions[0].Health ||
		p.Fields["b"].Widget != source.WidgetCode || p.Fields["a"].Capability != source.CapPasswordLogin || p.Fields["b"].Language != "text" ||
		p.AttributeTitles()["level"] != "Level of access" {
		t.Fatalf("parsed %+v", p)
	}
}

func TestSchemaBuilderRefusesRawExtensions(t *testing.T) {
	_, err := source.NewSchemaBuilder("E").Property("a", source.FieldExtensions{}, map[string]any{"type": "string", "x-group": "g"}).Build()
	if err == nil || !strings.Contains(err.Error(), `property "a": x-group belongs in its FieldExtensions`) {
		t.Fatalf("got %v", err)
	}
	_, err = source.NewSchemaBuilder("E").Property("a", source.FieldExtensions{Group: "nowhere"}, map[string]any{"type": "string"}).
		Group(source.SchemaGroup{ID: "g", Title: "G"}).Build()
	if err == nil || !strings.Contains(err.Error(), `x-group "nowhere" names no section of x-groups`) {
		t.Fatalf("got %v", err)
	}
}

func TestSchemaBuilderRefusesBadProperties(t *testing.T) {
	_, err := source.NewSchemaBuilder("E").Property("a", source.FieldExtensions{}, map[string]any{"type": "string"}).Require("b").Build()
	if err == nil || !strings.Contains(err.Error(), `required property "b" is not a property`) {
		t.Fatalf("got %v", err)
	}
	_, err = source.NewSchemaBuilder("E").Property("a", source.FieldExtensions{}, map[string]any{"type": "string"}).
		Property("a", source.FieldExtensions{}, map[string]any{"type": "string"}).Build()
	if err == nil || !strings.Contains(err.Error(), `property "a" added twice`) {
		t.Fatalf("got %v", err)
	}
}

func TestCheckSchemaRefusesUnknownKeysAndShapes(t *testing.T) {
	for _, tc := range []struct{ schema, want string }{
		{`{"x-colour":"red","properties":{}}`, `top level: x-colour is not an extension known here`},
		{`{"properties":{"a":{"x-group":"g"}}}`, `properties.a: x-group "g" but the schema declares no x-groups`},
		{`{"x-groups":[{"id":"g","title":"G"}],"properties":{"a":{"x-group":1}}}`, `properties.a: x-group must be a string, not a number`},
		{`{"properties":{"a":{"x-widget":"wysiwyg"}}}`, `properties.a: x-widget "wysiwyg" is neither "code" nor "textarea"`},
		{`{"properties":{"a":{"type":"array","items":{"x-health":true}}}}`, `properties.a.items: x-health is not an extension known here`},
		{`{"properties":{"a":{"x-collapsed":true}}}`, `properties.a: x-collapsed is not an extension known here`},
		{`{"x-groups":{"id":"g"}}`, `x-groups: must be an array of objects, not an object`},
		{`{"x-groups":[{"id":"g"}]}`, `x-groups[0]: title is missing`},
		{`{"x-groups":[{"id":"g","title":"G","x-collapsed":"yes"}]}`, `x-groups[0]: x-collapsed must be a boolean, not a string`},
		{`{"x-actions":[{"id":"a","title":"A","kind":"dance"}]}`, `x-actions[0]: kind "dance" is neither "redirect" nor "message"`},
		{`{"x-actions":[{"id":"a","title":"A","kind":"message","x-health":"on"}]}`, `x-actions[0]: x-health must be a boolean, not a string`},
		{`{"x-actions":[{"id":"a","title":"A","kind":"message","input":{"properties":{"m":{"x-secret":true}}}}]}`,
			`x-actions[0].input.properties.m: x-secret is not an extension known here`},
		{`{"x-subject-help":["a"]}`, `top level: x-subject-help must be a string, not an array`},
		{`{"x-attributes":{"name":"a"}}`, `x-attributes: must be an array of objects, not an object`},
		{`{"x-attributes":[{"name":"a"}]}`, `x-attributes[0]: title is missing`},
		{`{"x-attributes":[{"name":"","title":"A"}]}`, `x-attributes[0]: name is empty`},
		{`{"x-attributes":[{"name":"a","title":"A"},{"name":"a","title":"B"}]}`, `x-attributes[1]: attribute "a" is named twice`},
		{`{"x-attributes":[{"name":"a","title":"A","x-health":true}]}`, `x-attributes[0]: x-health is not an extension known here`},
	} {
		err := source.CheckSchema(json.RawMessage(tc.schema))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %s", tc.schema, err, tc.want)
		}
	}
	if err := source.CheckSchema(json.RawMessage(`{"type":"object","properties":{"a":{"type":"string"}}}`)); err != nil {
		t.Errorf("a schema without extensions: %v", err)
	}
}
