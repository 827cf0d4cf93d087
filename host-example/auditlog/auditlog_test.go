package auditlog

import (
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/plexlogin/plexlogin/shared/loader/loadertest"
)

// A flood of one kind is cut to its rate and says how much was left out; other kinds still pass.
func TestFloodIsLimitedPerKind(t *testing.T) {
	buf := &loadertest.LogBuffer{}
	a := New(hclog.New(&hclog.LoggerOptions{Output: buf, JSONFormat: true}), 60)
	for i := 0; i < 1000; i++ {
		a.Info("forward_denied", "forward-auth denied", "host", "app.example.test")
	}
	a.Info("admin", "admin action", "what", "rule saved")
	out := buf.String()
	if n := strings.Count(out, `"kind":"forward_denied"`); n == 0 || n > 20 {
		t.Fatalf("%d denial lines written for 1000, want at most the burst", n)
	}
	if !strings.Contains(out, `"kind":"admin"`) {
		t.Fatal("another kind was silenced by the flood")
	}
	a.buckets = New(nil, 6000).buckets // refilled: the next line says what was left out
	a.Info("forward_denied", "forward-auth denied")
	if !strings.Contains(buf.String(), `"left_out_before"`) {
		t.Fatal("the next line does not say how many were left out")
	}
}
