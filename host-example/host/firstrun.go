package host

import (
	"context"
	"errors"
	"fmt"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// metaFirstRunDone records that the admin finished (or put away) the first-run guide.
const metaFirstRunDone = "first_run_done"

// Steps of the first-run guide, in order. The first (the admin password) is done by the setup
// link before the guide can be opened.
const (
	// StepSource: add a source and save settings it accepts.
	StepSource = 2
	// StepEnable: turn the source on.
	StepEnable = 3
	// StepApp: protect a first app (or add an OpenID Connect application).
	StepApp = 4
	// StepSummary: what to do next.
	StepSummary = 5
)

// FirstRun is the first-run guide: where the admin is of the steps that make a new host
// useful, read from what exists (so the guide can be left and resumed anywhere). Every step
// is done by the admin pages' own actions; the guide only reads.
type FirstRun struct {
	st      firstRunStore
	sources *Sources
}

// firstRunStore is what the guide reads and its one mark.
type firstRunStore interface {
	Sources(ctx context.Context) ([]*store.Source, error)
	ForwardRules(ctx context.Context) ([]store.ForwardRule, error)
	OIDCClients(ctx context.Context) ([]*store.OIDCClient, error)
	Meta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
}

// NewFirstRun returns the first-run guide over st.
func NewFirstRun(st firstRunStore, srcs *Sources) *FirstRun { return &FirstRun{st: st, sources: srcs} }

// FirstRunProgress is what the guide shows: each step's state.
type FirstRunProgress struct {
	// Source is the first source added (nil: none yet); Plugin its plugin (nil: not loaded).
	Source *store.Source
	Plugin *Plugin
	// Configured: the source has settings its plugin accepted.
	Configured bool
	// Rule is the first protected app (nil: none); Clients counts the OpenID Connect apps.
	Rule    *store.ForwardRule
	Clients int
	// Done: the admin finished the guide.
	Done bool
}

// Step is the first step not done yet (StepSummary when all are).
func (p FirstRunProgress) Step() int {
	switch {
	case p.Source == nil || !p.Configured:
		return StepSource
	case !p.Source.Enabled:
		return StepEnable
	case p.Rule == nil && p.Clients == 0:
		return StepApp
	}
	return StepSummary
}

// Progress reads where the admin is.
func (f *FirstRun) Progress(ctx context.Context) (FirstRunProgress, error) {
	var p FirstRunProgress
	srcs, err := f.st.Sources(ctx)
	if err != nil {
		return p, fmt.Errorf("first-run guide: sources: %w", err)
	}
	if len(srcs) > 0 {
		p.Source = srcs[0]
		for _, s := range srcs { // the one the admin got furthest with
			if s.Config != nil && (!p.Configured || s.Enabled && !p.Source.Enabled) {
				p.Source, p.Configured = s, true
			}
		}
		p.Plugin = f.sources.plugins.Get(p.Source.PluginID)
	}
	rules, err := f.st.ForwardRules(ctx)
	if err != nil {
		return p, fmt.Errorf("first-run guide: protected apps: %w", err)
	}
	if len(rules) > 0 {
		p.Rule = &rules[0]
	}
	clients, err := f.st.OIDCClients(ctx)
	if err != nil {
		return p, fmt.Errorf("first-run guide: applications: %w", err)
	}
	p.Clients = len(clients)
	done, err := f.st.Meta(ctx, metaFirstRunDone)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return p, fmt.Errorf("first-run guide: %w", err)
	}
	p.Done = done != ""
	return p, nil
}

// Offered is true while the admin home should offer the guide: not finished, and a step
// left (a host set up before the guide existed has none left).
func (p FirstRunProgress) Offered() bool { return !p.Done && p.Step() < StepSummary }

// Finish marks the guide done: the admin home stops offering it (it stays at its address).
func (f *FirstRun) Finish(ctx context.Context) error {
	if err := f.st.SetMeta(ctx, metaFirstRunDone, "1"); err != nil {
		return fmt.Errorf("finish the first-run guide: %w", err)
	}
	return nil
}
