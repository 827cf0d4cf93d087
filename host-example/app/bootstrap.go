package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/plexlogin/plexlogin/host-example/host"
)

// BootstrapSource is one source a bootstrap file creates at first start.
type BootstrapSource struct {
	Plugin  string          `json:"plugin"`
	Slug    string          `json:"slug"`
	Name    string          `json:"name"`
	Enabled bool            `json:"enabled"`
	Config  json.RawMessage `json:"config"`
}

// ReadBootstrap reads a bootstrap file strictly: an unknown key is an error that names it.
func ReadBootstrap(path string) ([]BootstrapSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	var list []BootstrapSource
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i, bs := range list {
		if bs.Plugin == "" || bs.Slug == "" || bs.Name == "" {
			return nil, fmt.Errorf("%s: source %d needs plugin, slug and name", path, i+1)
		}
	}
	return list, nil
}

// applyBootstrap creates the sources unless a source with the slug exists. Replicas
// starting together on a new database race here: the slug is unique, so one creates each
// source and the others, refused, find it made. A source this replica made whose settings
// the plugin refuses is an error, as on one replica.
func (a *App) applyBootstrap(ctx context.Context, list []BootstrapSource) error {
	for _, bs := range list {
		if _, err := a.Store.SourceBySlug(ctx, bs.Slug); err == nil {
			continue
		}
		if _, err := a.Sources.Configure(ctx, host.Setup{Plugin: bs.Plugin, Slug: bs.Slug, Name: bs.Name, Config: bs.Config,
			Enabled: bs.Enabled}); err != nil {
			if errors.Is(err, host.ErrSlugTaken) {
				continue // another replica made it meanwhile
			}
			return fmt.Errorf("bootstrap: %w", err)
		}
	}
	return nil
}
