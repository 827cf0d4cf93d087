package web

import (
	"errors"
	"html/template"
	"io/fs"
	"net/http"

	"github.com/plexlogin/plexlogin/docs"
)

// The docs, served from the binary (package docs) so that the admin's help links work
// offline: /docs/ lists them, /docs/{name} shows one rendered. They are public, as the
// project's docs are.

// helpPages serves the docs.
type helpPages struct{ *view }

// routes mounts the docs' pages.
func (s *helpPages) routes(m *http.ServeMux) {
	m.HandleFunc("GET /docs/{$}", s.handle(s.index))
	m.HandleFunc("GET /docs/{name}", s.handle(s.doc))
}

// helpPage is help.html's data: the list of docs, or one doc rendered.
type helpPage struct {
	Head
	Docs []docs.Doc
	// Doc and Body are the doc shown (Body is goldmark's safe rendering); empty on the list.
	Doc  docs.Doc
	Body template.HTML
}

// index lists the docs.
func (s *helpPages) index(w http.ResponseWriter, r *http.Request) error {
	sess, _, _ := s.session(w, r, false)
	s.render(w, http.StatusOK, "help.html", &helpPage{Head: Head{Title: "Help", Session: sess}, Docs: docs.List()})
	return nil
}

// doc shows one doc; a name that is no doc is 404.
func (s *helpPages) doc(w http.ResponseWriter, r *http.Request) error {
	d, body, err := docs.Render(r.PathValue("name"))
	if errors.Is(err, fs.ErrNotExist) {
		http.NotFound(w, r)
		return nil
	}
	if err != nil {
		return err
	}
	sess, _, _ := s.session(w, r, false)
	s.render(w, http.StatusOK, "help.html", &helpPage{Head: Head{Title: d.Title, Session: sess}, Doc: d, Body: body})
	return nil
}
