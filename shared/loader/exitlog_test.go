package loader_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/plexlogin/plexlogin/shared/loader"
)

// lockedBuffer is a log output read while the plugin's goroutines write to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A plugin stopped by SIGTERM (a service manager stopping the host's whole cgroup or process
// group) logs its exit at info; one killed otherwise still logs an error.
func TestSignalledExitIsAStopNotAnError(t *testing.T) {
	for _, c := range []struct {
		sig   syscall.Signal
		level string
	}{{syscall.SIGTERM, "info"}, {syscall.SIGKILL, "error"}} {
		var out lockedBuffer
		p := start(t, loader.Options{Logger: hclog.New(&hclog.LoggerOptions{Output: &out, JSONFormat: true, Level: hclog.Info})})
		pid := p.Pid()
		if err := syscall.Kill(pid, c.sig); err != nil {
			t.Fatal(err)
		}
		var line map[string]any
		for deadline := time.Now().Add(time.Minute); line == nil; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%v: no exit logged:\n%s", c.sig, out.String())
			}
			for _, l := range strings.Split(out.String(), "\n") {
				var m map[string]any
				if json.Unmarshal([]byte(l), &m) == nil && m["@message"] == "plugin process exited" {
					line = m
				}
			}
		}
		if line["@level"] != c.level {
			t.Errorf("%v: the exit is logged at %v, want %s: %v", c.sig, line["@level"], c.level, line)
		}
		if err := p.Ping(context.Background()); err != nil { // and the plugin is started again
			t.Fatalf("%v: ping after the exit: %v", c.sig, err)
		}
	}
}
