package mappings

import (
	"fmt"
	"reflect"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/ext"
)

// The input of expressions is a document the plugin declares: variables whose Go struct
// types are exposed to CEL by their `cel` tags (a misspelled field is a compile error),
// plus the engine's own `source` and `raw`. They hold normalized facts only: no tokens, ever.

// Variable is one variable of the input a plugin declares.
type Variable struct {
	// Name is the variable's name in expressions ("user").
	Name string
	// Type is a Go struct type; its `cel`-tagged fields (structs and lists of structs
	// included) are what expressions see, and a value of it is what Input.Vars holds.
	Type reflect.Type
}

// ListBound declares the longest list at a path of the input: the cost estimate assumes
// it and CheckSizes holds an input to it.
type ListBound struct {
	// Path is the list's place in expressions ("user.servers").
	Path string
	// Max is the most entries it may have.
	Max int
	// Noun names its entries in messages ("servers").
	Noun string
}

// Declaration is a plugin's declared input; Compile compiles mapping sets against it.
type Declaration struct {
	vars   []Variable
	lists  []ListBound
	byPath map[string]ListBound

	envOnce sync.Once
	env     *cel.Env
	envErr  error
}

// Declare checks a plugin's input declaration: struct-typed variables with distinct names
// other than the engine's own (source, raw), and bounds on lists it has.
func Declare(vars []Variable, lists []ListBound) (*Declaration, error) {
	d := &Declaration{vars: vars, lists: lists, byPath: map[string]ListBound{}}
	seen := map[string]bool{"source": true, "raw": true}
	for _, v := range vars {
		if v.Type == nil || v.Type.Kind() != reflect.Struct {
			return nil, fmt.Errorf("mapping input: variable %q must be a Go struct type", v.Name)
		}
		if !attrNameRE.MatchString(v.Name) || seen[v.Name] {
			return nil, fmt.Errorf("mapping input: variable name %q is taken or not a lowercase identifier", v.Name)
		}
		seen[v.Name] = true
	}
	for _, l := range lists {
		if l.Max <= 0 || l.Noun == "" || !strings.Contains(l.Path, ".") {
			return nil, fmt.Errorf("mapping input: list bound %+v needs a variable.field path, a positive maximum and a noun", l)
		}
		if !d.isList(l.Path) {
			return nil, fmt.Errorf("mapping input: list bound path %q names no list of the declared variables", l.Path)
		}
		d.byPath[l.Path] = l
	}
	return d, nil
}

// isList reports whether path ("user.servers") names a list field of a declared variable.
func (d *Declaration) isList(path string) bool {
	name, rest, _ := strings.Cut(path, ".")
	var t reflect.Type
	for _, v := range d.vars {
		if v.Name == name {
			t = v.Type
		}
	}
	for _, field := range strings.Split(rest, ".") {
		if t == nil || t.Kind() != reflect.Struct {
			return false
		}
		var next reflect.Type
		for i := 0; i < t.NumField(); i++ {
			if f := t.Field(i); celField(f) == field {
				next = f.Type
			}
		}
		t = next
	}
	return t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array)
}

// MustDeclare is Declare for a fixed declaration; it panics on a broken one (a build-time error).
func MustDeclare(vars []Variable, lists []ListBound) *Declaration {
	d, err := Declare(vars, lists)
	if err != nil {
		panic(err)
	}
	return d
}

// celName is the CEL name of a Go struct type exposed as a native type.
func celName(t reflect.Type) string {
	p := strings.Split(t.PkgPath(), "/")
	return p[len(p)-1] + "." + t.Name()
}

// celEnv is the CEL environment the declaration's expressions compile in.
func (d *Declaration) celEnv() (*cel.Env, error) {
	d.envOnce.Do(func() {
		types := []any{ext.ParseStructTags(true)}
		for _, t := range structTypes(d.vars) {
			types = append(types, t)
		}
		types = append(types, reflect.TypeOf(Source{}))
		opts := []cel.EnvOption{ext.NativeTypes(types...)}
		for _, v := range d.vars {
			opts = append(opts, cel.Variable(v.Name, cel.ObjectType(celName(v.Type))))
		}
		opts = append(opts,
			cel.Variable("source", cel.ObjectType(celName(reflect.TypeOf(Source{})))),
			cel.Variable("raw", cel.MapType(cel.StringType, cel.DynType)),
			cel.OptionalTypes(),
			ext.Strings(),
			ext.Lists(),
			ext.Sets(),
		)
		d.env, d.envErr = cel.NewEnv(opts...)
	})
	return d.env, d.envErr
}

// structTypes lists the variables' struct types and the struct types their fields hold, each once.
func structTypes(vars []Variable) []reflect.Type {
	var out []reflect.Type
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		out = append(out, t)
		for i := 0; i < t.NumField(); i++ {
			walk(t.Field(i).Type)
		}
	}
	for _, v := range vars {
		walk(v.Type)
	}
	return out
}

// Source is the configured source, as variable `source`.
type Source struct {
	ID   string `cel:"id" json:"id"`
	Slug string `cel:"slug" json:"slug"`
	Name string `cel:"name" json:"name"`
}

// Input is everything an expression sees.
type Input struct {
	// Vars holds the declared variables' values by name; a missing one is its type's zero value.
	Vars   map[string]any
	Source Source
	// Raw is the upstream user document with secrets already stripped (variable `raw`).
	Raw map[string]any
}

// maxRawDepth is how deeply nested the raw document may be.
const maxRawDepth = 32

// CheckSizes reports the first value of in beyond the sizes the cost estimate assumes
// (strings of maxStringBytes, declared lists of their bound, raw lists and maps of
// maxRawList entries): with such an input the static bound would not hold.
func (d *Declaration) CheckSizes(in Input) error {
	for _, v := range d.vars {
		x, err := declaredValue(v, in.Vars[v.Name])
		if err != nil {
			return err
		}
		if err := d.checkStruct(v.Name, reflect.ValueOf(x)); err != nil {
			return err
		}
	}
	for name, s := range map[string]string{"source.id": in.Source.ID, "source.slug": in.Source.Slug, "source.name": in.Source.Name} {
		if len(s) > maxStringBytes {
			return fmt.Errorf("%s is %d bytes; at most %d", name, len(s), maxStringBytes)
		}
	}
	return checkRaw("raw", in.Raw, 0)
}

// celField is the CEL name of a struct field, "" when hidden.
func celField(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("cel"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return f.Name
	}
	return name
}

// checkStruct checks the strings and lists of a declared variable's value.
func (d *Declaration) checkStruct(path string, v reflect.Value) error {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	for i := 0; i < v.NumField(); i++ {
		name := celField(v.Type().Field(i))
		if name == "" {
			continue
		}
		at, f := path+"."+name, v.Field(i)
		switch f.Kind() {
		case reflect.String:
			if f.Len() > maxStringBytes {
				return fmt.Errorf("%s is %d bytes; at most %d", at, f.Len(), maxStringBytes)
			}
		case reflect.Slice, reflect.Array:
			if b, ok := d.byPath[at]; ok && f.Len() > b.Max {
				return fmt.Errorf("%s has %d entries; at most %d", at, f.Len(), b.Max)
			}
			for j := 0; j < f.Len(); j++ {
				if tooLong(f.Index(j)) {
					return fmt.Errorf("%s[%d] has a value over %d bytes", at, j, maxStringBytes)
				}
			}
		case reflect.Struct:
			if err := d.checkStruct(at, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// tooLong reports whether a list entry is, or holds, a string over maxStringBytes.
func tooLong(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		return v.Len() > maxStringBytes
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if celField(v.Type().Field(i)) != "" && tooLong(v.Field(i)) {
				return true
			}
		}
	}
	return false
}

func checkRaw(path string, v any, depth int) error {
	if depth > maxRawDepth {
		return fmt.Errorf("%s is nested deeper than %d", path, maxRawDepth)
	}
	switch t := v.(type) {
	case string:
		if len(t) > maxStringBytes {
			return fmt.Errorf("%s is %d bytes; at most %d", path, len(t), maxStringBytes)
		}
	case map[string]any:
		if len(t) > maxRawList {
			return fmt.Errorf("%s has %d entries; at most %d", path, len(t), maxRawList)
		}
		for k, x := range t {
			if len(k) > maxStringBytes {
				return fmt.Errorf("%s has a key over %d bytes", path, maxStringBytes)
			}
			if err := checkRaw(path+"."+k, x, depth+1); err != nil {
				return err
			}
		}
	case []any:
		if len(t) > maxRawList {
			return fmt.Errorf("%s has %d entries; at most %d", path, len(t), maxRawList)
		}
		for i, x := range t {
			if err := checkRaw(fmt.Sprintf("%s[%d]", path, i), x, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}
