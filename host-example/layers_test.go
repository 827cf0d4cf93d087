package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/plexlogin/plexlogin/"

// layers are what each package of host-example may import from this module (its non-test
// files), as docs/architecture.md draws them: pages over doors over the application layer over
// the store. A package not listed here may import nothing of the host's layers.
var layers = map[string][]string{
	"host-example/store":       {"shared/source"},
	"host-example/settings":    {"shared/source"},
	"host-example/host":        {"host-example/store", "host-example/settings", "host-example/ratelimit", "shared/loader", "shared/source"},
	"host-example/openid":      {"host-example/host", "host-example/store", "host-example/settings", "host-example/ratelimit", "host-example/dbunavailable", "host-example/auditlog"},
	"host-example/forwardauth": {"host-example/host", "host-example/store", "host-example/settings", "host-example/ratelimit", "host-example/dbunavailable", "host-example/auditlog", "host-example/localpath", "shared/source"},
	"host-example/notify":      {"host-example/store"},
	"host-example/web":         {"host-example/host", "host-example/openid", "host-example/forwardauth", "host-example/notify", "host-example/store", "host-example/settings", "host-example/ratelimit", "host-example/dbunavailable", "host-example/localpath", "host-example/buildinfo", "shared/source", "docs"},
}

// hostLayers are the packages whose imports the layers rule: the others (tools, test
// harnesses, the composition root) may import any of them.
var hostLayers = []string{"host-example/store", "host-example/host", "host-example/openid", "host-example/forwardauth", "host-example/notify", "host-example/web", "host-example/app"}

// TestLayers holds each layer to what it may import, and the pages to calling no store method.
func TestLayers(t *testing.T) {
	for pkg, allowed := range layers {
		for _, imp := range moduleImports(t, filepath.Join("..", pkg)) {
			if !slices.Contains(allowed, imp) {
				t.Errorf("%s imports %s: not a layer below it (docs/architecture.md)", pkg, imp)
			}
		}
	}
	// Helpers and the store import no layer above them.
	for _, dir := range []string{"ratelimit", "localpath", "dbunavailable", "auditlog", "metrics", "buildinfo", "connlimit", "settings", "store"} {
		for _, imp := range moduleImports(t, dir) {
			if slices.Contains(hostLayers, imp) && imp != "host-example/store" {
				t.Errorf("host-example/%s imports %s, a layer above it", dir, imp)
			}
		}
	}
	// web holds no store and calls no store method (it may use the store's types and errors).
	call := regexp.MustCompile(`\bs\.store\.[A-Za-z]+`)
	files, _ := filepath.Glob("web/*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := call.Find(b); m != nil {
			t.Errorf("%s calls the store (%s): the pages go through a service", f, m)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if code, _, _ := strings.Cut(line, "//"); strings.Contains(code, "*store.Store") {
				t.Errorf("%s names *store.Store: the pages hold services, not the store", f)
			}
		}
	}
}

// moduleImports are the imports of this module by the non-test Go files of dir, relative to
// the module path.
func moduleImports(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("%s: no Go files (%v)", dir, err)
	}
	seen := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, spec := range f.Imports {
			addImport(seen, spec)
		}
	}
	var out []string
	for imp := range seen {
		out = append(out, imp)
	}
	slices.Sort(out)
	return out
}

func addImport(seen map[string]bool, spec *ast.ImportSpec) {
	path, _ := strconv.Unquote(spec.Path.Value)
	if rest, ok := strings.CutPrefix(path, module); ok {
		seen[rest] = true
	}
}
