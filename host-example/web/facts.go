package web

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// How the host shows the "why" of a decision: a plugin's admin detail (and the user's text a
// refusal joins to it, host.joinDetail) as a short list of facts, and a reason code in words.
// Nothing here knows a plugin: it reads the separators the contract's texts use (" | " between
// facts, " — " after the user's text) and shortens long hexadecimal ids.

// fact is one sentence of a decision's detail: text with long ids shortened.
type fact []factPart

// factPart is text, or (ID set) a long id shown shortened with the whole of it on hover.
type factPart struct {
	Text string
	ID   string
}

// longHex is an id of 16 or more hexadecimal digits (a machine identifier, a token's hash).
var longHex = regexp.MustCompile(`\b[0-9a-fA-F]{16,}\b`)

// factKey is the "key=value" start of a diagnostic fact ("mode=members").
var factKey = regexp.MustCompile(`^([a-z][a-z0-9_ ]*)=(.*)$`)

// factsOf splits a detail into facts: at " — " (the user's text, then the admin's detail) and
// " | "; "key=value" reads "Key: value", each fact starts with a capital, and ids of 16 or more
// hexadecimal digits show their first 8.
func factsOf(detail string) []fact {
	var out []fact
	for _, part := range strings.Split(detail, " — ") {
		for _, f := range strings.Split(part, " | ") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			if m := factKey.FindStringSubmatch(f); m != nil {
				f = strings.ReplaceAll(m[1], "_", " ") + ": " + m[2]
			}
			out = append(out, splitIDs(capitalised(f)))
		}
	}
	return out
}

// splitIDs cuts text around its long hexadecimal ids.
func splitIDs(s string) fact {
	var out fact
	at := 0
	for _, loc := range longHex.FindAllStringIndex(s, -1) {
		if loc[0] > at {
			out = append(out, factPart{Text: s[at:loc[0]]})
		}
		id := s[loc[0]:loc[1]]
		out = append(out, factPart{Text: id[:8] + "…", ID: id})
		at = loc[1]
	}
	if at < len(s) {
		out = append(out, factPart{Text: s[at:]})
	}
	return out
}

// capitalised is s with its first letter upper-case.
func capitalised(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// reasonWords is a reason code in words: the code's own words, underscores as spaces,
// capitalised ("not_a_member" reads "Not a member"). The host knows no plugin's codes; a
// plugin's sentence for a decision is its UserText, shown beside these words.
func reasonWords(code string) string {
	return capitalised(strings.TrimSpace(strings.ReplaceAll(code, "_", " ")))
}
