// Package settings reads the part of a plugin's JSON Schema the host renders as a settings form:
// the properties in document order, their x- extensions, and the form values back into a config.
package settings

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/plexlogin/plexlogin/shared/source"
)

// Schema is the part of a plugin's JSON Schema the form renderer understands; the
// extensions (x- keys) are read by source.ParseSchema, the contract's vocabulary.
type Schema struct {
	Type        string             `json:"type"`
	Title       string             `json:"title"`
	Description string             `json:"description"`
	Default     any                `json:"default"`
	WriteOnly   bool               `json:"writeOnly"`
	ReadOnly    bool               `json:"readOnly"`
	OneOf       []Option           `json:"oneOf"`
	Items       *Schema            `json:"items"`
	Properties  map[string]*Schema `json:"properties"`
	Required    []string           `json:"required"`
	// Widget asks for an editor other than the type's default (x-widget).
	Widget string `json:"-"`
	// Capability names the capability this boolean switches on (x-capability).
	Capability string `json:"-"`
	// Actions are the admin actions the plugin runs (x-actions, top level).
	Actions []Action `json:"-"`
	// Defaults is read-only text a code field's value builds on (x-defaults), shown beside it.
	Defaults string `json:"-"`
	// Group places a property in one of the schema's Groups (x-group).
	Group string `json:"-"`
	// Groups are the form's sections, in order (x-groups, top level).
	Groups []Group `json:"-"`
	// SubjectHelp tells an admin which id to enter to check someone before their first
	// login (x-subject-help, top level); empty when the plugin gives none.
	SubjectHelp string `json:"-"`
	// AttributeTitles are the words for the attributes logins return, by name (x-attributes,
	// top level); empty when the plugin gives none.
	AttributeTitles map[string]string `json:"-"`
	order           []string
}

// Group is a section of a settings form. A collapsed one (internals, rarely changed
// settings) is folded unless one of its fields has an error.
type Group = source.SchemaGroup

// FieldGroup is a group with its rendered fields.
type FieldGroup struct {
	Group
	Fields []Field
	Open   bool
}

// Grouped places fields in the schema's groups, in order; fields of no declared group
// come last, under "Other settings". Empty groups are left out.
func (s *Schema) Grouped(fields []Field) []FieldGroup {
	var out []FieldGroup
	index := map[string]int{}
	for _, g := range s.Groups {
		index[g.ID] = len(out)
		out = append(out, FieldGroup{Group: g})
	}
	other := -1
	for _, f := range fields {
		i, ok := index[s.Properties[f.Name].Group]
		if !ok {
			if other < 0 {
				other = len(out)
				title := "Other settings"
				if len(s.Groups) == 0 {
					title = ""
				}
				out = append(out, FieldGroup{Group: Group{ID: "other", Title: title}})
			}
			i = other
		}
		out[i].Fields = append(out[i].Fields, f)
		if len(f.Errors) > 0 {
			out[i].Open = true
		}
	}
	kept := out[:0]
	for _, g := range out {
		if len(g.Fields) > 0 {
			g.Open = g.Open || !g.Collapsed
			kept = append(kept, g)
		}
	}
	return kept
}

// Option is an enum value with its label.
type Option struct {
	Const any    `json:"const"`
	Title string `json:"title"`
}

// Action is an admin action a plugin declares.
type Action struct {
	ID          string
	Title       string
	Kind        string
	Description string
	// Input is what the admin enters before running it; nil when nothing.
	Input *Schema
	// Health marks an action the host may run periodically to watch a credential.
	Health bool
}

// ParseSchema reads a config schema, keeping the order of properties.
func ParseSchema(raw json.RawMessage) (*Schema, error) {
	var s Schema
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("config schema: %w", err)
	}
	fillOrder(&s, raw)
	ext, err := source.ParseSchema(raw)
	if err != nil {
		return nil, err
	}
	s.Groups, s.SubjectHelp, s.AttributeTitles = ext.Groups, ext.SubjectHelp, ext.AttributeTitles()
	for name, f := range ext.Fields {
		if p := s.Properties[name]; p != nil {
			p.Widget, p.Capability, p.Defaults, p.Group = f.Widget, f.Capability, f.Defaults, f.Group
		}
	}
	for _, a := range ext.Actions {
		act := Action{ID: a.ID, Title: a.Title, Kind: a.Kind, Description: a.Description, Health: a.Health}
		if len(a.Input) > 0 && string(a.Input) != "null" {
			if act.Input, err = ParseSchema(a.Input); err != nil {
				return nil, fmt.Errorf("action %s: input: %w", a.ID, err)
			}
		}
		s.Actions = append(s.Actions, act)
	}
	return &s, nil
}

// fillOrder records the document order of properties, recursively.
func fillOrder(s *Schema, raw json.RawMessage) {
	var parts struct {
		Properties json.RawMessage `json:"properties"`
		Items      json.RawMessage `json:"items"`
	}
	_ = json.Unmarshal(raw, &parts)
	s.order = orderedKeys(parts.Properties)
	var props map[string]json.RawMessage
	_ = json.Unmarshal(parts.Properties, &props)
	for name, p := range s.Properties {
		fillOrder(p, props[name])
	}
	if s.Items != nil {
		fillOrder(s.Items, parts.Items)
	}
}

// orderedKeys returns the keys of a JSON object in document order.
func orderedKeys(raw json.RawMessage) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return keys
		}
		keys = append(keys, t.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return keys
		}
	}
	return keys
}

// Field is one rendered form field.
type Field struct {
	Name         string
	Title        string
	Description  string
	Kind         string // text, secret, readonly, textarea, code, select, checkbox, number, lines, secretlines, rows
	Value        string
	Checked      bool
	Options      []SelectOption
	Columns      []string
	ColumnTitles []string
	Rows         [][]string
	HasSecret    bool
	Defaults     string
	Errors       []source.FieldError
}

// SelectOption is one <option>.
type SelectOption struct {
	Value, Label string
	Selected     bool
}

// Fields builds the form of cfg (secrets never echoed) with errors placed beside their field.
func (s *Schema) Fields(cfg map[string]any, errs []source.FieldError) []Field {
	var out []Field
	for _, name := range s.order {
		p := s.Properties[name]
		f := Field{Name: name, Title: p.Title, Description: p.Description}
		if f.Title == "" {
			f.Title = name
		}
		v, has := cfg[name]
		if !has {
			v = p.Default
		}
		switch {
		case p.WriteOnly && p.ReadOnly:
			continue // a secret the plugin keeps for itself: never shown, never edited
		case p.WriteOnly:
			f.Kind = "secret"
			if p.Type == "array" {
				f.Kind = "secretlines"
			}
			f.HasSecret = has && v != nil && v != "" && fmt.Sprint(v) != "[]"
		case p.ReadOnly:
			f.Kind, f.Value = "readonly", Scalar(v)
		case len(p.OneOf) > 0:
			f.Kind = "select"
			for _, o := range p.OneOf {
				val := Scalar(o.Const)
				f.Options = append(f.Options, SelectOption{Value: val, Label: o.Title, Selected: val == Scalar(v)})
			}
		case p.Type == "boolean":
			f.Kind = "checkbox"
			f.Checked, _ = v.(bool)
		case p.Type == "integer" || p.Type == "number":
			f.Kind, f.Value = "number", Scalar(v)
		case p.Type == "string" && (p.Widget == source.WidgetCode || p.Widget == source.WidgetTextarea):
			f.Kind, f.Value, f.Defaults = "code", Scalar(v), p.Defaults
		case p.Type == "array" && p.Items != nil && p.Items.Type == "object":
			f.Kind = "rows"
			f.Columns = p.Items.order
			for _, c := range f.Columns {
				t := c
				if cp := p.Items.Properties[c]; cp != nil && cp.Title != "" {
					t = cp.Title
				}
				f.ColumnTitles = append(f.ColumnTitles, t)
			}
			list, _ := v.([]any)
			for _, item := range list {
				m, _ := item.(map[string]any)
				row := make([]string, len(f.Columns))
				for i, c := range f.Columns {
					row[i] = Scalar(m[c])
				}
				f.Rows = append(f.Rows, row)
			}
			f.Rows = append(f.Rows, make([]string, len(f.Columns)))
		case p.Type == "array":
			f.Kind = "lines"
			list, _ := v.([]any)
			var lines []string
			for _, x := range list {
				lines = append(lines, Scalar(x))
			}
			f.Value = strings.Join(lines, "\n")
		default:
			f.Kind, f.Value = "text", Scalar(v)
		}
		for _, e := range errs {
			if e.Field == name || strings.HasPrefix(e.Field, name+".") {
				f.Errors = append(f.Errors, e)
			}
		}
		out = append(out, f)
	}
	return out
}

// OtherErrors returns errors that belong to no property (shown at the top of the form).
func (s *Schema) OtherErrors(errs []source.FieldError) []source.FieldError {
	var out []source.FieldError
	for _, e := range errs {
		name := strings.SplitN(e.Field, ".", 2)[0]
		if _, ok := s.Properties[name]; !ok {
			out = append(out, e)
		}
	}
	return out
}

// Scalar is a form value's text: a string as it is, a number as JSON writes it.
func Scalar(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case json.Number:
		return t.String()
	}
	return fmt.Sprint(v)
}

// ParseForm turns submitted values into a config; a blank secret keeps the stored value.
func (s *Schema) ParseForm(form url.Values, stored map[string]any) map[string]any {
	out := map[string]any{}
	for _, name := range s.order {
		p := s.Properties[name]
		raw := form.Get("f." + name)
		switch {
		case p.ReadOnly:
			if v, ok := stored[name]; ok {
				out[name] = v
			}
		case p.WriteOnly && p.Type == "array":
			lines := Lines(raw)
			if len(lines) == 0 && form.Get("clear."+name) == "" {
				if v, ok := stored[name]; ok {
					out[name] = v
				}
				continue
			}
			out[name] = toAny(lines)
		case p.WriteOnly:
			if raw == "" && form.Get("clear."+name) == "" {
				if v, ok := stored[name]; ok {
					out[name] = v
				}
				continue
			}
			out[name] = raw
		case p.Type == "boolean":
			out[name] = raw == "on" || raw == "true"
		case p.Type == "integer" || p.Type == "number":
			if strings.TrimSpace(raw) == "" {
				continue
			}
			if n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64); err == nil {
				out[name] = n
			} else {
				out[name] = raw // the plugin reports the type error beside the field
			}
		case p.Type == "array" && p.Items != nil && p.Items.Type == "object":
			var rows []any
			for i := 0; i < 1000; i++ {
				row := map[string]any{}
				empty, seen := true, false
				for _, c := range p.Items.order {
					key := fmt.Sprintf("f.%s.%d.%s", name, i, c)
					if _, ok := form[key]; ok {
						seen = true
					}
					if v := strings.TrimSpace(form.Get(key)); v != "" {
						row[c], empty = v, false
					}
				}
				if !seen {
					break
				}
				if !empty {
					rows = append(rows, row)
				}
			}
			if rows == nil {
				rows = []any{}
			}
			out[name] = rows
		case p.Type == "array":
			out[name] = toAny(Lines(raw))
		default:
			if _, ok := form["f."+name]; ok {
				out[name] = raw
			}
		}
	}
	return out
}

// Lines are a text area's non-empty lines, trimmed.
func Lines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func toAny(l []string) []any {
	out := make([]any, 0, len(l))
	for _, x := range l {
		out = append(out, x)
	}
	return out
}

// ApplyChoices sets field to the picked choices; an array of objects gets each choice's
// value in its first required property, its label in "name" and matching details.
func (s *Schema) ApplyChoices(cfg map[string]any, field string, picked []source.Choice) {
	p := s.Properties[field]
	if p == nil {
		return
	}
	if p.Type == "array" && p.Items != nil && p.Items.Type == "object" {
		key := ""
		if len(p.Items.Required) > 0 {
			key = p.Items.Required[0]
		}
		var rows []any
		for _, c := range picked {
			row := map[string]any{}
			for _, col := range p.Items.order {
				if v, ok := c.Details[col]; ok {
					row[col] = v
				}
			}
			if key != "" {
				row[key] = c.Value
			}
			if _, ok := p.Items.Properties["name"]; ok {
				row["name"] = c.Label
			}
			rows = append(rows, row)
		}
		cfg[field] = rows
		return
	}
	if p.Type == "array" {
		var vals []any
		for _, c := range picked {
			vals = append(vals, c.Value)
		}
		cfg[field] = vals
		return
	}
	if len(picked) > 0 {
		cfg[field] = picked[0].Value
	}
}

// CapabilityEnabled reports whether a capability gated by an x-capability boolean is on in cfg.
func (s *Schema) CapabilityEnabled(capability string, cfg map[string]any) bool {
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	gated := false
	for _, n := range names {
		if s.Properties[n].Capability == capability {
			gated = true
			if on, _ := cfg[n].(bool); on {
				return true
			}
		}
	}
	return !gated
}

// CodeField is the last property shown as a code editor (x-widget "code"), or "".
func (s *Schema) CodeField() string {
	var out string
	for _, f := range s.order {
		if s.Properties[f].Widget == source.WidgetCode {
			out = f
		}
	}
	return out
}
