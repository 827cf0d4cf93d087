package host

import (
	"context"
	"errors"
	"fmt"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// AppStore is the persistence of the apps the doors serve, as the host reads them (the doors
// own their admin).
type AppStore interface {
	OIDCClients(ctx context.Context) ([]*store.OIDCClient, error)
	ForwardRules(ctx context.Context) ([]store.ForwardRule, error)
}

var _ AppStore = (*store.Store)(nil)

// Apps are the apps people sign in to: the OpenID Connect applications and the apps
// forward-auth protects.
type Apps struct {
	Clients []*store.OIDCClient
	Rules   []store.ForwardRule
}

// App is an app a person may use, as their profile lists it.
type App struct {
	Name string
	// Protected: an app forward-auth protects, reached at Address (its host and path);
	// otherwise an OpenID Connect application.
	Protected bool
	Address   string
}

// readApps reads every app; the lists read are kept when the other cannot be read.
func readApps(ctx context.Context, st AppStore) (*Apps, error) {
	clients, err1 := st.OIDCClients(ctx)
	rules, err2 := st.ForwardRules(ctx)
	if err := errors.Join(err1, err2); err != nil {
		return &Apps{Clients: clients, Rules: rules}, fmt.Errorf("read the apps: %w", err)
	}
	return &Apps{Clients: clients, Rules: rules}, nil
}

// Name is the name of the OpenID Connect application clientID (its id when it has no name
// or is gone).
func (a *Apps) Name(clientID string) string {
	for _, c := range a.Clients {
		if c.ID == clientID && c.Name != "" {
			return c.Name
		}
	}
	return clientID
}

// Admitting are the apps whose group gate (AppAdmits) admits someone in groups: the
// applications first, then the protected apps, each in the order read.
func (a *Apps) Admitting(groups []string) []App {
	var out []App
	for _, c := range a.Clients {
		if AppAdmits(c.AllowedGroups, groups) {
			out = append(out, App{Name: a.Name(c.ID)})
		}
	}
	for _, r := range a.Rules {
		if !AppAdmits(r.Groups, groups) {
			continue
		}
		name := r.Name
		if name == "" {
			name = r.Host + r.PathPrefix
		}
		out = append(out, App{Name: name, Protected: true, Address: r.Host + r.PathPrefix})
	}
	return out
}

// named are grants, each with its app's name.
func (a *Apps) named(grants []store.Grant) []AppGrant {
	out := make([]AppGrant, 0, len(grants))
	for _, g := range grants {
		out = append(out, AppGrant{Grant: g, App: a.Name(g.ClientID)})
	}
	return out
}
