package source

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// The config schema a plugin's Describe returns is JSON Schema 2020-12 plus the extension
// keys below, the vocabulary a host renders its settings form from. SchemaBuilder writes
// it, ParseSchema reads it and CheckSchema holds a schema to it.

// SchemaDialect is the $schema of every config schema.
const SchemaDialect = "https://json-schema.org/draft/2020-12/schema"

// Extension keys of the schema's top level.
const (
	// XGroups lists the form's sections in order ([]SchemaGroup).
	XGroups = "x-groups"
	// XActions lists the admin actions the plugin runs ([]SchemaAction).
	XActions = "x-actions"
	// XSubjectHelp tells an admin which id to enter to check someone who has not logged in yet (string).
	XSubjectHelp = "x-subject-help"
	// XAttributes names in words the attributes the plugin's logins return ([]SchemaAttribute,
	// contract 1.5); a host names an attribute it lacks by its key.
	XAttributes = "x-attributes"
)

// Extension keys of a property (FieldExtensions).
const (
	// XGroup places the property in the section of that id (string).
	XGroup = "x-group"
	// XWidget asks for an editor other than the type's default (string: WidgetCode, WidgetTextarea).
	XWidget = "x-widget"
	// XLanguage names the language of a code widget's text (string).
	XLanguage = "x-language"
	// XDefaults is read-only text the field's value builds on, shown beside it (string).
	XDefaults = "x-defaults"
	// XCapability names the capability a boolean property switches on (string).
	XCapability = "x-capability"
)

// XCollapsed folds a section (in an XGroups entry, boolean).
const XCollapsed = "x-collapsed"

// XHealth marks an action the host may run periodically to watch a credential (in an XActions entry, boolean).
const XHealth = "x-health"

// Values of XWidget.
const (
	// WidgetCode is a code editor.
	WidgetCode = "code"
	// WidgetTextarea is a multi-line text box (rendered like WidgetCode).
	WidgetTextarea = "textarea"
)

// Kinds of an admin action (SchemaAction.Kind).
const (
	// ActionKindRedirect sends the admin's browser away and back (ActionResult.Redirect).
	ActionKindRedirect = "redirect"
	// ActionKindMessage answers with a message or choices.
	ActionKindMessage = "message"
)

// SchemaGroup is a section of the settings form (an XGroups entry).
type SchemaGroup struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	// Collapsed folds the section unless one of its fields has an error (XCollapsed).
	Collapsed bool `json:"x-collapsed,omitempty"`
}

// SchemaAction is an admin action the plugin declares (an XActions entry).
type SchemaAction struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Kind        string `json:"kind"`
	Description string `json:"description,omitempty"`
	// Input is the JSON Schema of what the admin enters before running it, if anything.
	Input json.RawMessage `json:"input,omitempty"`
	// Health marks an action the host may run periodically to watch a credential (XHealth).
	Health bool `json:"x-health,omitempty"`
}

// SchemaAttribute is an attribute the plugin's logins return, in words (an XAttributes entry).
type SchemaAttribute struct {
	// Name is the attribute's key in Identity.Attributes.
	Name string `json:"name"`
	// Title is what a person reads for it, e.g. "Member of the owner's Home".
	Title string `json:"title"`
}

// SchemaExtensions are the extensions of a schema's top level.
type SchemaExtensions struct {
	Groups  []SchemaGroup  `json:"x-groups,omitempty"`
	Actions []SchemaAction `json:"x-actions,omitempty"`
	// SubjectHelp tells an admin which id to enter to check someone before their first login (XSubjectHelp).
	SubjectHelp string `json:"x-subject-help,omitempty"`
	// Attributes name the attributes logins return in words (XAttributes, contract 1.5).
	Attributes []SchemaAttribute `json:"x-attributes,omitempty"`
}

// FieldExtensions are the extensions of one property.
type FieldExtensions struct {
	Group      string `json:"x-group,omitempty"`
	Widget     string `json:"x-widget,omitempty"`
	Language   string `json:"x-language,omitempty"`
	Defaults   string `json:"x-defaults,omitempty"`
	Capability string `json:"x-capability,omitempty"`
}

// SchemaBuilder writes a config schema: an object refusing unknown properties, its
// properties in the order added (a host renders them in that order).
type SchemaBuilder struct {
	title    string
	required []string
	props    []builtProperty
	ext      SchemaExtensions
}

type builtProperty struct {
	name   string
	schema map[string]any
	ext    FieldExtensions
}

// NewSchemaBuilder starts the config schema titled title.
func NewSchemaBuilder(title string) *SchemaBuilder { return &SchemaBuilder{title: title} }

// Property adds a property: schema is its plain JSON Schema (no x- keys), ext its extensions.
func (b *SchemaBuilder) Property(name string, ext FieldExtensions, schema map[string]any) *SchemaBuilder {
	b.props = append(b.props, builtProperty{name: name, schema: schema, ext: ext})
	return b
}

// Require lists properties a config must have; Build refuses one never added.
func (b *SchemaBuilder) Require(names ...string) *SchemaBuilder {
	b.required = append(b.required, names...)
	return b
}

// Group adds a section of the form.
func (b *SchemaBuilder) Group(g SchemaGroup) *SchemaBuilder {
	b.ext.Groups = append(b.ext.Groups, g)
	return b
}

// Action adds an admin action.
func (b *SchemaBuilder) Action(a SchemaAction) *SchemaBuilder {
	b.ext.Actions = append(b.ext.Actions, a)
	return b
}

// SubjectHelp sets the sentence telling an admin which id to enter to check someone new.
func (b *SchemaBuilder) SubjectHelp(text string) *SchemaBuilder {
	b.ext.SubjectHelp = text
	return b
}

// Attribute names in words an attribute the plugin's logins return.
func (b *SchemaBuilder) Attribute(name, title string) *SchemaBuilder {
	b.ext.Attributes = append(b.ext.Attributes, SchemaAttribute{Name: name, Title: title})
	return b
}

// Build writes the schema, refusing one CheckSchema would refuse.
func (b *SchemaBuilder) Build() (json.RawMessage, error) {
	var props bytes.Buffer
	props.WriteByte('{')
	seen := map[string]bool{}
	for i, p := range b.props {
		if seen[p.name] {
			return nil, fmt.Errorf("config schema: property %q added twice", p.name)
		}
		seen[p.name] = true
		merged := map[string]any{}
		for k, v := range p.schema {
			if strings.HasPrefix(k, "x-") {
				return nil, fmt.Errorf("config schema: property %q: %s belongs in its FieldExtensions", p.name, k)
			}
			merged[k] = v
		}
		extJSON, _ := json.Marshal(p.ext)
		var ext map[string]any
		_ = json.Unmarshal(extJSON, &ext)
		for k, v := range ext {
			merged[k] = v
		}
		name, _ := json.Marshal(p.name)
		value, err := json.Marshal(merged)
		if err != nil {
			return nil, fmt.Errorf("config schema: property %q: %w", p.name, err)
		}
		if i > 0 {
			props.WriteByte(',')
		}
		props.Write(name)
		props.WriteByte(':')
		props.Write(value)
	}
	props.WriteByte('}')
	for _, name := range b.required {
		if !seen[name] {
			return nil, fmt.Errorf("config schema: required property %q is not a property (no config could have it)", name)
		}
	}
	doc := struct {
		Schema               string          `json:"$schema"`
		Title                string          `json:"title"`
		Type                 string          `json:"type"`
		AdditionalProperties bool            `json:"additionalProperties"`
		Required             []string        `json:"required,omitempty"`
		Properties           json.RawMessage `json:"properties"`
		SchemaExtensions
	}{SchemaDialect, b.title, "object", false, b.required, props.Bytes(), b.ext}
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("config schema: %w", err)
	}
	if err := CheckSchema(raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// ParsedSchema is the vocabulary a host reads from a config schema.
type ParsedSchema struct {
	SchemaExtensions
	// Fields are the extensions of each top-level property, by name.
	Fields map[string]FieldExtensions
}

// ParseSchema reads the extensions of a config schema; unknown keys are ignored (CheckSchema
// refuses them), a known key of the wrong shape is an error.
func ParseSchema(raw json.RawMessage) (*ParsedSchema, error) {
	var doc struct {
		SchemaExtensions
		Properties map[string]FieldExtensions `json:"properties"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("config schema: %w", err)
	}
	return &ParsedSchema{SchemaExtensions: doc.SchemaExtensions, Fields: doc.Properties}, nil
}

// AttributeTitles are the declared titles of attributes by name (empty for a plugin older
// than contract 1.5).
func (p *ParsedSchema) AttributeTitles() map[string]string {
	out := make(map[string]string, len(p.Attributes))
	for _, a := range p.Attributes {
		out[a.Name] = a.Title
	}
	return out
}
