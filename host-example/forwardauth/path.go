package forwardauth

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// Apps and the servers in front of them read one request path in different ways: Go's
// ServeMux and most routers resolve only literal dot segments and decode each segment after
// splitting (so %2F stays inside a segment); Java servers drop ";parameters" from each
// segment before resolving; some servers decode the whole path first; some decode and parse
// it again (so a decoded "?" or "#" ends it); ASP.NET routes case-insensitively; some apps
// fold compatibility characters (NFKC: "／" is "/", "ａ" is "a") before routing. A path is
// judged under every one of these readings, and passes only if each passes under the rule
// it selects (Rules.Judge). What no reading makes safe is refused outright (ParsePath).

// ErrBadPath is a request path refused outright (it is denied).
var ErrBadPath = errors.New("request path refused")

// Path is a request path read every plausible way.
type Path struct {
	readings []reading
	// buf backs readings and segs the first segments: a plain path's readings (as Go reads
	// it, and case-folded) allocate nothing beyond the Path.
	buf  [2]reading
	segs [8]string
	// EncodedSlash is set when the path holds %2F: only rules that allow it may pass it.
	EncodedSlash bool
}

// reading is one way to read a path: its decoded segments, without empty ones and with dot
// segments resolved. fold: rules are selected case-insensitively (bypass paths never are).
// compat: the segments are another reading's, compatibility-folded, split and resolved again.
type reading struct {
	segs   []string
	fold   bool
	compat bool
}

// ParsePath reads raw, the path and query of a request as the proxy forwarded it. It
// refuses a path that does not start with "/", holds a raw "#", "\", space or control
// character, a bad or doubly encoded escape, an encoded "\" or control character (NUL), a
// dot segment hidden behind ";" or an escape ("..;", ".;x", "%2e%2e", "..%2F"), a segment
// ending in a dot or a space ("/admin.", "/admin%20": Windows servers strip those), a
// compatibility form of "\" ("＼"), a control, or of an escape still encoded once decoded
// again ("％252e"), and a segment that folds to dots and spaces only (addFolded).
func ParsePath(raw string) (*Path, error) {
	p, _, _ := strings.Cut(raw, "?")
	if p == "" {
		p = "/"
	}
	if p[0] != '/' {
		return nil, fmt.Errorf("%w: %q does not start with /", ErrBadPath, p)
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c == 0x7f || c == '#' || c == '\\' {
			return nil, fmt.Errorf("%w: it holds %q", ErrBadPath, c)
		}
	}
	rawSegs := strings.Split(p[1:], "/")
	path := &Path{}
	path.readings = path.buf[:0]
	escaped := false
	for _, s := range rawSegs {
		if err := checkSegment(s); err != nil {
			return nil, fmt.Errorf("%w: segment %q %v", ErrBadPath, s, err)
		}
		if strings.IndexByte(s, '%') >= 0 {
			escaped = true
			path.EncodedSlash = path.EncodedSlash || strings.Contains(s, "%2F") || strings.Contains(s, "%2f")
		}
	}
	params := strings.IndexByte(p, ';') >= 0
	// As Go's ServeMux routes it (and most servers): literal dot segments, then each segment decoded.
	path.add(resolveInto(path.segs[:0], rawSegs, false, true))
	if params {
		// As Java servers do: ";parameters" dropped from each segment first.
		path.add(resolve(rawSegs, true, true))
	}
	dec := p
	if escaped {
		// Decoded first, then split (servers that decode %2F too).
		dec = unescape(p)
		decSegs := strings.Split(dec[1:], "/")
		path.add(resolve(decSegs, false, false))
		if strings.IndexByte(dec, ';') >= 0 {
			path.add(resolve(decSegs, true, false))
		}
		// Decoded, then parsed again: a decoded "?" or "#" ends the path.
		if i := strings.IndexAny(dec, "?#"); i >= 0 {
			cut := strings.Split(dec[1:i], "/")
			path.add(resolve(cut, false, false))
			path.add(resolve(cut, true, false))
		}
	}
	if escaped || !isASCII(p) {
		if err := path.addCompatible(dec); err != nil {
			return nil, err
		}
	}
	// Each reading case-folded too (ASP.NET routes case-insensitively).
	for _, r := range path.readings {
		path.readings = append(path.readings, reading{segs: r.segs, fold: true, compat: r.compat})
	}
	return path, nil
}

// addCompatible adds the readings of an app that folds compatibility characters (NFKC)
// before routing: a full-width "/" then splits a segment and full-width dots make a dot
// segment, so the folded path is split and resolved again (with ";parameters" dropped too,
// when it holds a ";"). The app may fold the decoded path dec before resolving its dot
// segments, or fold a reading after its server resolved them: both are read. A folded "\"
// is refused, as an encoded one is. ParsePath calls it only for a path with a non-ASCII
// byte or an escape, so the common ASCII path costs nothing more.
func (p *Path) addCompatible(dec string) error {
	if err := p.addFolded(dec); err != nil {
		return err
	}
	for i, n := 0, len(p.readings); i < n; i++ {
		if segs := p.readings[i].segs; slices.ContainsFunc(segs, func(s string) bool { return !isASCII(s) }) {
			if err := p.addFolded("/" + strings.Join(segs, "/")); err != nil {
				return err
			}
		}
	}
	return nil
}

// addFolded adds the readings of path src once compatibility-folded, if that changes it. The
// folded path goes through the further readings the ASCII path's decoded one does: a "％"
// folded into an escape is decoded once more (the decoded path holds it decoded once already:
// an escape still there after that is refused, as a doubly encoded one is), a folded "?" or
// "#" ends the path, ";parameters" are dropped, and a segment ending in a folded dot or space
// is also read without them (Windows servers strip them; a segment of only dots and spaces
// is refused, as it hides a dot segment).
func (p *Path) addFolded(src string) error {
	if isASCII(src) {
		return nil
	}
	folded := norm.NFKC.String(src)
	if folded == src {
		return nil
	}
	if err := p.addFoldedForm(src, folded); err != nil {
		return err
	}
	if !hasEscape(folded) {
		return nil
	}
	again := unescape(folded)
	if again == folded || hasEscape(again) {
		return fmt.Errorf("%w: %q folds to an escape encoded twice", ErrBadPath, src)
	}
	return p.addFoldedForm(src, again)
}

// addFoldedForm adds the compatible readings of folded, a folded form of src: as it is, cut at
// a "?" or "#", each with ";parameters" dropped too, and each with the dots and spaces that end
// a segment trimmed.
func (p *Path) addFoldedForm(src, folded string) error {
	if strings.ContainsFunc(folded, func(r rune) bool { return r == '\\' || r < ' ' || r == 0x7f }) {
		return fmt.Errorf("%w: %q folds to a backslash or a control character", ErrBadPath, src)
	}
	forms := []string{folded}
	if i := strings.IndexAny(folded, "?#"); i >= 0 {
		forms = append(forms, folded[:i])
	}
	for _, f := range forms {
		segs := strings.Split(f, "/")
		variants := [][]string{segs}
		if strings.IndexByte(f, ';') >= 0 {
			noParams := make([]string, len(segs))
			for i, s := range segs {
				noParams[i], _, _ = strings.Cut(s, ";")
			}
			variants = append(variants, noParams)
		}
		for _, v := range variants {
			trimmed, err := trimEnds(v)
			if err != nil {
				return fmt.Errorf("%w: %q %v", ErrBadPath, src, err)
			}
			for _, segs := range [][]string{v, trimmed} {
				if segs == nil {
					continue
				}
				c := resolve(segs, false, false)
				c.compat = true
				p.add(c)
			}
		}
	}
	return nil
}

// trimEnds is segs with the dots and spaces that end each segment removed (nil when none
// does); a segment of only dots and spaces, other than a dot segment, is an error.
func trimEnds(segs []string) ([]string, error) {
	var out []string
	for i, s := range segs {
		if s == "." || s == ".." {
			continue
		}
		t := strings.TrimRight(s, ". ")
		if t == s {
			continue
		}
		if t == "" {
			return nil, fmt.Errorf("segment %q folds to dots and spaces (a hidden dot segment)", s)
		}
		if out == nil {
			out = slices.Clone(segs)
		}
		out[i] = t
	}
	return out, nil
}

// hasEscape reports whether s holds a %XX escape.
func hasEscape(s string) bool {
	for i := 0; i+2 < len(s); i++ {
		if s[i] == '%' && isHex(s[i+1]) && isHex(s[i+2]) {
			return true
		}
	}
	return false
}

// checkSegment refuses a raw segment no reading makes safe.
func checkSegment(s string) error {
	if _, err := url.PathUnescape(s); err != nil {
		return errors.New("holds a bad escape")
	}
	if s == "." || s == ".." {
		return nil // a literal dot segment: every reading resolves it alike
	}
	dec := unescape(s)
	for i := 0; i < len(dec); i++ {
		if c := dec[i]; c < ' ' || c == 0x7f || c == '\\' {
			return errors.New("holds an encoded backslash or control character")
		}
		if dec[i] == '%' && i+2 < len(dec) && isHex(dec[i+1]) && isHex(dec[i+2]) {
			return errors.New("is encoded twice")
		}
	}
	// Every piece a server may see as a segment: decoded or not, with or without parameters,
	// split at an encoded slash or not.
	noParams, _, _ := strings.Cut(s, ";")
	for _, cand := range [2]string{dec, unescape(noParams)} {
		for piece := range strings.SplitSeq(cand, "/") {
			if stripped, _, _ := strings.Cut(piece, ";"); stripped != piece {
				if err := checkPiece(stripped); err != nil {
					return err
				}
			}
			if err := checkPiece(piece); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkPiece refuses a hidden dot segment and a name ending in a dot or a space.
func checkPiece(p string) error {
	switch {
	case p == "." || p == "..":
		return errors.New("hides a dot segment (behind \";\" or an escape)")
	case strings.HasSuffix(p, ".") || strings.HasSuffix(p, " "):
		return errors.New("ends in a dot or a space (which Windows servers strip)")
	}
	return nil
}

// resolve is the segments of one reading: parameters dropped if asked, dot segments
// resolved, empty segments dropped, each segment decoded if still encoded.
func resolve(segs []string, dropParams, decode bool) reading {
	return resolveInto(make([]string, 0, len(segs)), segs, dropParams, decode)
}

// resolveInto is resolve appending the segments to out (an empty slice whose backing array
// the reading may keep).
func resolveInto(out, segs []string, dropParams, decode bool) reading {
	for _, s := range segs {
		if dropParams {
			s, _, _ = strings.Cut(s, ";")
		}
		switch s {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	if decode {
		for i, s := range out {
			out[i] = unescape(s)
		}
	}
	return reading{segs: out}
}

// add keeps a reading unless an equal one is kept already.
func (p *Path) add(r reading) {
	for _, o := range p.readings {
		if o.fold == r.fold && slices.Equal(o.segs, r.segs) {
			return
		}
	}
	p.readings = append(p.readings, r)
}

// Readings are the path's distinct readings as paths ("/a/b"), the case-folded ones marked
// with a leading "(folded) " (for tests and logs).
func (p *Path) Readings() []string {
	out := make([]string, 0, len(p.readings))
	for _, r := range p.readings {
		s := "/" + strings.Join(r.segs, "/")
		if r.compat {
			s = "(compatible) " + s
		}
		if r.fold {
			s = "(folded) " + s
		}
		out = append(out, s)
	}
	return out
}

// caseKey is s as case-insensitive routers compare it: upper-cased by the full mapping (ﬁ
// becomes FI, as Java's, JavaScript's and Python's toUpperCase make it), then each letter
// lower-cased, so the letters other languages' case mappings turn into ASCII meet their ASCII
// forms too (ı and İ meet i, ſ meets s, the Kelvin sign meets k, as .NET's OrdinalIgnoreCase
// and Java's equalsIgnoreCase let them).
func caseKey(s string) string {
	return strings.Map(unicode.ToLower, cases.Upper(language.Und).String(s))
}

// foldEqual reports whether a and b are equal as case-insensitive routers compare them
// (caseKey); ASCII strings take the quick way.
func foldEqual(a, b string) bool {
	if isASCII(a) && isASCII(b) {
		return strings.EqualFold(a, b)
	}
	return caseKey(a) == caseKey(b)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// under reports whether segs are prefix or below it, on segment boundaries (/admin covers
// /admin and /admin/x, never /adminx), comparing case-insensitively if fold.
func under(segs []string, prefix string, fold bool) bool {
	prefix = strings.Trim(prefix, "/")
	for i := 0; prefix != ""; i++ {
		var seg string
		seg, prefix, _ = strings.Cut(prefix, "/")
		if i >= len(segs) || (segs[i] != seg && !(fold && foldEqual(segs[i], seg))) {
			return false
		}
	}
	return true
}

// unescape decodes every %XX of s (already checked to be well-formed).
func unescape(s string) string {
	dec, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return dec
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
