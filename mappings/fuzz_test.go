package mappings

import (
	"context"
	"testing"
)

// FuzzCompileEval: no expression text may panic the parser, the checker, the cost
// estimator or the evaluator.
func FuzzCompileEval(f *testing.F) {
	for _, s := range []string{
		`user.username != "" ? user.username : user.title`,
		`user.servers.filter(s, !s.pending).map(s, "plex-server:" + s.name)`,
		`raw.?country.orValue("x")`,
		`optional.none()`,
		`"abc`,
		`user.servers.map(a, user.servers.map(b, a.name + b.name))`,
		`[1, 2, 3].map(x, x * x).size() > 2 ? ["a"] : []`,
		`{"a": user.id}`,
		`raw.items.all(i, i > 0)`,
	} {
		f.Add("x", s)
		f.Add("groups", s)
		f.Add("email_verified", s)
	}
	input := Input{Vars: map[string]any{"user": User{ID: 1, Username: "u", Servers: []Server{{MachineID: "m", Name: "n"}}}},
		Raw: map[string]any{"items": []any{1, 2}, "country": "GB"}}
	f.Fuzz(func(t *testing.T, attr, expr string) {
		sets := []Set{{Name: "f", Attributes: []Attribute{{Name: attr, Expr: expr, Line: 1}}}}
		p, errs := decl.Compile(sets)
		for _, e := range errs {
			if e.Line < 1 || e.Column < 1 {
				t.Fatalf("error without a position: %v", e)
			}
		}
		if p != nil {
			_, _ = p.Eval(context.Background(), input)
		}
	})
}
