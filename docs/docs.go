// Package docs is the project's documentation, the *.md files of this folder, embedded so that
// host-example serves its help offline (under /docs/), rendered as safe HTML. Screenshots are
// not embedded: an image shows as its alt text.
package docs

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

//go:embed *.md
var files embed.FS

// Prefix is where host-example serves the docs: a doc is Prefix + its file name.
const Prefix = "/docs/"

// Doc is one document: its file name ("mappings.md") and its title (its first heading).
type Doc struct {
	Name, Title string
}

// nameRE is a doc's file name; docLinkRE a link to one, from this folder or from the
// repository's root ("docs/x.md"), with an optional fragment.
var (
	nameRE    = regexp.MustCompile(`^[a-z0-9-]+\.md$`)
	docLinkRE = regexp.MustCompile(`^(?:\./|docs/)?([a-z0-9-]+\.md)(#[^/]*)?$`)
)

// List is every doc, by file name.
func List() []Doc {
	entries, _ := fs.Glob(files, "*.md")
	slices.Sort(entries)
	out := make([]Doc, 0, len(entries))
	for _, name := range entries {
		src, _ := files.ReadFile(name)
		out = append(out, Doc{Name: name, Title: title(name, src)})
	}
	return out
}

// Render is the doc named name as HTML: raw HTML in it is omitted and dangerous link targets
// dropped (goldmark's safe mode), links to other docs go to Prefix, links to other files of
// the repository (not embedded) and images become their text. A name that is no doc is
// fs.ErrNotExist.
func Render(name string) (Doc, template.HTML, error) {
	if !nameRE.MatchString(name) {
		return Doc{}, "", fmt.Errorf("doc %q: %w", name, fs.ErrNotExist)
	}
	src, err := files.ReadFile(name)
	if err != nil {
		return Doc{}, "", fmt.Errorf("doc %q: %w", name, err)
	}
	body, err := render(src)
	if err != nil {
		return Doc{}, "", fmt.Errorf("doc %q: %w", name, err)
	}
	return Doc{Name: name, Title: title(name, src)}, body, nil
}

// markdown is GitHub's flavour, headings with ids (for links to a section) and no
// WithUnsafe: raw HTML is omitted and javascript: links dropped.
var markdown = goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithParserOptions(parser.WithAutoHeadingID()))

// render is markdown source as safe HTML, its links rewritten (rewriteLinks).
func render(src []byte) (template.HTML, error) {
	root := markdown.Parser().Parse(text.NewReader(src))
	rewriteLinks(root)
	var out bytes.Buffer
	if err := markdown.Renderer().Render(&out, src, root); err != nil {
		return "", fmt.Errorf("render: %w", err)
	}
	return template.HTML(out.String()), nil
}

// rewriteLinks points links to docs at Prefix and unwraps links to files that are not
// served (source files, screenshots) and images, keeping their text.
func rewriteLinks(root ast.Node) {
	var unwrap []ast.Node
	_ = ast.Walk(root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			dest := string(n.Destination)
			if m := docLinkRE.FindStringSubmatch(dest); m != nil {
				n.Destination = []byte(Prefix + m[1] + m[2])
			} else if !strings.HasPrefix(dest, "#") && !strings.Contains(dest, "://") && !strings.HasPrefix(dest, "mailto:") {
				unwrap = append(unwrap, n)
			}
		case *ast.Image:
			unwrap = append(unwrap, n)
		}
		return ast.WalkContinue, nil
	})
	for _, n := range unwrap {
		parent := n.Parent()
		for c := n.FirstChild(); c != nil; c = n.FirstChild() {
			parent.InsertBefore(parent, n, c)
		}
		parent.RemoveChild(parent, n)
	}
}

// title is a doc's first level-one heading, else its file name.
func title(name string, src []byte) string {
	for _, line := range strings.Split(string(src), "\n") {
		if t, ok := strings.CutPrefix(line, "# "); ok {
			return strings.TrimSpace(t)
		}
	}
	return name
}
