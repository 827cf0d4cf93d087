package loader_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/shared/loader"
)

// Swapping the executable after its checksum was checked changes nothing: the host runs
// the private copy it hashed.
func TestSwapAfterChecksumHasNoEffect(t *testing.T) {
	dir := t.TempDir()
	path := copyPluginTo(t, dir)
	m, err := loader.ReadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	evil := filepath.Join(dir, "evil")
	if err := os.WriteFile(evil, []byte("#!/bin/sh\necho evil >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	swapped := false
	loader.SetBeforeExec(func(original string) {
		swapped = os.Rename(evil, original) == nil
	})
	defer loader.SetBeforeExec(nil)
	p, err := loader.Load(path, loader.Options{})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	defer p.Close()
	if !swapped {
		t.Fatal("the test did not swap the executable")
	}
	if d, err := p.Describe(context.Background()); err != nil || d.ID != "mock" {
		t.Fatalf("the verified plugin does not answer: %+v %v", d, err)
	}
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.Pid()))
	if exe == m.ExecutablePath() || strings.HasPrefix(exe, dir) {
		t.Fatalf("the host ran %s, not its private copy", exe)
	}
	// The next start checks the swapped file and refuses it.
	p.Kill()
	if err := p.Ping(context.Background()); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("restart with the swapped file: %v", err)
	}
}

// copyPluginTo copies the mock plugin and its manifest into dir and returns the manifest path.
func copyPluginTo(t *testing.T, dir string) string {
	t.Helper()
	m, err := loader.ReadManifest(mockManifest)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(m.ExecutablePath())
	if err := os.WriteFile(filepath.Join(dir, m.ExecutableName()), b, 0o755); err != nil {
		t.Fatal(err)
	}
	mb, _ := os.ReadFile(mockManifest)
	path := filepath.Join(dir, "plugin.json")
	if err := os.WriteFile(path, mb, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExecutableMustBeABareName(t *testing.T) {
	for _, exe := range []string{"../elsewhere/evil", "/bin/sh", "sub/dir", "..", `..\evil`, ".hidden"} {
		path := copyManifest(t, func(m map[string]any) { m["executable"] = exe })
		if _, err := loader.Load(path, loader.Options{}); err == nil || !strings.Contains(err.Error(), "bare file name") {
			t.Errorf("executable %q: %v", exe, err)
		}
	}
}

func TestFilesWritableByOthersRefused(t *testing.T) {
	dir := t.TempDir()
	path := copyPluginTo(t, dir)
	_ = os.Chmod(path, 0o666)
	if _, err := loader.Load(path, loader.Options{}); err == nil || !strings.Contains(err.Error(), "writable by other users") {
		t.Fatalf("world-writable manifest: %v", err)
	}
	_ = os.Chmod(path, 0o644)
	m, _ := loader.ReadManifest(path)
	_ = os.Chmod(m.ExecutablePath(), 0o775)
	if _, err := loader.Load(path, loader.Options{}); err == nil || !strings.Contains(err.Error(), "writable by other users") {
		t.Fatalf("group-writable executable: %v", err)
	}
}

// hostHelperEnv makes the test binary act as a host that loads the plugin and waits.
const hostHelperEnv = "LOADER_TEST_HOST_MANIFEST"

func runHostHelper(manifest string) {
	p, err := loader.Load(manifest, loader.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(p.Pid())
	select {}
}

// A plugin does not outlive a host killed with SIGKILL.
func TestPluginExitsWhenHostIsKilled(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), hostHelperEnv+"="+mockManifest)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	pid, perr := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || perr != nil || pid == 0 {
		_ = cmd.Process.Kill()
		t.Fatalf("host helper: %q %v", line, err)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	deadline := time.Now().Add(15 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("plugin %d still running after its host was killed", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// alive reports whether pid runs (a zombie waiting for its reaper does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	if i := strings.LastIndex(s, ")"); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}
