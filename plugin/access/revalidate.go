package access

import (
	"context"

	"github.com/plexlogin/plexlogin/plugin/plextv"
)

// Revalidation is the answer for an earlier login.
type Revalidation int

// Re-validation answers.
const (
	Unknown Revalidation = iota
	StillAllowed
	Revoked
)

// Revalidate answers from the owner lists (and the user's token, when kept) whether user id
// is still allowed. Failures are Unknown, never Revoked. A kept token plex.tv refuses (401 or
// "Invalid token", not an outage) is reported as refused and the answer comes from the owner
// lists, as without a token.
func (c *Checker) Revalidate(ctx context.Context, id int64, userToken string) (ans Revalidation, reason string, tokenRefused bool) {
	if c.Policy.Mode == ModeAny {
		return StillAllowed, ReasonAnyAccount, false
	}
	o := c.owner(ctx, id)
	if o.ownerIDs[id] {
		return StillAllowed, ReasonOwner, false
	}
	if userToken != "" {
		u := &plextv.User{ID: plextv.Int(id)}
		r := c.Evaluate(ctx, u, userToken)
		switch {
		case r.TokenRefused:
			tokenRefused = true
		case r.Allowed:
			return StillAllowed, r.Reason, false
		case !r.Unavailable && len(o.unknown) == 0:
			return Revoked, r.Reason, false
		default:
			return Unknown, ReasonUnavailable, false
		}
	}
	ans, reason = c.byOwnerLists(o)
	return ans, reason, tokenRefused
}

// byOwnerLists answers a re-validation from what the owner lists say about the user alone.
func (c *Checker) byOwnerLists(o ownerSide) (Revalidation, string) {
	if len(c.Policy.OwnerTokens) == 0 {
		return Unknown, "no_owner_token"
	}
	switch c.Policy.Mode {
	case ModeMembers:
		if c.memberByOwnerList(o) {
			return StillAllowed, ReasonMember
		}
		if o.inHome {
			return StillAllowed, ReasonHomeMember
		}
		if c.Policy.AllowFriends && o.shared != nil {
			return StillAllowed, ReasonFriend
		}
		if len(o.unknown) > 0 || !o.haveShared || !o.haveHome {
			return Unknown, ReasonUnavailable
		}
		return Revoked, ReasonNotMember
	case ModeHome:
		if o.inHome {
			return StillAllowed, ReasonHomeMember
		}
		if len(o.unknown) > 0 || !o.haveHome {
			return Unknown, ReasonUnavailable
		}
		return Revoked, ReasonNotHome
	case ModeOwner:
		if len(o.unknown) > 0 {
			return Unknown, ReasonUnavailable
		}
		return Revoked, ReasonNotOwner
	}
	return Unknown, ""
}
