package plexsource

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/plexlogin/plexlogin/plugin/plextv"
	"github.com/plexlogin/plexlogin/shared/source"
)

// DeviceKeysField is the config field holding the owner tokens' device keys: the plugin's
// own secret (writeOnly and readOnly: sealed by the host, never shown).
const DeviceKeysField = "owner_device_keys"

// DeviceKey is the device-key state of one owner token, a secret as a whole. One key and
// one client identifier per owner token: plex.tv registers a key for one client identifier
// and one account (a second registration of the key is "Thumbprint Already Taken"), a
// device is revoked on its own, and a device identity of its own per token keeps the
// legacy-token invalidation rule away from every other token (plex-api.md, "JWT
// authentication").
type DeviceKey struct {
	// ForToken is the fingerprint of the owner token this key renews (see fingerprint):
	// the key follows its token wherever the admin moves it, and is dropped with it.
	ForToken string `json:"for_token"`
	// ClientID is the device's own client identifier, never the source's.
	ClientID string `json:"client_id"`
	// Key is the Ed25519 seed (base64url).
	Key string `json:"key"`
	// IssuedAt and ExpiresAt are the current token's iat and exp (unix seconds).
	IssuedAt  int64 `json:"issued_at"`
	ExpiresAt int64 `json:"expires_at"`
	// RenewedAt is the last renewal (unix seconds); 0 before the first.
	RenewedAt int64 `json:"renewed_at"`
	// Legacy is the legacy token the key was upgraded from, kept until the first renewal
	// succeeds so the source can fall back to it.
	Legacy string `json:"legacy_token"`
	// Account is the account's name, for the admin.
	Account string `json:"account"`
}

// String never shows the key or the tokens.
func (d DeviceKey) String() string { return "device key of " + d.Account }

// GoString never shows them either.
func (d DeviceKey) GoString() string { return d.String() }

// fingerprint is a token's SHA-256, hex, cut to 128 bits: enough to tell tokens apart,
// nothing to sign in with.
func fingerprint(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:16])
}

// renewAt is when less than half of the token's own life (exp − iat) is left.
func (d DeviceKey) renewAt() time.Time {
	return time.Unix(d.IssuedAt+(d.ExpiresAt-d.IssuedAt)/2, 0)
}

// slot is a config field holding an owner token.
type slot struct {
	field string
	token string
}

// tokenSlots are the owner tokens with the fields holding them.
func (c Config) tokenSlots() []slot {
	var out []slot
	if c.OwnerToken != "" {
		out = append(out, slot{"owner_token", c.OwnerToken})
	}
	for i, t := range c.AdditionalOwnerTokens {
		if t != "" {
			out = append(out, slot{"additional_owner_tokens[" + strconv.Itoa(i) + "]", t})
		}
	}
	return out
}

// setSlot puts token into the field a slot names.
func (c *Config) setSlot(field, token string) {
	if field == "owner_token" {
		c.OwnerToken = token
		return
	}
	var i int
	if _, err := fmt.Sscanf(field, "additional_owner_tokens[%d]", &i); err == nil && i >= 0 && i < len(c.AdditionalOwnerTokens) {
		c.AdditionalOwnerTokens[i] = token
	}
}

// deviceFor is the device key of token (nil for a legacy token).
func (c *Config) deviceFor(token string) *DeviceKey {
	fp := fingerprint(token)
	for i := range c.DeviceKeys {
		if c.DeviceKeys[i].ForToken == fp {
			return &c.DeviceKeys[i]
		}
	}
	return nil
}

// normalizeDeviceKeys drops keys whose token is gone (replaced by a re-authorisation or
// removed by the admin) and checks the rest.
func normalizeDeviceKeys(c *Config) []source.FieldError {
	live := map[string]bool{}
	for _, s := range c.tokenSlots() {
		live[fingerprint(s.token)] = true
	}
	kept := []DeviceKey{}
	var errs []source.FieldError
	for _, d := range c.DeviceKeys {
		if !live[d.ForToken] {
			continue
		}
		if _, err := plextv.ParseDeviceKey(d.Key); err != nil || !clientIDRE.MatchString(d.ClientID) || d.ExpiresAt <= d.IssuedAt {
			errs = append(errs, source.FieldError{Field: DeviceKeysField, Message: "a device key is damaged: use Re-authorise with Plex"})
			continue
		}
		kept = append(kept, d)
	}
	c.DeviceKeys = kept
	return errs
}
