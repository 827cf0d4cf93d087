package web

import (
	"html/template"
	"regexp"
)

// docFileRE finds a doc file named in help text ("docs/mappings.md").
var docFileRE = regexp.MustCompile(`\bdocs/([a-z0-9-]+\.md)\b`)

// docLinks is help text with each doc file it names ("docs/mappings.md") linked to the docs
// at docsURL (Config.DocsURL); the rest is escaped.
func docLinks(docsURL, text string) template.HTML {
	escaped := template.HTMLEscapeString(text)
	return template.HTML(docFileRE.ReplaceAllStringFunc(escaped, func(m string) string {
		name := docFileRE.FindStringSubmatch(m)[1]
		return `<a class="doc" href="` + template.HTMLEscapeString(docsURL+name) + `" target="_blank" rel="noopener">` + m + `</a>`
	}))
}
