package source

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Renewer is implemented by a source whose config can hold credentials that expire
// (capability CapRenew, contract 1.4). Optional: a host treats ErrUnimplemented as "nothing
// to renew".
type Renewer interface {
	// RenewSourceCredentials renews what in inst.Config expires soon and says when to call
	// again; a credential that could not be renewed is reported in its ExpiringCredential,
	// and an error is returned only when nothing could be looked at.
	RenewSourceCredentials(ctx context.Context, inst Instance) (Renewal, error)
}

// Renewal is the answer of RenewSourceCredentials.
type Renewal struct {
	// ConfigPatch holds top-level config values to merge into inst.Config (secrets
	// included); empty when nothing changed.
	ConfigPatch json.RawMessage
	// RenewAfter is when to call again; zero: nothing expires, schedule nothing.
	RenewAfter time.Time
	// Credentials are the config's expiring credentials, one entry each.
	Credentials []ExpiringCredential
}

// ExpiringCredential is one credential of a source's config that expires.
type ExpiringCredential struct {
	// Field is the config field holding it ("tokens" or "tokens[1]"); stable across renewals.
	Field string
	// Label names it as an admin knows it (an account name); never the secret.
	Label string
	// ExpiresAt is when it expires; zero when unknown.
	ExpiresAt time.Time
	// RenewedAt is when it was last renewed; zero when never.
	RenewedAt time.Time
	// Err, when set, says it could not be renewed: retryable (try later, keep the old
	// value while it lasts) or not (the upstream refused it: an admin must act).
	Err *Error
	// Warning is something an admin should know that needs no action now.
	Warning string
}

// Refused reports whether the upstream refused to renew the credential (not retryable).
func (c ExpiringCredential) Refused() bool { return c.Err != nil && !c.Err.Retryable }

// Check says whether a host can act on r, a renewal answered at now: a patch that is a JSON
// object, a next call in the future, and credentials each with a field, named once.
func (r Renewal) Check(now time.Time) error {
	if len(r.ConfigPatch) > 0 {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(r.ConfigPatch, &m); err != nil || m == nil {
			return fmt.Errorf("the config patch is not a JSON object")
		}
	}
	if !r.RenewAfter.IsZero() && !r.RenewAfter.After(now) {
		return fmt.Errorf("renew after %s is not in the future", r.RenewAfter.UTC().Format(time.RFC3339))
	}
	seen := map[string]bool{}
	for _, c := range r.Credentials {
		if c.Field == "" || seen[c.Field] {
			return fmt.Errorf("credential %q: each needs a field, named once", c.Field)
		}
		seen[c.Field] = true
		if c.Err != nil && c.Err.Kind == KindUnspecified {
			return fmt.Errorf("credential %q: its error has no kind", c.Field)
		}
	}
	return nil
}
