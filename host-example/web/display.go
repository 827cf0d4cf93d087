package web

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// AttributeRow is one mapped attribute as a person reads it.
type AttributeRow struct{ Name, Value string }

// attributeRows turns mapped attributes (a JSON object) into sorted rows: yes/no for
// booleans, lists joined with commas, objects as compact JSON.
func attributeRows(raw json.RawMessage) []AttributeRow {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	rows := make([]AttributeRow, 0, len(m))
	for k, v := range m {
		rows = append(rows, AttributeRow{Name: k, Value: displayValue(v)})
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

// errorPart names the part of a field an error is about, in words: "" for the field itself,
// "[roles] groups" for an expression of a code field's set, "row 2 · machine_id" for a row.
func errorPart(field, fieldName string) string {
	rest, ok := strings.CutPrefix(field, fieldName+".")
	if !ok {
		return ""
	}
	parts := strings.Split(rest, ".")
	if n, err := strconv.Atoi(parts[0]); err == nil {
		return strings.Join(append([]string{fmt.Sprintf("row %d", n+1)}, parts[1:]...), " · ")
	}
	if len(parts) >= 2 {
		return "[" + strings.Join(parts[:len(parts)-1], ".") + "] " + parts[len(parts)-1]
	}
	return rest
}
