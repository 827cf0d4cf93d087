package store

import (
	"strings"
	"unicode"

	"github.com/plexlogin/plexlogin/shared/source"
)

// Names sent to apps. What FinishLogin stores of a login's names and e-mail is what every
// app receives (OpenID Connect claims, forward-auth's Remote-* headers) and every page
// shows, so it is cleaned once, there (forApps): a name is cut to source.MaxNameLength code
// points, loses the characters that reorder or hide text, and an e-mail that cannot be an
// address is dropped rather than changed into another address.

// maxEmailBytes is the longest address SMTP can carry (RFC 5321: a 256-octet path with
// its two angle brackets).
const maxEmailBytes = 254

// hiddenInName reports a character removed from names sent to apps: a control, a line or
// paragraph separator, a Bidi_Control character (U+061C, U+200E, U+200F, U+202A–U+202E,
// U+2066–U+2069: they reorder the text around the name in an app's page, so one person
// can pose as another) and the zero-width characters that join nothing (U+200B, U+2060,
// U+FEFF). The zero-width non-joiner and joiner (U+200C, U+200D) stay: Persian, Indic
// scripts and emoji need them.
func hiddenInName(r rune) bool {
	switch r {
	case '\u200b', '\u2060', '\ufeff', '\u2028', '\u2029':
		return true
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}

// cleanName is a display name as apps receive it: without hidden characters and
// surrounding spaces, at most source.MaxNameLength code points.
func cleanName(name string) string {
	name = strings.TrimSpace(strings.Map(func(r rune) rune {
		if hiddenInName(r) {
			return -1
		}
		return r
	}, name))
	return strings.TrimSpace(source.CutName(name))
}

// cleanEmail is an e-mail address as apps receive it: "" for one longer than an address
// can be or holding a space, a control or an invisible character (removing them would
// make another address, perhaps someone else's).
func cleanEmail(email string) string {
	if len(email) > maxEmailBytes || strings.IndexFunc(email, func(r rune) bool {
		return unicode.IsSpace(r) || hiddenInName(r) || unicode.Is(unicode.Cf, r)
	}) >= 0 {
		return ""
	}
	return email
}

// forApps is u with its names and e-mail as apps receive them: the username and display
// name cleaned and cut (a cut username is still made unique by assignUsername), an
// unusable e-mail dropped with its verified flag.
func (u User) forApps() User {
	u.Username = strings.TrimSpace(source.CutName(cleanUsername(u.Username)))
	u.Name = cleanName(u.Name)
	if u.Email = cleanEmail(u.Email); u.Email == "" {
		u.EmailVerified = false
	}
	return u
}
