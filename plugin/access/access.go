// Package access decides who may log in with Plex: the modes, each rule isolated,
// and a reason for every decision. The primary test uses the user's own token; the
// owner's lists are cached enrichment whose failure only makes its own rule unknown.
package access

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/plexlogin/plexlogin/plugin/plextv"
)

// Mode is who may log in.
type Mode string

// Access modes.
const (
	ModeAny     Mode = "any"
	ModeMembers Mode = "members"
	ModeHome    Mode = "home"
	ModeOwner   Mode = "owner"
)

// Modes lists the modes with their labels, in display order.
var Modes = []struct {
	Mode  Mode
	Title string
}{
	{ModeMembers, "Members of the allowed servers (owner, Plex Home, friends with a share)"},
	{ModeHome, "Plex Home only (owner and Home members)"},
	{ModeOwner, "Owner only"},
	{ModeAny, "Any Plex account"},
}

// Reason codes of decisions.
const (
	ReasonAnyAccount     = "any_plex_account"
	ReasonOwner          = "owner"
	ReasonMember         = "member_of_allowed_server"
	ReasonMemberCached   = "member_of_allowed_server_cached"
	ReasonHomeMember     = "home_member"
	ReasonFriend         = "friend_of_owner"
	ReasonSharePending   = "share_pending"
	ReasonNotMember      = "not_a_member"
	ReasonNotHome        = "not_home_member"
	ReasonNotOwner       = "not_owner"
	ReasonUnavailable    = "plex_unavailable"
	ReasonDeniedByPolicy = "denied"
)

// Server is an allowed server.
type Server struct {
	MachineID string
	Name      string
}

// Policy is an access configuration.
type Policy struct {
	Mode    Mode
	Servers []Server
	// AllowFriends also admits friends of an owner who have no share.
	AllowFriends bool
	// OwnerTokens are the owner accounts' tokens (the first is the main one).
	OwnerTokens []string
	// OwnerIDs are the accounts of OwnerTokens, in order, when known (resolved with the
	// config); otherwise each token's account is asked (and cached).
	OwnerIDs []int64
	// MemberFreshness lets a warm owner-side list younger than this stand in for the
	// user's resources call; 0 always calls resources.
	MemberFreshness time.Duration
}

// Upstream is what the policy asks plex.tv.
type Upstream interface {
	Resources(ctx context.Context, token string) ([]plextv.Resource, error)
	SharedUsers(ctx context.Context, ownerToken string) ([]plextv.SharedUser, error)
	HomeUsers(ctx context.Context, token string) ([]plextv.HomeUser, error)
	User(ctx context.Context, token string) (*plextv.User, error)
}

// ServerFact is what is known of one allowed server for a user.
type ServerFact struct {
	MachineID string `json:"machine_id"`
	Name      string `json:"name"`
	Owned     bool   `json:"owned"`
	Home      bool   `json:"home"`
	Product   string `json:"product"`
	Pending   bool   `json:"pending"`
}

// Facts are what the policy learned about the user (also the mapping input).
type Facts struct {
	IsOwner      bool         `json:"is_owner"`
	IsHomeMember bool         `json:"is_home_member"`
	IsManaged    bool         `json:"is_managed"`
	IsFriend     bool         `json:"is_friend"`
	Servers      []ServerFact `json:"servers"`
}

// Result is a decision with its facts.
type Result struct {
	Allowed     bool
	Reason      string
	UserText    string
	AdminDetail string
	Facts       Facts
	// Unavailable is set when plex.tv could not be asked and nothing else admitted the user:
	// the caller reports "try again", never "denied".
	Unavailable bool
	// RateLimited is set with Unavailable when plex.tv answered "too many requests".
	RateLimited bool
	// TokenRefused is set when plex.tv refused the user's token itself (401, or 422 "Invalid
	// token"): an answer about the token, not an outage.
	TokenRefused bool
	// OwnerTokenExpired is set when plex.tv answered 498 (expired) to an owner token: an
	// owner list could not be read until the owner tokens are renewed.
	OwnerTokenExpired bool
}

// Checker evaluates a Policy against plex.tv with an owner-side cache.
type Checker struct {
	Policy   Policy
	Upstream Upstream
	Cache    *Cache
}

// ownerSide is what the owner lists say about one user.
type ownerSide struct {
	ownerIDs   map[int64]bool
	shared     *plextv.SharedUser // entry in some owner's /api/users
	sharedAge  time.Duration
	inHome     bool
	unknown    []string // lists that could not be read
	expired    bool     // an owner token was answered 498 (expired)
	stale      []string
	haveShared bool // at least one users list was read
	haveHome   bool
}

func (c *Checker) allowed(mid string) (Server, bool) {
	for _, s := range c.Policy.Servers {
		if strings.EqualFold(s.MachineID, mid) {
			return s, true
		}
	}
	return Server{}, false
}

func redactErr(err error) string {
	var pe *plextv.Error
	if errors.As(err, &pe) {
		return pe.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return "timed out"
	}
	return "error"
}

// owner reads the owner lists (cached) for user id.
func (c *Checker) owner(ctx context.Context, id int64) ownerSide {
	o := ownerSide{ownerIDs: map[int64]bool{}}
	unknown := func(what string, err error) {
		o.unknown = append(o.unknown, what+" ("+redactErr(err)+")")
		o.expired = o.expired || errors.Is(err, plextv.ErrTokenExpired)
	}
	for i, tok := range c.Policy.OwnerTokens {
		label := "owner"
		if i > 0 {
			label = fmt.Sprintf("owner %d", i+1)
		}
		if len(c.Policy.OwnerIDs) == len(c.Policy.OwnerTokens) && c.Policy.OwnerIDs[i] != 0 {
			o.ownerIDs[c.Policy.OwnerIDs[i]] = true
		} else if acct, err := c.Cache.Get(ctx, tok, "account", func(ctx context.Context) (any, error) { return c.Upstream.User(ctx, tok) }); err != nil {
			unknown(label+" account", err)
		} else {
			o.ownerIDs[int64(acct.Value.(*plextv.User).ID)] = true
		}
		users, err := c.Cache.Get(ctx, tok, "users", func(ctx context.Context) (any, error) { return c.Upstream.SharedUsers(ctx, tok) })
		if err != nil {
			unknown(label+" share list", err)
		} else {
			o.haveShared = true
			if users.StaleErr != nil {
				o.stale = append(o.stale, label+" share list")
			}
			for _, u := range users.Value.([]plextv.SharedUser) {
				if int64(u.ID) == id {
					u := u
					o.shared, o.sharedAge = &u, users.Age
				}
			}
		}
		home, err := c.Cache.Get(ctx, tok, "home", func(ctx context.Context) (any, error) { return c.Upstream.HomeUsers(ctx, tok) })
		if err != nil {
			unknown(label+" Home list", err)
		} else {
			o.haveHome = true
			if home.StaleErr != nil {
				o.stale = append(o.stale, label+" Home list")
			}
			for _, h := range home.Value.([]plextv.HomeUser) {
				if int64(h.ID) == id && !bool(h.Admin) {
					o.inHome = true
				}
			}
		}
	}
	return o
}

// OwnerTokenExpired reports whether plex.tv answers 498 (expired) to an owner token's lists.
func (c *Checker) OwnerTokenExpired(ctx context.Context) bool {
	return c.owner(ctx, 0).expired
}

// Warm fetches the owner lists into the cache (a no-op while they are fresh), so that no
// login pays for them.
func (c *Checker) Warm(ctx context.Context) {
	c.owner(ctx, 0)
}

// memberByOwnerList reports whether the owner list shows an accepted share on an allowed server.
func (c *Checker) memberByOwnerList(o ownerSide) bool {
	if o.shared == nil {
		return false
	}
	for _, s := range o.shared.Servers {
		if _, ok := c.allowed(string(s.MachineIdentifier)); ok && !bool(s.Pending) {
			return true
		}
	}
	return false
}

// Evaluate decides for a user who logged in with token.
func (c *Checker) Evaluate(ctx context.Context, user *plextv.User, token string) Result {
	id := int64(user.ID)
	o := c.owner(ctx, id)
	r := Result{OwnerTokenExpired: o.expired}
	r.Facts.IsManaged = bool(user.Restricted) && user.Username == "" && user.Email == ""
	r.Facts.IsOwner = o.ownerIDs[id]
	r.Facts.IsHomeMember = o.inHome
	r.Facts.IsFriend = o.shared != nil
	facts := map[string]*ServerFact{}
	fact := func(mid, name string) *ServerFact {
		mid = strings.ToLower(mid)
		if f := facts[mid]; f != nil {
			return f
		}
		s, _ := c.allowed(mid)
		if s.Name != "" {
			name = s.Name
		}
		f := &ServerFact{MachineID: s.MachineID, Name: name}
		facts[mid] = f
		return f
	}
	if o.shared != nil {
		for _, s := range o.shared.Servers {
			if _, ok := c.allowed(string(s.MachineIdentifier)); ok {
				f := fact(string(s.MachineIdentifier), string(s.Name))
				f.Pending = bool(s.Pending)
			}
		}
	}

	var resErr error
	skip := c.Policy.MemberFreshness > 0 && c.Policy.Mode == ModeMembers && c.memberByOwnerList(o) && o.sharedAge < c.Policy.MemberFreshness
	resourcesSeen := 0
	seenInResources := map[string]bool{}
	if !skip {
		rs, err := c.Upstream.Resources(ctx, token)
		resErr = err
		for _, res := range rs {
			if !res.IsServer() {
				continue // players are owned too and never count
			}
			resourcesSeen++
			if _, ok := c.allowed(string(res.ClientIdentifier)); !ok {
				continue
			}
			seenInResources[strings.ToLower(string(res.ClientIdentifier))] = true
			f := fact(string(res.ClientIdentifier), string(res.Name))
			f.Owned, f.Home, f.Product, f.Pending = bool(res.Owned), bool(res.Home), string(res.Product), false
			if f.Owned {
				r.Facts.IsOwner = true
			}
			if f.Home && !f.Owned {
				r.Facts.IsHomeMember = true
			}
		}
	}
	resourcesOK := !skip && resErr == nil
	r.TokenRefused = plextv.IsRevokedToken(resErr)
	for mid, f := range facts {
		// When the user's own resources answered, they are the truth about accepted shares;
		// the owner list only adds pending invitations.
		if resourcesOK && !f.Pending && !seenInResources[mid] {
			continue
		}
		r.Facts.Servers = append(r.Facts.Servers, *f)
	}
	sort.Slice(r.Facts.Servers, func(i, j int) bool { return r.Facts.Servers[i].Name < r.Facts.Servers[j].Name })

	member := false
	for _, f := range r.Facts.Servers {
		if !f.Pending {
			member = true
			// A share of someone else's server makes a friend, whatever the owner lists say.
			if !f.Owned && !f.Home && !r.Facts.IsOwner && !r.Facts.IsHomeMember {
				r.Facts.IsFriend = true
			}
		}
	}
	pending := false
	for _, f := range r.Facts.Servers {
		if f.Pending {
			pending = true
		}
	}

	detail := c.detail(r.Facts, o, resErr, skip, resourcesSeen)
	r.AdminDetail = detail
	admit := func(reason, text string) Result {
		r.Allowed, r.Reason, r.UserText = true, reason, text
		return r
	}
	deny := func(reason, text string) Result {
		if resErr != nil {
			// The primary test could not run: say "try again", not "denied".
			r.Unavailable, r.Reason, r.UserText = true, ReasonUnavailable, "Plex could not be reached to check your access. Please try again in a moment."
			if errors.Is(resErr, plextv.ErrRateLimited) {
				r.RateLimited, r.UserText = true, "Plex is busy right now. Please wait a minute and try again."
			}
			return r
		}
		r.Allowed, r.Reason, r.UserText = false, reason, text
		return r
	}

	switch c.Policy.Mode {
	case ModeAny:
		return admit(ReasonAnyAccount, "Welcome.")
	case ModeOwner:
		if r.Facts.IsOwner {
			return admit(ReasonOwner, "Welcome back.")
		}
		return deny(ReasonNotOwner, "Only the owner of this Plex server can log in here.")
	case ModeHome:
		if r.Facts.IsOwner {
			return admit(ReasonOwner, "Welcome back.")
		}
		if r.Facts.IsHomeMember {
			return admit(ReasonHomeMember, "Welcome home.")
		}
		return deny(ReasonNotHome, "Only members of this Plex Home can log in here.")
	default: // ModeMembers
		if r.Facts.IsOwner {
			return admit(ReasonOwner, "Welcome back.")
		}
		if r.Facts.IsHomeMember {
			return admit(ReasonHomeMember, "Welcome home.")
		}
		if member && skip {
			return admit(ReasonMemberCached, "Welcome.")
		}
		if member {
			return admit(ReasonMember, "Welcome.")
		}
		if c.Policy.AllowFriends && r.Facts.IsFriend {
			return admit(ReasonFriend, "Welcome, friend.")
		}
		if pending {
			return deny(ReasonSharePending, "Your invitation to this Plex server has not been accepted yet. Accept it in Plex (Settings → Manage → Friends), then log in again.")
		}
		return deny(ReasonNotMember, "Your Plex account does not have access to this server. Ask the server owner to share it with you.")
	}
}

func (c *Checker) detail(f Facts, o ownerSide, resErr error, skipped bool, seen int) string {
	var parts []string
	parts = append(parts, "mode="+string(c.Policy.Mode))
	var names []string
	for _, s := range f.Servers {
		flags := []string{}
		if s.Owned {
			flags = append(flags, "owned")
		}
		if s.Home {
			flags = append(flags, "home")
		}
		if s.Pending {
			flags = append(flags, "share pending")
		}
		n := s.Name + " (" + s.MachineID + ")"
		if len(flags) > 0 {
			n += " [" + strings.Join(flags, ", ") + "]"
		}
		names = append(names, n)
	}
	if len(names) == 0 {
		parts = append(parts, "allowed servers seen: none")
	} else {
		parts = append(parts, "allowed servers seen: "+strings.Join(names, "; "))
	}
	switch {
	case skipped:
		parts = append(parts, "resources: skipped (owner share list is fresh and shows a share)")
	case resErr != nil:
		parts = append(parts, "resources: unavailable ("+redactErr(resErr)+")")
	default:
		parts = append(parts, fmt.Sprintf("resources: %d servers visible to the user", seen))
	}
	if f.IsOwner {
		parts = append(parts, "owner: yes")
	}
	if f.IsHomeMember {
		parts = append(parts, "home member: yes")
	}
	if f.IsFriend {
		parts = append(parts, "in owner share list: yes")
	} else if o.haveShared {
		parts = append(parts, "in owner share list: no")
	}
	if len(c.Policy.OwnerTokens) == 0 {
		parts = append(parts, "owner lists: no owner token configured")
	}
	if len(o.unknown) > 0 {
		parts = append(parts, "unknown: "+strings.Join(o.unknown, "; "))
	}
	if len(o.stale) > 0 {
		parts = append(parts, "stale: "+strings.Join(o.stale, "; "))
	}
	return strings.Join(parts, " | ")
}
