package mappings

import (
	"fmt"
	"regexp"
	"strings"
)

// Set is one named mapping set: an expression per attribute and an optional access condition.
type Set struct {
	Name string
	// Attributes maps an output attribute to its expression, in file order.
	Attributes []Attribute
	// Condition, when set, must be true for the login to proceed (it can only deny).
	Condition *Attribute
	// DenyMessage is shown to the user when Condition is false.
	DenyMessage string
}

// Attribute is one expression with where it stands in its file.
type Attribute struct {
	Name string
	Expr string
	// Line is the file line where the expression text starts (1-based).
	Line int
	// Indent is how many characters of each of the expression's file lines come before
	// its text ("name: " on the line of an inline expression, the indentation of a block).
	Indent int
}

// ParseError is a syntax error of the mapping file format.
type ParseError struct {
	Line    int
	Message string
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Message) }

var (
	headerRE = regexp.MustCompile(`^\[([A-Za-z0-9_.-]+)\]\s*$`)
	keyRE    = regexp.MustCompile(`^([a-z_][a-z0-9_]*):(.*)$`)
)

// Parse reads the mapping file format:
//
//	# comment
//	[set-name]
//	attribute: expression
//	attribute: |
//	  a multi-line expression,
//	  indented
//	condition: expression
//	deny_message: plain text shown when the condition is false
//
// Lines before the first [header] belong to a set named "custom".
func Parse(text string) ([]Set, error) {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var sets []Set
	cur := -1
	ensure := func() {
		if cur < 0 {
			sets = append(sets, Set{Name: "custom"})
			cur = len(sets) - 1
		}
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if m := headerRE.FindStringSubmatch(trimmed); m != nil {
			for _, s := range sets {
				if s.Name == m[1] {
					return nil, &ParseError{Line: i + 1, Message: fmt.Sprintf("set [%s] appears twice", m[1])}
				}
			}
			sets = append(sets, Set{Name: m[1]})
			cur = len(sets) - 1
			continue
		}
		if line != strings.TrimLeft(line, " \t") {
			return nil, &ParseError{Line: i + 1, Message: "indented line outside a | block"}
		}
		m := keyRE.FindStringSubmatch(line)
		if m == nil {
			return nil, &ParseError{Line: i + 1, Message: `expected "attribute: expression" (lowercase name), a [set] header or a # comment`}
		}
		ensure()
		key, rest := m[1], strings.TrimSpace(m[2])
		start := i + 1
		indent := len(key) + 1 + len(m[2]) - len(strings.TrimLeft(m[2], " \t"))
		if rest == "|" {
			var body []string
			blockIndent := ""
			for i+1 < len(lines) {
				next := lines[i+1]
				if strings.TrimSpace(next) == "" {
					body = append(body, "")
					i++
					continue
				}
				ws := next[:len(next)-len(strings.TrimLeft(next, " \t"))]
				if ws == "" {
					break
				}
				if blockIndent == "" {
					blockIndent = ws
				}
				body = append(body, strings.TrimPrefix(next, blockIndent))
				i++
			}
			for len(body) > 0 && body[len(body)-1] == "" {
				body = body[:len(body)-1]
			}
			rest = strings.Join(body, "\n")
			start++
			indent = len(blockIndent)
		}
		if rest == "" {
			return nil, &ParseError{Line: i + 1, Message: fmt.Sprintf("%s has no expression", key)}
		}
		s := &sets[cur]
		switch key {
		case "deny_message":
			s.DenyMessage = rest
		case "condition":
			if s.Condition != nil {
				return nil, &ParseError{Line: start, Message: "condition appears twice in one set"}
			}
			s.Condition = &Attribute{Name: "condition", Expr: rest, Line: start, Indent: indent}
		default:
			for _, a := range s.Attributes {
				if a.Name == key {
					return nil, &ParseError{Line: start, Message: fmt.Sprintf("%s appears twice in set [%s]", key, s.Name)}
				}
			}
			s.Attributes = append(s.Attributes, Attribute{Name: key, Expr: rest, Line: start, Indent: indent})
		}
	}
	return sets, nil
}
