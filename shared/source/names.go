package source

// MaxNameLength is the most code points of Identity.Name and Identity.PreferredUsername a
// host keeps: it cuts a longer one (CutName) rather than refuse the login. A plugin may cut
// an upstream's free text to it before its own mapping, so the mapping never fails on it.
const MaxNameLength = 256

// CutName is s cut to its first MaxNameLength code points.
func CutName(s string) string {
	n := 0
	for i := range s {
		if n == MaxNameLength {
			return s[:i]
		}
		n++
	}
	return s
}
