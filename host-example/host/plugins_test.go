package host_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/shared/loader"
)

// A registry is not ready before its start ends; a start that fails keeps why, says not
// ready, and a waiting page learns the error instead of waiting on.
func TestRegistryReadiness(t *testing.T) {
	reg := host.NewRegistry()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if reg.Ready() || !errors.Is(reg.Wait(ctx), host.ErrNotReady) {
		t.Fatal("ready before its start")
	}
	boom := errors.New("the bootstrap failed")
	if err := reg.Start(context.Background(), "", loader.Options{}, func(context.Context) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("start: %v", err)
	}
	if reg.Ready() || !errors.Is(reg.Err(), boom) || !errors.Is(reg.Wait(context.Background()), boom) {
		t.Fatalf("after a failed start: ready %v, err %v", reg.Ready(), reg.Err())
	}

	empty := t.TempDir()
	reg = host.NewRegistry()
	if err := reg.Start(context.Background(), empty, loader.Options{}, nil); err == nil || !strings.Contains(err.Error(), "no plugin manifest") {
		t.Fatalf("a folder without manifests: %v", err)
	}

	reg = host.NewRegistry()
	if err := reg.Start(context.Background(), "", loader.Options{}, nil); err != nil || !reg.Ready() || len(reg.All()) != 0 {
		t.Fatalf("a host without plugins: %v, ready %v", err, reg.Ready())
	}
}
