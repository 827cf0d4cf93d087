package replicatest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/plexlogin/plexlogin/shared/loader/loadertest"
)

// bins are the programs TestMain built for this test binary.
var bins struct {
	host      string // the host-example executable
	pluginDir string // the folder holding the Plex plugin and its signed manifest
}

// TestMain builds the host-example binary and the Plex plugin once, into a temporary folder
// removed after the tests.
func TestMain(m *testing.M) { loadertest.Main(m, build) }

// build compiles host-example (as scripts/build does: -trimpath) and the plugin in parallel.
func build(dir string) error {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return fmt.Errorf("module root %s: %w", root, err)
	}
	bins.host, bins.pluginDir = filepath.Join(dir, "host-example"), filepath.Join(dir, "plugin")
	var wg sync.WaitGroup
	var hostErr, pluginErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		cmd := exec.Command("go", "build", "-trimpath", "-o", bins.host, "github.com/plexlogin/plexlogin/host-example")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			hostErr = fmt.Errorf("go build host-example: %w\n%s", err, out)
		}
	}()
	go func() {
		defer wg.Done()
		_, pluginErr = loadertest.BuildFromFile(bins.pluginDir, "github.com/plexlogin/plexlogin/plugin", filepath.Join(root, "plugin.json"))
	}()
	wg.Wait()
	return errors.Join(hostErr, pluginErr)
}
