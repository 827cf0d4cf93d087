package mappings

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// 3,000 attributes are refused when saved; the first one past the limit is named.
func TestTooManyAttributesRefused(t *testing.T) {
	var attrs []Attribute
	for i := 0; i < 3000; i++ {
		attrs = append(attrs, Attribute{Name: fmt.Sprintf("a%d", i), Expr: `"x"`})
	}
	_, errs := decl.Compile([]Set{{Name: "many", Attributes: attrs}})
	if len(errs) == 0 || errs[0].Field != fmt.Sprintf("mappings.many.a%d", MaxAttributes) || !strings.Contains(errs[0].Message, "too many attributes") {
		t.Fatalf("errors: %v", errs)
	}
	// The same attribute in several sets counts once.
	var sets []Set
	for i := 0; i < 10; i++ {
		sets = append(sets, Set{Name: fmt.Sprintf("s%d", i), Attributes: attrs[:MaxAttributes]})
	}
	if _, errs := decl.Compile(sets); len(errs) > 0 {
		t.Fatalf("repeated names: %v", errs)
	}
}

// Values past the output limits stop the evaluation with an error naming the attribute.
func TestOutputSizesCapped(t *testing.T) {
	raw := map[string]any{"xs": func() []any {
		var l []any
		for i := 0; i < 1000; i++ {
			l = append(l, fmt.Sprintf("group-%d", i))
		}
		return l
	}(), "obj": func() map[string]any {
		m := map[string]any{}
		for i := 0; i < 100; i++ {
			m[fmt.Sprintf("k%d", i)] = strings.Repeat("v", 100)
		}
		return m
	}()}
	for _, c := range []struct{ name, expr, want string }{
		{"groups", `raw.xs.map(x, string(x))`, "at most 256"},
		{"big", `raw.xs`, "at most 256"},
		{"long", `raw.obj`, "bytes as JSON"},
	} {
		p, errs := decl.Compile([]Set{{Name: "s", Attributes: []Attribute{{Name: c.name, Expr: c.expr}}}})
		if len(errs) > 0 {
			t.Fatalf("%s: %v", c.name, errs)
		}
		_, err := p.Eval(context.Background(), Input{Raw: raw})
		if !errors.Is(err, ErrEval) || !strings.Contains(err.Error(), "mappings.s."+c.name) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	p, _ := decl.Compile([]Set{{Name: "s", Attributes: []Attribute{{Name: "groups", Expr: `raw.xs.map(x, string(x)).filter(x, x.size() < 8)`}}}})
	if res, err := p.Eval(context.Background(), Input{Raw: raw}); err != nil || len(res.Attributes["groups"].([]string)) != 10 {
		t.Fatalf("a list under the limit: %v %v", res.Attributes, err)
	}
}

// Parse records where each expression's text starts on its lines, so an error's column can
// be given in the text the admin edits.
func TestParseRecordsIndent(t *testing.T) {
	sets, err := Parse("[s]\ninline:   \"a\"\nblock: |\n    1 +\n    2\ncondition: true\n")
	if err != nil {
		t.Fatal(err)
	}
	a := sets[0].Attributes
	if a[0].Indent != len("inline:   ") || a[1].Indent != 4 || a[1].Line != 4 || sets[0].Condition.Indent != len("condition: ") {
		t.Fatalf("indents: inline %d, block %d (line %d), condition %d", a[0].Indent, a[1].Indent, a[1].Line, sets[0].Condition.Indent)
	}
}
