package host

import (
	"context"
	"errors"
	"fmt"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// What the admin's pages and the person's own profile read of people: the list, one
// person with where they are signed in, what deleting them ends, and the apps they may use.

// AppGrant is an app's grant (OpenID Connect) with the app's name.
type AppGrant struct {
	store.Grant
	App string
}

// Person is a person as the admin's page of them shows them: their newest events and where
// they are signed in.
type Person struct {
	User     *store.User
	Events   []store.Event
	Sessions []store.UserSession
	Grants   []AppGrant
}

// Reach is what deleting a person ends: their sessions on this site and on protected apps,
// their apps' grants and the credentials kept for them.
type Reach struct {
	User                      *store.User
	SiteSessions, AppSessions int
	Grants                    int
	// Credentials are the kinds of the credentials kept for them, one per credential.
	Credentials []string
}

// Profile is what a person's own profile shows besides them: their source (nil when it
// cannot be read), the apps that admit them and where they are signed in.
type Profile struct {
	Source   *store.Source
	Apps     []App
	Sessions []store.UserSession
	Grants   []AppGrant
}

// Search lists the people whose name, username, email or id matches q (everyone for "").
func (p *People) Search(ctx context.Context, q string) ([]*store.User, error) {
	users, err := p.store.SearchUsers(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("search people for %q: %w", q, err)
	}
	return users, nil
}

// Person is the person of id with their newest events (n at most), live sessions and app
// grants (store.ErrNotFound when there is none).
func (p *People) Person(ctx context.Context, id int64, events int) (*Person, error) {
	u, err := p.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	evs, err1 := p.events.OfPerson(ctx, u, events)
	sessions, err2 := p.store.UserSessions(ctx, u.ID)
	grants, err3 := p.store.UserGrants(ctx, u.ID)
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, fmt.Errorf("person %d: %w", id, err)
	}
	apps := &Apps{}
	if len(grants) > 0 {
		apps, _ = readApps(ctx, p.store) // an app's name not read is its client id
	}
	return &Person{User: u, Events: evs, Sessions: sessions, Grants: apps.named(grants)}, nil
}

// Reach is what deleting the person of id ends (store.ErrNotFound when there is none).
func (p *People) Reach(ctx context.Context, id int64) (*Reach, error) {
	u, err := p.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	sessions, err1 := p.store.UserSessions(ctx, u.ID)
	grants, err2 := p.store.UserGrants(ctx, u.ID)
	creds, err3 := p.store.UserCredentials(ctx, u.ID)
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, fmt.Errorf("what deleting person %d ends: %w", id, err)
	}
	out := &Reach{User: u, Grants: len(grants)}
	for _, c := range creds {
		out.Credentials = append(out.Credentials, c.Kind)
	}
	for _, s := range sessions {
		if s.Kind == store.HostSession {
			out.SiteSessions++
		} else {
			out.AppSessions++
		}
	}
	return out, nil
}

// Profile is what u's own profile shows: their source, the apps whose group gate admits
// them, their live sessions and their app grants.
func (p *People) Profile(ctx context.Context, u *store.User) (*Profile, error) {
	src, _ := p.sources.Get(ctx, u.SourceID) // the page shows without it
	apps, err := readApps(ctx, p.store)
	if err != nil {
		return nil, fmt.Errorf("profile of person %d: %w", u.ID, err)
	}
	sessions, err := p.store.UserSessions(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("sessions of person %d: %w", u.ID, err)
	}
	grants, err := p.store.UserGrants(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("grants of person %d: %w", u.ID, err)
	}
	return &Profile{Source: src, Apps: apps.Admitting(u.Groups), Sessions: sessions, Grants: apps.named(grants)}, nil
}

// Apps are every app (the lists read are kept when the other cannot be read).
func (p *People) Apps(ctx context.Context) (*Apps, error) { return readApps(ctx, p.store) }
