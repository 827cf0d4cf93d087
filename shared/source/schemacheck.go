package source

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// CheckSchema holds a config schema to the vocabulary: every x- key is one it knows, in a
// place it belongs and of the right shape, every x-group names a declared section, and
// sections and actions have their ids, titles and kinds. It reports every problem at once.
func CheckSchema(raw json.RawMessage) error {
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("config schema: %w", err)
	}
	c := &schemaChecker{}
	c.top(doc)
	return errors.Join(c.errs...)
}

type schemaChecker struct {
	errs   []error
	groups map[string]bool // declared section ids; nil when the schema declares none
}

func (c *schemaChecker) fail(at, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("config schema: %s: %s", at, fmt.Sprintf(format, args...)))
}

// sortedKeys walks a JSON object in a stable order, so errors come in the same order.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (c *schemaChecker) top(doc map[string]any) {
	for _, k := range sortedKeys(doc) {
		switch {
		case !strings.HasPrefix(k, "x-"):
		case k == XGroups:
			c.sections(doc[k])
		case k == XAttributes:
			c.attributes(doc[k])
		case k == XActions, k == XSubjectHelp:
		default:
			c.unknown("top level", k)
		}
	}
	if help, ok := doc[XSubjectHelp]; ok {
		c.str("top level", XSubjectHelp, help)
	}
	if acts, ok := doc[XActions]; ok {
		c.actions(acts)
	}
	c.properties("properties", doc["properties"])
}

func (c *schemaChecker) unknown(at, key string) {
	c.fail(at, "%s is not an extension known here (known: %s at the top level; %s in a property; %s in a section; %s in an action)",
		key, strings.Join([]string{XGroups, XActions, XSubjectHelp, XAttributes}, ", "),
		strings.Join([]string{XGroup, XWidget, XLanguage, XDefaults, XCapability}, ", "), XCollapsed, XHealth)
}

func (c *schemaChecker) str(at, key string, v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		c.fail(at, "%s must be a string, not %s", key, jsonType(v))
	}
	return s, ok
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	}
	return "an object"
}

// objects returns v as a list of objects, failing when it is not one.
func (c *schemaChecker) objects(at string, v any) []map[string]any {
	list, ok := v.([]any)
	if !ok {
		c.fail(at, "must be an array of objects, not %s", jsonType(v))
		return nil
	}
	var out []map[string]any
	for i, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			c.fail(fmt.Sprintf("%s[%d]", at, i), "must be an object, not %s", jsonType(x))
			continue
		}
		out = append(out, m)
	}
	return out
}

func (c *schemaChecker) sections(v any) {
	c.groups = map[string]bool{}
	for i, g := range c.objects(XGroups, v) {
		at := fmt.Sprintf("%s[%d]", XGroups, i)
		id, _ := c.required(at, g, "id")
		c.required(at, g, "title")
		if d, ok := g["description"]; ok {
			c.str(at, "description", d)
		}
		if c.groups[id] {
			c.fail(at, "section id %q is declared twice", id)
		}
		c.groups[id] = true
		c.onlyFlag(at, g, XCollapsed)
	}
}

// attributes checks the attributes' words: each has a name and a title, no name twice, no extensions.
func (c *schemaChecker) attributes(v any) {
	names := map[string]bool{}
	for i, a := range c.objects(XAttributes, v) {
		at := fmt.Sprintf("%s[%d]", XAttributes, i)
		name, _ := c.required(at, a, "name")
		c.required(at, a, "title")
		if names[name] {
			c.fail(at, "attribute %q is named twice", name)
		}
		names[name] = true
		c.onlyFlag(at, a, "")
	}
}

// onlyFlag checks the extensions of a section or an action: flag, a boolean, is the one it may
// have ("" for none).
func (c *schemaChecker) onlyFlag(at string, m map[string]any, flag string) {
	for _, k := range sortedKeys(m) {
		switch {
		case !strings.HasPrefix(k, "x-"):
		case k == flag:
			if _, ok := m[k].(bool); !ok {
				c.fail(at, "%s must be a boolean, not %s", k, jsonType(m[k]))
			}
		default:
			c.unknown(at, k)
		}
	}
}

// required reads a non-empty string member of an object.
func (c *schemaChecker) required(at string, m map[string]any, key string) (string, bool) {
	v, ok := m[key]
	if !ok {
		c.fail(at, "%s is missing", key)
		return "", false
	}
	s, ok := c.str(at, key, v)
	if ok && s == "" {
		c.fail(at, "%s is empty", key)
		return "", false
	}
	return s, ok
}

func (c *schemaChecker) actions(v any) {
	ids := map[string]bool{}
	for i, a := range c.objects(XActions, v) {
		at := fmt.Sprintf("%s[%d]", XActions, i)
		id, _ := c.required(at, a, "id")
		c.required(at, a, "title")
		if kind, ok := c.required(at, a, "kind"); ok && kind != ActionKindRedirect && kind != ActionKindMessage {
			c.fail(at, "kind %q is neither %q nor %q", kind, ActionKindRedirect, ActionKindMessage)
		}
		if d, ok := a["description"]; ok {
			c.str(at, "description", d)
		}
		if ids[id] {
			c.fail(at, "action id %q is declared twice", id)
		}
		ids[id] = true
		c.onlyFlag(at, a, XHealth)
		if in, ok := a["input"]; ok {
			m, ok := in.(map[string]any)
			if !ok {
				c.fail(at, "input must be a schema object, not %s", jsonType(in))
				continue
			}
			c.property(at+".input", m)
		}
	}
}

// properties checks each property of a "properties" object.
func (c *schemaChecker) properties(at string, v any) {
	props, _ := v.(map[string]any)
	for _, name := range sortedKeys(props) {
		p, ok := props[name].(map[string]any)
		if !ok {
			continue // a boolean schema carries no extensions
		}
		c.property(at+"."+name, p)
	}
}

// property checks a property's extensions, then the schemas nested in it.
func (c *schemaChecker) property(at string, p map[string]any) {
	for _, k := range sortedKeys(p) {
		if !strings.HasPrefix(k, "x-") {
			continue
		}
		switch k {
		case XGroup:
			if g, ok := c.str(at, k, p[k]); ok && c.groups != nil && !c.groups[g] {
				c.fail(at, "%s %q names no section of %s", k, g, XGroups)
			} else if ok && c.groups == nil {
				c.fail(at, "%s %q but the schema declares no %s", k, g, XGroups)
			}
		case XWidget:
			if w, ok := c.str(at, k, p[k]); ok && !slices.Contains([]string{WidgetCode, WidgetTextarea}, w) {
				c.fail(at, "%s %q is neither %q nor %q", k, w, WidgetCode, WidgetTextarea)
			}
		case XLanguage, XDefaults, XCapability:
			c.str(at, k, p[k])
		default:
			c.unknown(at, k)
		}
	}
	c.nested(at, p)
}

// nested checks the schemas inside s: its properties and its items.
func (c *schemaChecker) nested(at string, s map[string]any) {
	c.properties(at+".properties", s["properties"])
	if items, ok := s["items"].(map[string]any); ok {
		c.property(at+".items", items)
	}
}
