// Package imagearchive makes a docker-archive (podman save --format docker-archive) depend on
// its source only. podman build --timestamp 0 gives the same layers every time, but a
// --format docker config also names the build container ("container", each "Hostname"): a
// random id per build, so the image ID (the config's sha256) changed with every uncached build.
package imagearchive

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"time"
)

// manifestEntry is one image of an archive's manifest.json.
type manifestEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// Normalize writes to dst the archive src with the build container's traces taken out of the
// config (its id and host name), the legacy per-layer folders and "repositories" left out
// (loaders read manifest.json), and every entry's header fixed (mode 0444, owner 0, time 0),
// in a fixed order. It answers the image ID: the sha256 of the new config.
func Normalize(src, dst string) (string, error) {
	files, err := readAll(src)
	if err != nil {
		return "", err
	}
	var manifest []manifestEntry
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		return "", fmt.Errorf("%s: manifest.json of one image: %v", src, err)
	}
	m := manifest[0]
	config, err := cleanConfig(files[m.Config])
	if err != nil {
		return "", fmt.Errorf("%s: config: %w", src, err)
	}
	sum := sha256.Sum256(config)
	id := hex.EncodeToString(sum[:])
	out := map[string][]byte{id + ".json": config}
	for _, l := range m.Layers {
		b, ok := files[l]
		if !ok {
			return "", fmt.Errorf("%s: layer %s missing", src, l)
		}
		out[l] = b
	}
	m.Config = id + ".json"
	if out["manifest.json"], err = json.Marshal([]manifestEntry{m}); err != nil {
		return "", err
	}
	return id, writeAll(dst, out)
}

// cleanConfig removes the build container's id and host name from a docker image config.
func cleanConfig(b []byte) ([]byte, error) {
	var c map[string]json.RawMessage
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	delete(c, "container")
	for _, k := range []string{"config", "container_config"} {
		raw, ok := c[k]
		if !ok {
			continue
		}
		var sub map[string]json.RawMessage
		if err := json.Unmarshal(raw, &sub); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		delete(sub, "Hostname")
		var err error
		if c[k], err = json.Marshal(sub); err != nil {
			return nil, err
		}
	}
	return json.Marshal(c) // map keys sorted: one encoding
}

// readAll reads the regular files of a tar archive, following the symlinks of its legacy
// folders no further (they are dropped).
func readAll(name string) (map[string][]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", name, h.Name, err)
		}
		files[path.Clean(h.Name)] = b
	}
}

// writeAll writes files as a tar archive in name order with fixed headers.
func writeAll(name string, files map[string][]byte) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		h := &tar.Header{Name: n, Mode: 0o444, Size: int64(len(files[n])), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(files[n]); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return os.WriteFile(name, buf.Bytes(), 0o644)
}
