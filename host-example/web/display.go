package web

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// attributeRow is one mapped attribute as a person reads it.
type attributeRow struct{ Name, Value string }

// attributeRows turns mapped attributes (a JSON object) into sorted rows: yes/no for
// booleans, lists joined with commas, objects as compact JSON.
func attributeRows(raw json.RawMessage) []attributeRow {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	rows := make([]attributeRow, 0, len(m))
	for k, v := range m {
		rows = append(rows, attributeRow{Name: k, Value: displayValue(v)})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	return rows
}

func displayValue(v any) string {
	switch t := v.(type) {
	case nil:
		return "—"
	case bool:
		if t {
			return "yes"
		}
		return "no"
	case string:
		if t == "" {
			return "—"
		}
		return t
	case float64:
		return fmt.Sprint(t)
	case []any:
		parts := make([]string, 0, len(t))
		for _, e := range t {
			parts = append(parts, displayValue(e))
		}
		if len(parts) == 0 {
			return "—"
		}
		return strings.Join(parts, ", ")
	default:
		b, _ := json.Marshal(t)
		return string(b)
	}
}

// initial is the first letter of a name, upper-cased, for an avatar without a picture.
func initial(name string) string {
	r, _ := utf8.DecodeRuneInString(strings.TrimSpace(name))
	if r == utf8.RuneError {
		return "?"
	}
	return string(unicode.ToUpper(r))
}
