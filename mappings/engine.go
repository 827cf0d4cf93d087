// Package mappings is the expression engine that turns normalized upstream facts into
// identity attributes: CEL expressions, type-checked and cost-estimated when an admin
// saves them, cost-limited when they run. It knows nothing about HTTP or any upstream:
// the plugin declares the input document (Declare) and hands over its values (Input).
package mappings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"
	"google.golang.org/protobuf/types/known/structpb"
)

// Limits of expressions.
const (
	// MaxExpressionLength is the longest expression text, in code points.
	MaxExpressionLength = 4096
	// MaxEstimatedCost is the highest static cost estimate accepted at save time.
	MaxEstimatedCost = RuntimeCostLimit
	// RuntimeCostLimit stops an evaluation that runs past it.
	RuntimeCostLimit = 1_000_000
	// EvalTimeout bounds the evaluation of all sets for one user.
	EvalTimeout = 100 * time.Millisecond
	// MaxAttributes is how many distinct attributes all sets together may produce.
	MaxAttributes = 64
	// MaxListEntries is the longest list one attribute may hold (groups included).
	MaxListEntries = 256
	// MaxValueBytes is the largest value of one attribute, as JSON.
	MaxValueBytes = 8 << 10
	// MaxOutputBytes is the largest set of attributes of one login, as JSON.
	MaxOutputBytes = 64 << 10
	// Declared sizes used by the cost estimate (lists of the declared input: ListBound).
	maxStringBytes = 4096
	maxRawList     = 1000
)

// Standard output attributes and their CEL types; any other name is an extra attribute.
var standard = map[string]*cel.Type{
	"preferred_username": cel.StringType,
	"email":              cel.StringType,
	"email_verified":     cel.BoolType,
	"name":               cel.StringType,
	"picture":            cel.StringType,
	"groups":             cel.ListType(cel.StringType),
}

// Reserved names an admin cannot map.
var reserved = map[string]string{
	"sub":       "the subject is the immutable upstream id and cannot be mapped",
	"condition": "",
}

var attrNameRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,63}$`)

// FieldError is a problem with one expression, with 1-based line and column (code points)
// relative to the expression text.
type FieldError struct {
	Field   string
	Line    int
	Column  int
	Message string
}

func (e FieldError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.Field, e.Line, e.Column, e.Message)
}

// estimator gives the declared sizes of the inputs.
type estimator struct{ lists map[string]ListBound }

func (e estimator) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	path := n.Path()
	t := n.Type()
	if len(path) == 0 {
		// A computed collection (e.g. the result of filter) whose size the checker cannot
		// derive: no input collection is larger than maxRawList, nor is what is made of one.
		if n.ComputedSize() != nil {
			return nil
		}
		switch t.Kind() {
		case types.ListKind, types.MapKind:
			return &cost.SizeEstimate{Min: 0, Max: maxRawList}
		case types.StringKind, types.BytesKind:
			return &cost.SizeEstimate{Min: 0, Max: maxStringBytes}
		}
		return nil
	}
	if b, ok := e.lists[strings.Join(path, ".")]; ok {
		return &cost.SizeEstimate{Min: 0, Max: uint64(b.Max)}
	}
	switch t.Kind() {
	case types.StringKind, types.BytesKind:
		return &cost.SizeEstimate{Min: 0, Max: maxStringBytes}
	case types.ListKind, types.MapKind, types.DynKind:
		if path[0] == "raw" {
			return &cost.SizeEstimate{Min: 0, Max: maxRawList}
		}
	}
	return nil
}

func (estimator) EstimateCallCost(string, string, *cost.AstNode, []cost.AstNode) *cost.CallEstimate {
	return nil
}

// compiled is one checked expression.
type compiled struct {
	name string
	prg  cel.Program
	want *cel.Type // nil: extra attribute, any JSON value
}

type compiledSet struct {
	name        string
	attrs       []compiled
	condition   *compiled
	denyMessage string
}

// Program is a compiled list of mapping sets, safe for concurrent use.
type Program struct {
	decl *Declaration
	sets []compiledSet
}

// position converts a byte offset of expr into a 1-based line and code-point column.
func position(expr string, offset int) (int, int) {
	line, col := 1, 1
	for i, r := range expr {
		if i >= offset {
			break
		}
		if r == '\n' {
			line, col = line+1, 1
			continue
		}
		col++
	}
	return line, col
}

func (d *Declaration) compileOne(env *cel.Env, field string, a Attribute, want *cel.Type, isCondition bool) (*compiled, []FieldError) {
	if n := utf8.RuneCountInString(a.Expr); n > MaxExpressionLength {
		off := len(string([]rune(a.Expr)[:MaxExpressionLength]))
		l, c := position(a.Expr, off)
		return nil, []FieldError{{Field: field, Line: l, Column: c,
			Message: fmt.Sprintf("expression is %d characters long; the limit is %d", n, MaxExpressionLength)}}
	}
	ast, iss := env.Compile(a.Expr)
	if iss != nil && iss.Err() != nil {
		var out []FieldError
		for _, e := range iss.Errors() {
			loc := e.Location
			out = append(out, FieldError{Field: field, Line: max(loc.Line(), 1), Column: max(loc.Column()+1, 1),
				Message: strings.TrimSuffix(e.Message, " (in container '')")})
		}
		return nil, out
	}
	out := ast.OutputType()
	if isCondition {
		want = cel.BoolType
	}
	if want != nil && !typeFits(out, want) {
		return nil, []FieldError{{Field: field, Line: 1, Column: 1,
			Message: fmt.Sprintf("expression gives %s; %s needs %s (or optional_type(%s))", out, a.Name, want, want)}}
	}
	est, err := env.EstimateCost(ast, estimator{lists: d.byPath})
	if err != nil {
		return nil, []FieldError{{Field: field, Line: 1, Column: 1, Message: "cost cannot be estimated: " + err.Error()}}
	}
	if est.Max > MaxEstimatedCost {
		return nil, []FieldError{{Field: field, Line: 1, Column: 1,
			Message: fmt.Sprintf("estimated cost %d is above the limit %d (with %s)", est.Max, MaxEstimatedCost, d.sizesText())}}
	}
	prg, err := env.Program(ast, cel.CostLimit(RuntimeCostLimit), cel.InterruptCheckFrequency(100), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, []FieldError{{Field: field, Line: 1, Column: 1, Message: err.Error()}}
	}
	return &compiled{name: a.Name, prg: prg, want: want}, nil
}

// typeFits reports whether an expression of type out can produce want.
func typeFits(out, want *cel.Type) bool {
	if out.Kind() == types.DynKind {
		return true
	}
	if want.IsAssignableType(out) {
		return true
	}
	if out.Kind() == types.OpaqueKind && out.TypeName() == "optional_type" && len(out.Parameters()) == 1 {
		p := out.Parameters()[0]
		return p.Kind() == types.DynKind || want.IsAssignableType(p)
	}
	return false
}

// sizesText lists the sizes the cost estimate assumes, for messages.
func (d *Declaration) sizesText() string {
	var parts []string
	for _, l := range d.lists {
		parts = append(parts, fmt.Sprintf("up to %d %s", l.Max, l.Noun))
	}
	parts = append(parts, fmt.Sprintf("strings of %d bytes", maxStringBytes), fmt.Sprintf("lists of %d in raw", maxRawList))
	return strings.Join(parts, ", ")
}

// Compile checks and compiles sets against the declared input; every problem is returned,
// each naming its field ("mappings.<set>.<attribute>") with line and column.
func (d *Declaration) Compile(sets []Set) (*Program, []FieldError) {
	env, err := d.celEnv()
	if err != nil {
		return nil, []FieldError{{Field: "mappings", Line: 1, Column: 1, Message: "environment: " + err.Error()}}
	}
	var errs []FieldError
	p := &Program{decl: d}
	names := map[string]bool{}
	for _, s := range sets {
		cs := compiledSet{name: s.Name, denyMessage: s.DenyMessage}
		for _, a := range s.Attributes {
			field := "mappings." + s.Name + "." + a.Name
			if names[a.Name] = true; len(names) > MaxAttributes {
				errs = append(errs, FieldError{Field: field, Line: 1, Column: 1,
					Message: fmt.Sprintf("too many attributes: at most %d different ones in all sets together", MaxAttributes)})
				continue
			}
			if why, ok := reserved[a.Name]; ok {
				errs = append(errs, FieldError{Field: field, Line: 1, Column: 1, Message: why})
				continue
			}
			if !attrNameRE.MatchString(a.Name) {
				errs = append(errs, FieldError{Field: field, Line: 1, Column: 1, Message: "attribute names are lowercase letters, digits and _"})
				continue
			}
			c, e := d.compileOne(env, field, a, standard[a.Name], false)
			errs = append(errs, e...)
			if c != nil {
				cs.attrs = append(cs.attrs, *c)
			}
		}
		if s.Condition != nil {
			c, e := d.compileOne(env, "mappings."+s.Name+".condition", *s.Condition, nil, true)
			errs = append(errs, e...)
			cs.condition = c
		}
		p.sets = append(p.sets, cs)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

// Result is what the sets made of one input.
type Result struct {
	// Attributes holds every attribute set and not removed: strings, bools, []string, JSON values.
	Attributes map[string]any
	// Denied is set when an access condition was false; Message is then shown to the user.
	Denied     bool
	DeniedBy   string
	DenyReason string
}

// ErrEval wraps an evaluation failure (cost limit, timeout, wrong runtime type).
var ErrEval = errors.New("mapping evaluation failed")

// Eval runs every set in order: later scalars win, lists union, a removed attribute stays removed.
// Conditions are checked only after the access policy admitted the user: they can only deny.
func (p *Program) Eval(ctx context.Context, in Input) (Result, error) {
	raw := in.Raw
	if raw == nil {
		raw = map[string]any{}
	}
	vars := map[string]any{"source": in.Source, "raw": raw}
	for _, v := range p.decl.vars {
		x, err := declaredValue(v, in.Vars[v.Name])
		if err != nil {
			return Result{}, fmt.Errorf("%w: %v", ErrEval, err)
		}
		vars[v.Name] = x
	}
	act, err := interpreter.NewActivation(vars)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrEval, err)
	}
	ctx, cancel := context.WithTimeout(ctx, EvalTimeout)
	defer cancel()
	res := Result{Attributes: map[string]any{}}
	removed := map[string]bool{}
	for _, s := range p.sets {
		if s.condition != nil {
			v, err := evalOne(ctx, s.condition, act)
			if err != nil {
				return res, fmt.Errorf("%w: mappings.%s.condition: %v", ErrEval, s.name, err)
			}
			if ok, _ := v.(bool); !ok {
				res.Denied, res.DeniedBy, res.DenyReason = true, s.name, s.denyMessage
				if res.DenyReason == "" {
					res.DenyReason = "Your account does not meet this site's login conditions."
				}
			}
		}
		for _, a := range s.attrs {
			v, err := evalOne(ctx, &a, act)
			if err != nil {
				return res, fmt.Errorf("%w: mappings.%s.%s: %v", ErrEval, s.name, a.name, err)
			}
			if v == nil {
				removed[a.name] = true
				delete(res.Attributes, a.name)
				continue
			}
			if removed[a.name] {
				continue
			}
			if list, ok := v.([]string); ok {
				if prev, ok := res.Attributes[a.name].([]string); ok {
					v = union(prev, list)
				}
			}
			if err := checkOutput(v); err != nil {
				return res, fmt.Errorf("%w: mappings.%s.%s: %v", ErrEval, s.name, a.name, err)
			}
			res.Attributes[a.name] = v
		}
	}
	if b, _ := json.Marshal(res.Attributes); len(b) > MaxOutputBytes {
		return res, fmt.Errorf("%w: the attributes together are %d bytes as JSON; at most %d", ErrEval, len(b), MaxOutputBytes)
	}
	return res, nil
}

// declaredValue is x as variable v holds it: its type's zero value when missing, nil
// lists made empty.
func declaredValue(v Variable, x any) (any, error) {
	val := reflect.New(v.Type).Elem()
	if x != nil {
		if reflect.TypeOf(x) != v.Type {
			return nil, fmt.Errorf("variable %s is a %T, want %s", v.Name, x, v.Type)
		}
		val.Set(reflect.ValueOf(x))
	}
	for i := 0; i < val.NumField(); i++ {
		if f := val.Field(i); f.Kind() == reflect.Slice && f.IsNil() && f.CanSet() {
			f.Set(reflect.MakeSlice(f.Type(), 0, 0))
		}
	}
	return val.Interface(), nil
}

// checkOutput bounds one attribute's value: list entries and JSON size.
func checkOutput(v any) error {
	if list, ok := v.([]string); ok && len(list) > MaxListEntries {
		return fmt.Errorf("the list has %d entries; at most %d", len(list), MaxListEntries)
	}
	if list, ok := v.([]any); ok && len(list) > MaxListEntries {
		return fmt.Errorf("the list has %d entries; at most %d", len(list), MaxListEntries)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(b) > MaxValueBytes {
		return fmt.Errorf("the value is %d bytes as JSON; at most %d", len(b), MaxValueBytes)
	}
	return nil
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range append(append([]string{}, a...), b...) {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

var jsonValueType = reflect.TypeOf(&structpb.Value{})

// evalOne evaluates one expression; nil means optional.none() (remove the attribute).
func evalOne(ctx context.Context, c *compiled, act interpreter.Activation) (any, error) {
	out, _, err := c.prg.ContextEval(ctx, act)
	if err != nil {
		return nil, err
	}
	if opt, ok := out.(*types.Optional); ok {
		if !opt.HasValue() {
			return nil, nil
		}
		out = opt.GetValue()
	}
	return native(out, c.want)
}

func native(v ref.Val, want *cel.Type) (any, error) {
	switch {
	case want == nil:
		pv, err := v.ConvertToNative(jsonValueType)
		if err != nil {
			return nil, fmt.Errorf("value of type %s cannot be an attribute", v.Type())
		}
		return pv.(*structpb.Value).AsInterface(), nil
	case want == cel.StringType:
		s, ok := v.Value().(string)
		if !ok {
			return nil, fmt.Errorf("gave %s, want string", v.Type())
		}
		return s, nil
	case want == cel.BoolType:
		b, ok := v.Value().(bool)
		if !ok {
			return nil, fmt.Errorf("gave %s, want bool", v.Type())
		}
		return b, nil
	default: // list(string)
		l, err := v.ConvertToNative(reflect.TypeOf([]string{}))
		if err != nil {
			return nil, fmt.Errorf("gave %s, want a list of strings", v.Type())
		}
		out := l.([]string)
		sort.Strings(out)
		return out, nil
	}
}
