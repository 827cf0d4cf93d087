// Package host is host-example's application layer: the plugin registry, the sources people
// log in with, the login engine, the browser sessions and the background jobs. It knows no
// HTTP beyond the session cookie (Sessions); the web package translates its outcomes into pages.
package host

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/plexlogin/plexlogin/host-example/settings"
	"github.com/plexlogin/plexlogin/shared/loader"
	"github.com/plexlogin/plexlogin/shared/source"
)

// Plugin is a loaded plugin with what it described.
type Plugin struct {
	Manifest *loader.Manifest
	// Process is the running plugin process, called over gRPC.
	Process *loader.Plugin
	Desc    source.Descriptor
	Schema  *settings.Schema
}

// ErrNotReady is returned while the plugin processes are still starting.
var ErrNotReady = errors.New("the login methods are still starting")

// Registry holds the loaded plugins. It is usable at once; the plugins arrive when Start
// has started them all (Ready), so the host can answer while plugin processes start.
type Registry struct {
	ready chan struct{}
	once  sync.Once

	mu      sync.RWMutex
	plugins map[string]*Plugin
	err     error
}

// NewRegistry returns an empty registry that is not ready yet.
func NewRegistry() *Registry {
	return &Registry{ready: make(chan struct{}), plugins: map[string]*Plugin{}}
}

// ManifestPaths are the manifests in dir: dir/plugin.json and dir/*/plugin.json.
func ManifestPaths(dir string) []string {
	direct, _ := filepath.Glob(filepath.Join(dir, "plugin.json"))
	nested, _ := filepath.Glob(filepath.Join(dir, "*", "plugin.json"))
	return append(direct, nested...)
}

// Start starts every plugin whose manifest is in dir ("": none, a host that only answers
// its doors), asks each to describe itself and reads its settings schema; then runs then
// (such as creating the sources of a bootstrap file), and the registry is ready. A failure
// stops the start: the error is kept (Err) and the plugins started so far are stopped.
func (r *Registry) Start(ctx context.Context, dir string, opts loader.Options, then func(context.Context) error) error {
	var out []*Plugin
	fail := func(err error) error {
		for _, p := range out {
			p.Process.Close()
		}
		r.mu.Lock()
		clear(r.plugins) // none of them runs any more
		r.mu.Unlock()
		r.finish(err)
		return err
	}
	if dir != "" {
		for _, path := range ManifestPaths(dir) {
			p, err := loader.Load(path, opts)
			if err != nil {
				return fail(err)
			}
			pl := &Plugin{Manifest: p.Manifest, Process: p}
			out = append(out, pl) // stopped by fail from here on
			if pl.Desc, err = p.Describe(ctx); err != nil {
				return fail(fmt.Errorf("plugin %s: describe: %w", pl.Manifest.ID, err))
			}
			if pl.Schema, err = settings.ParseSchema(pl.Desc.ConfigSchema); err != nil {
				return fail(fmt.Errorf("plugin %s: %w", pl.Manifest.ID, err))
			}
		}
		if len(out) == 0 {
			return fail(errors.New("no plugin manifest (plugin.json) found in " + dir))
		}
	}
	r.mu.Lock()
	for _, p := range out {
		r.plugins[p.Manifest.ID] = p
	}
	r.mu.Unlock()
	if then != nil {
		if err := then(ctx); err != nil {
			return fail(err)
		}
	}
	r.finish(nil)
	return nil
}

// finish makes the registry ready, or failed with err.
func (r *Registry) finish(err error) {
	r.once.Do(func() {
		r.mu.Lock()
		r.err = err
		r.mu.Unlock()
		close(r.ready)
	})
}

// Ready reports whether every plugin has started (false after a failed load too).
func (r *Registry) Ready() bool {
	select {
	case <-r.ready:
		return r.Err() == nil
	default:
		return false
	}
}

// Err is why the load failed, or nil.
func (r *Registry) Err() error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.err
}

// Wait blocks until the registry is ready or ctx ends; it returns ErrNotReady when ctx
// ended first, or the load's error.
func (r *Registry) Wait(ctx context.Context) error {
	select {
	case <-r.ready:
		return r.Err()
	case <-ctx.Done():
		return ErrNotReady
	}
}

// Done is closed when the load has finished, well or not.
func (r *Registry) Done() <-chan struct{} { return r.ready }

// Get returns a loaded plugin by id, or nil.
func (r *Registry) Get(id string) *Plugin {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.plugins[id]
}

// All returns the loaded plugins by id.
func (r *Registry) All() map[string]*Plugin {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make(map[string]*Plugin, len(r.plugins))
	for id, p := range r.plugins {
		out[id] = p
	}
	return out
}

// IDs returns the loaded plugins' ids, sorted.
func (r *Registry) IDs() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.plugins))
	for id := range r.plugins {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Close stops every plugin process.
func (r *Registry) Close() {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, p := range r.plugins {
		p.Process.Close()
	}
}

// logger is l, or a logger that drops everything.
func logger(l hclog.Logger) hclog.Logger {
	if l == nil {
		return hclog.NewNullLogger()
	}
	return l
}
