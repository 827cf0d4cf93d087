package host

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// The words the pages say a plugin's things in come from the plugin (contract 1.5): the
// titles of the attributes its logins return and the names of its credentials. The host
// has none of its own; for a plugin that gives none it says the key in words (a credential
// kind: source.CredentialKind.Title and SignedOut).

// AttributeTitle is what a person reads for the attribute name of someone who signed in
// through src: the title src's plugin declares, else the name in words ("watch_time" →
// "Watch time").
func (s *Sources) AttributeTitle(src *store.Source, name string) string {
	if src != nil {
		if p := s.plugins.Get(src.PluginID); p != nil && p.Schema != nil {
			if t := p.Schema.AttributeTitles[name]; t != "" {
				return t
			}
		}
	}
	return inWords(name)
}

// inWords is a key in words: separators become spaces, the first letter upper-cased.
func inWords(key string) string {
	words := strings.TrimSpace(strings.NewReplacer("_", " ", "-", " ").Replace(key))
	r, size := utf8.DecodeRuneInString(words)
	if words == "" || r == utf8.RuneError {
		return key
	}
	return string(unicode.ToUpper(r)) + words[size:]
}

// Upstreams are where the credentials logins through src hand over are signed out, as its
// plugin names the places ("acme.example"), sorted; none when its plugin is not loaded or names none.
func (s *Sources) Upstreams(src *store.Source) []string {
	p := s.plugins.Get(src.PluginID)
	if p == nil {
		return nil
	}
	var out []string
	for _, c := range p.Desc.CredentialKinds {
		if c.Upstream != "" && !slices.Contains(out, c.Upstream) {
			out = append(out, c.Upstream)
		}
	}
	slices.Sort(out)
	return out
}
