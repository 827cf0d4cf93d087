package host

import "slices"

// AppAdmits is the group gate of an app, the one rule both doors and the pages use: an app
// that names no groups admits every signed-in person; one that names some admits a person
// in at least one of them.
func AppAdmits(allowed, groups []string) bool {
	if len(allowed) == 0 {
		return true
	}
	for _, g := range groups {
		if slices.Contains(allowed, g) {
			return true
		}
	}
	return false
}
