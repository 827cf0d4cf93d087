package imagearchive

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// archive writes a docker-archive like podman save's: a config naming the build container,
// one layer, a legacy folder and repositories.
func archive(t *testing.T, dir, container string) string {
	t.Helper()
	config := `{"architecture":"amd64","container":"` + container + `","config":{"Hostname":"` + container[:12] + `","User":"65532:65532"},"container_config":{"Hostname":"` + container[:12] + `"},"rootfs":{"type":"layers","diff_ids":["sha256:aa"]}}`
	files := []struct{ name, body string }{
		{container + ".json", config},
		{"aa.tar", "layer bytes"},
		{"legacy/json", `{"container":"` + container + `"}`},
		{"repositories", `{}`},
		{"manifest.json", `[{"Config":"` + container + `.json","RepoTags":["localhost/x:1"],"Layers":["aa.tar"]}]`},
	}
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: time.Now(), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(f.body))
	}
	tw.Close()
	p := filepath.Join(dir, container+".tar")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTwoBuildsOneImage checks archives that differ only by their build container give the
// same bytes and ID, with the container's id and host name gone and the rest kept.
func TestTwoBuildsOneImage(t *testing.T) {
	dir := t.TempDir()
	var ids []string
	var outs [][]byte
	for _, c := range []string{"0123456789abcdef0123", "fedcba9876543210fedc"} {
		out := filepath.Join(dir, "out-"+c+".tar")
		id, err := Normalize(archive(t, dir, c), out)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(out)
		ids, outs = append(ids, id), append(outs, b)
	}
	if ids[0] != ids[1] || !bytes.Equal(outs[0], outs[1]) {
		t.Fatalf("two builds gave %s and %s", ids[0], ids[1])
	}
	tr := tar.NewReader(bytes.NewReader(outs[0]))
	var names []string
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, h.Name)
		body := new(bytes.Buffer)
		body.ReadFrom(tr)
		if h.ModTime.Unix() != 0 || h.Uid != 0 || h.Mode != 0o444 {
			t.Errorf("%s: header %v %d %o", h.Name, h.ModTime, h.Uid, h.Mode)
		}
		if h.Name == ids[0]+".json" {
			if strings.Contains(body.String(), "0123456789ab") || strings.Contains(body.String(), "Hostname") {
				t.Errorf("config still names the build container: %s", body)
			}
			var c map[string]any
			if json.Unmarshal(body.Bytes(), &c) != nil || c["config"].(map[string]any)["User"] != "65532:65532" || c["rootfs"] == nil {
				t.Errorf("config lost what it held: %s", body)
			}
		}
	}
	want := []string{ids[0] + ".json", "aa.tar", "manifest.json"}
	slices.Sort(want)
	if !slices.Equal(names, want) { // in name order, without the legacy folder and repositories
		t.Errorf("archive holds %v, want %v", names, want)
	}
}
