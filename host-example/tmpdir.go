package main

import (
	"fmt"
	"os"
)

// ensureTempDir creates the folder TMPDIR names (0700) when it is set and missing: the plugin
// loader copies each plugin into a folder there and runs it from it, and go-plugin puts its
// sockets there. The container image sets TMPDIR=/data/tmp, since a scratch image has no /tmp
// (and a tmpfs is noexec under Docker). An unset TMPDIR (/tmp) is left alone.
func ensureTempDir() error {
	dir := os.Getenv("TMPDIR")
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("TMPDIR: %w", err)
	}
	return nil
}
