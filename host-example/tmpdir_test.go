package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestTempDirIsMadePrivate checks a missing TMPDIR is created 0700, whatever the umask, with
// its parents, and that an existing one is kept as it is.
func TestTempDirIsMadePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "tmp")
	t.Setenv("TMPDIR", dir)
	if err := ensureTempDir(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("TMPDIR made %v, want 0700", fi.Mode().Perm())
	}
	if err := ensureTempDir(); err != nil {
		t.Fatalf("an existing TMPDIR: %v", err)
	}
	if d, _ := os.MkdirTemp("", "x"); filepath.Dir(d) != dir {
		t.Errorf("os.MkdirTemp made %s, not in TMPDIR", d)
	}
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "file", "tmp"))
	if err := os.WriteFile(filepath.Dir(os.Getenv("TMPDIR")), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ensureTempDir(); err == nil {
		t.Error("a TMPDIR under a file was made")
	}
}
