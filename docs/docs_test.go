package docs

import (
	"errors"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Every doc renders, has a title, and each link to a doc names one that is served.
func TestEveryDocRendersAndLinksOnlyServedDocs(t *testing.T) {
	list := List()
	if len(list) < 10 {
		t.Fatalf("only %d docs embedded", len(list))
	}
	served := map[string]bool{}
	for _, d := range list {
		served[Prefix+d.Name] = true
	}
	href := regexp.MustCompile(`href="([^"#]*)`)
	for _, d := range list {
		got, body, err := Render(d.Name)
		if err != nil || got != d || got.Title == d.Name {
			t.Fatalf("%s: %+v, %v", d.Name, got, err)
		}
		for _, m := range href.FindAllStringSubmatch(string(body), -1) {
			if strings.HasPrefix(m[1], Prefix) && !served[m[1]] {
				t.Errorf("%s links %s, which is not served", d.Name, m[1])
			}
			if !strings.HasPrefix(m[1], Prefix) && !strings.HasPrefix(m[1], "https://") && !strings.HasPrefix(m[1], "http://") && m[1] != "" {
				t.Errorf("%s links %s, which is not served offline", d.Name, m[1])
			}
		}
		if strings.Contains(string(body), "<img") {
			t.Errorf("%s shows an image (screenshots are not embedded)", d.Name)
		}
	}
	if _, body, _ := Render("mappings.md"); !strings.Contains(string(body), `<table>`) || !strings.Contains(string(body), `<h2 id="`) {
		t.Errorf("mappings.md: no table or no heading ids:\n%.500s", body)
	}
}

// A name that is no doc is not found, however it is spelled.
func TestRenderRefusesWhatIsNoDoc(t *testing.T) {
	for _, name := range []string{"", "nope.md", "../README.md", "docs.go", "screenshots/admin-home.png", "MAPPINGS.md", "/mappings.md", "mappings.md/"} {
		if _, _, err := Render(name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Render(%q): %v, want not found", name, err)
		}
	}
}

// Rendering is safe: raw HTML is omitted, script links dropped; doc links go to Prefix, links
// to files that are not served and images keep only their text.
func TestRenderIsSafeAndRewritesLinks(t *testing.T) {
	src := "# T\n\n<script>alert(1)</script>\n\n[a](javascript:alert(1)) <b onclick=x>b</b> [c](scale.md#replicas) [d](docs/oidc.md)" +
		" [e](../host-example/main.go) ![shot](screenshots/x.png) [f](#local) [g](https://example.com/)\n"
	body, err := render([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := string(body)
	for _, bad := range []string{"<script", "javascript:", "onclick", "<b", "main.go\"", "<img", "screenshots/"} {
		if strings.Contains(got, bad) {
			t.Errorf("rendered %q:\n%s", bad, got)
		}
	}
	for _, want := range []string{`href="/docs/scale.md#replicas">c</a>`, `href="/docs/oidc.md">d</a>`, ` e `, `shot`, `href="#local"`, `href="https://example.com/"`} {
		if !strings.Contains(got, want) {
			t.Errorf("rendered lacks %q:\n%s", want, got)
		}
	}
	if !slices.ContainsFunc(List(), func(d Doc) bool { return d.Name == "security.md" }) {
		t.Error("security.md is not listed")
	}
}
