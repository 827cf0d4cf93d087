package plexsim

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"strings"
	"unicode/utf8"
)

// avatarURL is where a persona's avatar is: the sim's own /users/{uuid}/avatar when its
// public URL is known (so a browser test loads it), else plex.tv's, as real accounts have.
func avatarURL(base, uuid string) string {
	if base == "" {
		base = "https://plex.tv"
	}
	return base + "/users/" + uuid + "/avatar"
}

// avatar is GET /users/{uuid}/avatar: a persona's picture, an SVG of its initial on a colour
// of its own (plex.tv answers with the account's image).
func (s *Sim) avatar(w http.ResponseWriter, r *http.Request) {
	uuid := r.PathValue("uuid")
	var title string
	for _, p := range s.world.Personas {
		if p.UUID == uuid {
			title = p.Title
		}
	}
	if title == "" {
		http.NotFound(w, r)
		return
	}
	initial, _ := utf8.DecodeRuneInString(strings.ToUpper(title))
	h := fnv.New32a()
	_, _ = h.Write([]byte(uuid))
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "max-age=3600")
	_, _ = fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96">`+
		`<rect width="96" height="96" fill="hsl(%d,55%%,45%%)"/><text x="48" y="62" font-family="sans-serif" font-size="44" `+
		`text-anchor="middle" fill="#fff">%s</text></svg>`, h.Sum32()%360, xmlEsc(string(initial)))
}
