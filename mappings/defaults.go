package mappings

import (
	"embed"
	"fmt"
)

//go:embed defaults/*.mapping
var defaultFiles embed.FS

// DefaultText returns the text of a default mapping file by name ("plex", "admins.example").
func DefaultText(name string) (string, error) {
	b, err := defaultFiles.ReadFile("defaults/" + name + ".mapping")
	if err != nil {
		return "", fmt.Errorf("no default mapping %q", name)
	}
	return string(b), nil
}

// MustDefault parses a default mapping file; it panics on a broken file (a build-time error).
func MustDefault(name string) []Set {
	text, err := DefaultText(name)
	if err != nil {
		panic(err)
	}
	sets, err := Parse(text)
	if err != nil {
		panic(fmt.Sprintf("default mapping %s: %v", name, err))
	}
	return sets
}
