package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBootstrapFileIsStrict(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "b.json")
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	list, err := readBootstrap(write(`[{"plugin":"plex","slug":"plex","name":"Plex","enabled":true,"config":{"a":1}}]`))
	if err != nil || len(list) != 1 || !list[0].Enabled || string(list[0].Config) != `{"a":1}` {
		t.Fatalf("good file: %+v %v", list, err)
	}
	if _, err := readBootstrap(write(`[{"plugin":"plex","slug":"plex","name":"Plex","enabeld":true}]`)); err == nil || !strings.Contains(err.Error(), "enabeld") {
		t.Fatalf("unknown key: %v", err)
	}
	if _, err := readBootstrap(write(`[{"plugin":"plex","name":"Plex"}]`)); err == nil || !strings.Contains(err.Error(), "slug") {
		t.Fatalf("missing slug: %v", err)
	}
}
