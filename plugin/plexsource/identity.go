package plexsource

import (
	"encoding/json"
	"sort"
	"strconv"

	"github.com/plexlogin/plexlogin/plugin/access"
	"github.com/plexlogin/plexlogin/plugin/plextv"
	"github.com/plexlogin/plexlogin/shared/source"
)

// Group names derived from the Plex relationship.
const (
	GroupOwner   = "plex-owner"
	GroupHome    = "plex-home"
	GroupFriend  = "plex-friend"
	GroupManaged = "plex-managed"
	// GroupServerPrefix precedes a server's name.
	GroupServerPrefix = "plex-server:"
)

// buildIdentity turns a Plex account and its access facts into the contract's identity.
func buildIdentity(u *plextv.User, res access.Result, cfg Config, token string) source.Identity {
	f := res.Facts
	username := string(u.Username)
	if username == "" {
		username = u.DisplayName() // managed profiles have no username
	}
	var groups []string
	switch {
	case f.IsOwner:
		groups = append(groups, GroupOwner)
	case f.IsHomeMember:
		groups = append(groups, GroupHome)
	case f.IsFriend || len(f.Servers) > 0:
		groups = append(groups, GroupFriend)
	}
	if f.IsManaged {
		groups = append(groups, GroupManaged)
	}
	for _, s := range f.Servers {
		if !s.Pending {
			groups = append(groups, GroupServerPrefix+s.Name)
		}
	}
	sort.Strings(groups[min(1, len(groups)):])
	attrs, _ := json.Marshal(map[string]any{
		"uuid": string(u.UUID), "plex_pass": u.PlexPass(), "two_factor": bool(u.TwoFactorEnabled), "locale": string(u.Locale),
		"is_owner": f.IsOwner, "is_home_member": f.IsHomeMember, "is_managed": f.IsManaged, "is_friend": f.IsFriend,
		"servers": f.Servers,
	})
	raw, _ := json.Marshal(u.Raw)
	st := revalidationState{ID: int64(u.ID)}
	if cfg.KeepUserToken {
		st.Token = token
	}
	rv, _ := json.Marshal(st)
	return source.Identity{
		Subject:           strconv.FormatInt(int64(u.ID), 10),
		PreferredUsername: username,
		Email:             string(u.Email),
		EmailVerified:     bool(u.Confirmed) && u.Email != "",
		Name:              u.DisplayName(),
		Picture:           string(u.Thumb),
		Groups:            groups,
		Attributes:        attrs,
		Raw:               raw,
		Decision:          source.Decision{Allowed: true, ReasonCode: res.Reason, UserText: res.UserText, AdminDetail: res.AdminDetail},
		RevalidationState: rv,
	}
}

// Icon is the Plex chevron as a data URL.
const Icon = "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCA2NCA2NCI+PHJlY3Qgd2lkdGg9IjY0IiBoZWlnaHQ9IjY0IiByeD0iMTIiIGZpbGw9IiMxZjFmMWYiLz48cGF0aCBkPSJNMjIgMTJoMTRsMTYgMjAtMTYgMjBIMjJsMTYtMjB6IiBmaWxsPSIjZTVhMDBkIi8+PC9zdmc+"
