package loader

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// FileSHA256 returns the lowercase hex sha256 of a file.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// WriteSigned writes m into dir as plugin.json with the sha256 of every executable
// named m.Executable_<os>_<arch> found in dir; a manifest ReadManifest would refuse is not written.
func WriteSigned(m *Manifest, dir string) (string, error) {
	if err := m.check(); err != nil {
		return "", fmt.Errorf("manifest of %q: %w", m.ID, err)
	}
	matches, err := filepath.Glob(filepath.Join(dir, m.Executable+"_*_*"))
	if err != nil {
		return "", err
	}
	out := *m
	out.Checksums = map[string]string{}
	for _, p := range matches {
		sum, err := FileSHA256(p)
		if err != nil {
			return "", err
		}
		out.Checksums[filepath.Base(p)] = sum
	}
	if len(out.Checksums) == 0 {
		return "", fmt.Errorf("no executable %s_<os>_<arch> in %s", m.Executable, dir)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "plugin.json")
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return "", err
	}
	return path, os.Chmod(path, 0o644)
}

// Sign writes the signed manifest of m into dir (WriteSigned), then starts the plugin it
// names and takes the manifest's capabilities from its Describe: one source for both.
func Sign(m *Manifest, dir string) (string, error) {
	matches, _ := filepath.Glob(filepath.Join(dir, m.Executable+"_*_*"))
	for _, p := range matches {
		if err := os.Chmod(p, 0o755); err != nil { // whatever the umask: not writable by others
			return "", err
		}
	}
	path, err := WriteSigned(m, dir)
	if err != nil {
		return "", err
	}
	p, err := Load(path, Options{})
	if err != nil {
		return "", fmt.Errorf("start the plugin to read its capabilities: %w", err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := p.Describe(ctx)
	if err != nil {
		return "", fmt.Errorf("describe: %w", err)
	}
	out := *m
	out.Capabilities = d.Capabilities
	return WriteSigned(&out, dir)
}
