package containertest

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/cabundle"
)

// entry is one file or folder of an image's layers.
type entry struct {
	dir      bool
	mode     int64
	uid, gid int
	body     []byte
}

// imageConfig is what the test reads of a docker image config.
type imageConfig struct {
	Architecture string
	OS           string
	Config       struct {
		User         string
		Env          []string
		Entrypoint   []string
		Cmd          []string
		Volumes      map[string]struct{}
		ExposedPorts map[string]struct{}
		Healthcheck  *struct{ Test []string }
	} `json:"config"`
}

// readArchive reads a docker-archive: its config and the files of its layers, in order.
func readArchive(t *testing.T, name string) (imageConfig, map[string]entry) {
	t.Helper()
	files := map[string][]byte{}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if b, err := io.ReadAll(tr); err == nil {
			files[h.Name] = b
		}
	}
	var manifest []struct {
		Config string
		Layers []string
	}
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("%s: manifest.json: %v", name, err)
	}
	var cfg imageConfig
	if err := json.Unmarshal(files[manifest[0].Config], &cfg); err != nil {
		t.Fatalf("%s: config: %v", name, err)
	}
	entries := map[string]entry{}
	for _, l := range manifest[0].Layers {
		lr := tar.NewReader(bytes.NewReader(files[l]))
		for {
			h, err := lr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: layer %s: %v", name, l, err)
			}
			body, _ := io.ReadAll(lr)
			p := "/" + strings.TrimSuffix(path.Clean(h.Name), "/")
			if !h.ModTime.IsZero() && h.ModTime.Unix() != 0 {
				t.Errorf("%s: %s has time %s, want 0 (--timestamp 0)", name, p, h.ModTime)
			}
			entries[p] = entry{dir: h.Typeflag == tar.TypeDir, mode: h.Mode, uid: h.Uid, gid: h.Gid, body: body}
		}
	}
	return cfg, entries
}

// TestImageHoldsOnlyWhatIsListed lists the files of each platform's image and compares them
// with what scripts/image says it holds: the two static binaries of its platform, the signed
// manifest and its logo, the pinned CA bundle and the empty volume owned by 65532; and reads
// back the config: the user, the variables, the volume, the port and the HEALTHCHECK.
func TestImageHoldsOnlyWhatIsListed(t *testing.T) {
	dir := needImages(t)
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			cfg, entries := readArchive(t, filepath.Join(dir, "host-example-linux-"+arch+".tar"))
			plugin := "/app/plex-source_linux_" + arch
			want := map[string]string{ // path → mode uid:gid
				"/etc": "dir 755 0:0", "/etc/ssl": "dir 755 0:0", "/etc/ssl/certs": "dir 755 0:0",
				cabundle.Path: "644 0:0",
				"/app":        "dir 755 0:0", "/app/host-example": "755 0:0", plugin: "755 0:0", "/app/plugin.json": "644 0:0",
				"/app/plugin": "dir 755 0:0", "/app/plugin/img": "dir 755 0:0", "/app/plugin/img/plex.svg": "644 0:0",
				"/data": "dir 700 65532:65532",
			}
			var got, missing []string
			for p, e := range entries {
				kind := fmt.Sprintf("%o %d:%d", e.mode&0o7777, e.uid, e.gid)
				if e.dir {
					kind = "dir " + kind
				}
				if want[p] != kind {
					got = append(got, p+" ("+kind+")")
				}
			}
			for p := range want {
				if _, ok := entries[p]; !ok {
					missing = append(missing, p)
				}
			}
			sort.Strings(got)
			sort.Strings(missing)
			if len(got) > 0 || len(missing) > 0 {
				t.Errorf("the image holds what is not listed (or not as listed): %v; and lacks %v", got, missing)
			}
			if !bytes.Equal(entries[cabundle.Path].body, cabundle.PEM()) {
				t.Error("the image's CA bundle is not host-example/cabundle's")
			}
			machine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch]
			for _, p := range []string{"/app/host-example", plugin} {
				ef, err := elf.NewFile(bytes.NewReader(entries[p].body))
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				if ef.Machine != machine {
					t.Errorf("%s is for %s, want %s", p, ef.Machine, machine)
				}
				if slices.ContainsFunc(ef.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP }) {
					t.Errorf("%s is dynamically linked (has an interpreter): want CGO_ENABLED=0", p)
				}
			}
			var manifest struct{ Checksums map[string]string }
			if err := json.Unmarshal(entries["/app/plugin.json"].body, &manifest); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(entries[plugin].body)
			if manifest.Checksums[path.Base(plugin)] != hex.EncodeToString(sum[:]) {
				t.Errorf("plugin.json's checksum of %s is not the image's plugin's", path.Base(plugin))
			}

			if cfg.Architecture != arch || cfg.OS != "linux" {
				t.Errorf("config says %s/%s", cfg.OS, cfg.Architecture)
			}
			c := cfg.Config
			if c.User != "65532:65532" {
				t.Errorf("user %q, want 65532:65532", c.User)
			}
			for _, v := range []string{"HOST_LISTEN=:8080", "HOST_DATA_DIR=/data", "TMPDIR=/data/tmp"} {
				if !slices.Contains(c.Env, v) {
					t.Errorf("no %s in %v", v, c.Env)
				}
			}
			if _, ok := c.Volumes["/data"]; !ok || len(c.Volumes) != 1 {
				t.Errorf("volumes %v, want /data", c.Volumes)
			}
			if _, ok := c.ExposedPorts["8080/tcp"]; !ok {
				t.Errorf("exposed ports %v, want 8080/tcp", c.ExposedPorts)
			}
			if !slices.Equal(c.Entrypoint, []string{"/app/host-example"}) || !slices.Equal(c.Cmd, []string{"serve"}) {
				t.Errorf("entrypoint %v cmd %v", c.Entrypoint, c.Cmd)
			}
			if c.Healthcheck == nil || !slices.Equal(c.Healthcheck.Test, []string{"CMD", "/app/host-example", "healthcheck"}) {
				t.Errorf("healthcheck %+v, want host-example healthcheck (a docker-format image keeps it)", c.Healthcheck)
			}
		})
	}
}
