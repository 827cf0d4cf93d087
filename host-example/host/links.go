package host

import (
	"context"
	"errors"
	"fmt"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// People who existed before their sources' subjects joined (issue 31 §3) are never merged
// automatically: merging changes one of two subs. The admin sees the pairs and links each by
// hand; the person made first keeps their sub.

// LinkPair is a pair of people the admin may link: one upstream account (a subject its plugin
// declares global) in two sources. Older keeps its sub when linked; Newer is retired.
type LinkPair struct {
	Subject      string
	Older, Newer *store.User
}

// ErrNotLinkable is returned by Link for two people who are not a LinkPair.
var ErrNotLinkable = errors.New("these two are not one account of two sources of a plugin whose subjects are global")

// LinkPairs lists the pairs the admin may link: people of one subject in two sources of one
// plugin that declares its subjects global, both not retired.
func (p *People) LinkPairs(ctx context.Context) ([]LinkPair, error) {
	cs, err := p.store.LinkCandidates(ctx)
	if err != nil {
		return nil, err
	}
	var out []LinkPair
	for _, c := range cs {
		if pl := p.sources.plugins.Get(c.PluginID); pl == nil || !pl.Desc.Has(source.CapGlobalSubject) {
			continue
		}
		older, err := p.store.User(ctx, c.Older)
		if err != nil {
			return nil, fmt.Errorf("person %d: %w", c.Older, err)
		}
		newer, err := p.store.User(ctx, c.Newer)
		if err != nil {
			return nil, fmt.Errorf("person %d: %w", c.Newer, err)
		}
		out = append(out, LinkPair{Subject: c.Subject, Older: older, Newer: newer})
	}
	return out, nil
}

// Link links the pair of people a and b (in either order) into one: the one made first keeps
// their sub, groups of each source and identities; the other is retired (disabled, signed out
// everywhere, their sign-ins now the kept person's). Recorded on both. ErrNotLinkable unless
// they are a LinkPair. It answers the person kept.
func (p *People) Link(ctx context.Context, a, b int64) (*store.User, error) {
	pairs, err := p.LinkPairs(ctx)
	if err != nil {
		return nil, err
	}
	for _, pair := range pairs {
		if (pair.Older.ID != a || pair.Newer.ID != b) && (pair.Older.ID != b || pair.Newer.ID != a) {
			continue
		}
		keep, retire := pair.Older, pair.Newer
		if err := p.store.LinkPeople(ctx, keep.ID, retire.ID); errors.Is(err, store.ErrNotLinkable) {
			return nil, ErrNotLinkable
		} else if err != nil {
			return nil, fmt.Errorf("link %d into %d: %w", retire.ID, keep.ID, err)
		}
		p.adminEvent(ctx, keep, store.EventAdminUserChanged, fmt.Sprintf("linked by the admin with %s (person %d, retired): one person, this one's sub kept",
			NameOf(retire.Username, retire.Name), retire.ID))
		p.adminEvent(ctx, retire, store.EventAdminUserChanged, fmt.Sprintf("linked by the admin into %s (person %d): retired, signs in as that person",
			NameOf(keep.Username, keep.Name), keep.ID))
		return keep, nil
	}
	return nil, ErrNotLinkable
}

// Identities are the person's identities of sources other than their first (one account in
// several sources of a plugin whose subjects are global).
func (p *People) Identities(ctx context.Context, userID int64) ([]store.Identity, error) {
	ids, err := p.store.Identities(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("identities of person %d: %w", userID, err)
	}
	return ids, nil
}
