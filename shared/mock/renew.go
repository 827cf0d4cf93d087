package mock

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/plexlogin/plexlogin/shared/source"
)

// LeaseLife is how long a lease the mock renews lasts; it asks to be called at half of it.
const LeaseLife = time.Hour

// Lease is a lease of the mock expiring at exp.
func Lease(exp time.Time) string { return strconv.FormatInt(exp.Unix(), 10) + "." + randomHex(8) }

// leaseExpiry is when lease expires (false when it is empty or unreadable).
func leaseExpiry(lease string) (time.Time, bool) {
	head, _, ok := strings.Cut(lease, ".")
	if !ok {
		return time.Time{}, false
	}
	u, err := strconv.ParseInt(head, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(u, 0), true
}

// RenewSourceCredentials renews the lease (contract 1.4): a new one for LeaseLife, called
// again at half of it; "revoked" is refused; no lease, nothing to renew.
func (p *Plugin) RenewSourceCredentials(_ context.Context, inst source.Instance) (source.Renewal, error) {
	c, err := decode(inst.Config)
	if err != nil {
		return source.Renewal{}, err
	}
	switch {
	case c.Lease == "":
		return source.Renewal{}, nil
	case c.Lease == "revoked":
		return source.Renewal{Credentials: []source.ExpiringCredential{{Field: "lease", Label: "the mock's lease",
			Err: source.Errorf(source.KindInvalidCredentials, "lease_refused", "Connect the source again.", "the upstream refused the lease")}}}, nil
	}
	if _, ok := leaseExpiry(c.Lease); !ok {
		return source.Renewal{}, source.InvalidConfig(source.FieldError{Field: "lease", Message: "is not a lease"})
	}
	now := time.Now()
	exp := now.Add(LeaseLife)
	patch, _ := json.Marshal(map[string]string{"lease": Lease(exp)})
	return source.Renewal{ConfigPatch: patch, RenewAfter: now.Add(LeaseLife / 2),
		Credentials: []source.ExpiringCredential{{Field: "lease", Label: fmt.Sprintf("the lease of %s", c.ClientID), ExpiresAt: exp, RenewedAt: now}}}, nil
}
