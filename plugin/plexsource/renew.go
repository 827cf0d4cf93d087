package plexsource

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/plexlogin/plexlogin/plugin/plextv"
	"github.com/plexlogin/plexlogin/shared/source"
)

// retryAfter is when a renewal that failed for a passing reason is tried again (the host
// backs off further on its own).
const retryAfter = time.Minute

// deviceClient is a plex.tv client speaking as device d, not as the source.
func (p *Plex) deviceClient(cfg Config, clientID string) (*plextv.Client, error) {
	product := cfg.Product
	if product == "" {
		product = "Identity server"
	}
	c, err := plextv.New(plextv.Identity{ClientID: clientID, Product: product, Version: Version, Device: "Identity server", Platform: "Web"},
		p.clientOptions(cfg))
	if err != nil {
		return nil, source.Errorf(source.KindInternal, "bad_base_url", "", "%v", err)
	}
	return c, nil
}

// RenewSourceCredentials renews each device-key owner token with less than half of its own
// life (exp − iat) left (contract 1.4). Each token is renewed, refused or postponed on its
// own: a refusal falls back to the legacy token the key was upgraded from when that still
// answers, and otherwise asks for a re-authorisation; only that token is affected.
func (p *Plex) RenewSourceCredentials(ctx context.Context, inst source.Instance) (source.Renewal, error) {
	cfg, _, err := parseConfig(inst.Config)
	if err != nil {
		return source.Renewal{}, err
	}
	now := p.opts.Now()
	var out source.Renewal
	changed := false
	drop := map[string]bool{}
	for _, s := range cfg.tokenSlots() {
		d := cfg.deviceFor(s.token)
		if d == nil {
			continue // a legacy token: nothing expires
		}
		cred := source.ExpiringCredential{Field: s.field, Label: d.Account, ExpiresAt: time.Unix(d.ExpiresAt, 0), RenewedAt: unixTime(d.RenewedAt)}
		next := d.renewAt()
		if !now.Before(next) || p.expiredEarly(ctx, cfg, *d, s.token) {
			tok, err := p.renewDevice(ctx, cfg, *d, now)
			switch {
			case err == nil:
				cfg.setSlot(s.field, tok.Raw)
				d.ForToken, d.IssuedAt, d.ExpiresAt, d.RenewedAt, d.Legacy = fingerprint(tok.Raw), tok.IssuedAt.Unix(), tok.ExpiresAt.Unix(), now.Unix(), ""
				cred.ExpiresAt, cred.RenewedAt, next = tok.ExpiresAt, now, tok.RenewAt()
				changed = true
			case refusedRenewal(err):
				next = time.Time{}
				if d.Legacy != "" && p.legacyAnswers(ctx, cfg, d.Legacy) {
					cfg.setSlot(s.field, d.Legacy)
					drop[d.ForToken], changed = true, true
					cred.ExpiresAt, cred.Warning = time.Time{}, "Plex refused to renew the device key of "+d.Account+
						"; the source went back to its legacy token, which still works. Upgrade again, or Re-authorise with Plex."
					break
				}
				cred.Err = &source.Error{Kind: source.KindInvalidCredentials, ReasonCode: "plex_device_refused",
					UserText:    "Plex refused to renew the owner token of " + d.Account + " (its device was removed or its key is unknown). Re-authorise with Plex.",
					AdminDetail: "renew device key: " + err.Error()}
			default:
				e := plexError(err, "renew device key")
				if !e.Retryable {
					e = &source.Error{Kind: source.KindUpstreamUnavailable, ReasonCode: "plex_renewal_failed", Retryable: true,
						UserText: "Plex could not renew the owner token right now; it is tried again.", AdminDetail: e.AdminDetail}
				}
				e.SourceCredentialsExpired = false
				cred.Err = e
				next = now.Add(retryAfter)
				if exp := time.Unix(d.ExpiresAt, 0); !next.Before(exp) && now.Before(exp) {
					next = now.Add(exp.Sub(now) / 2)
				}
			}
		}
		out.Credentials = append(out.Credentials, cred)
		if !next.IsZero() && (out.RenewAfter.IsZero() || next.Before(out.RenewAfter)) {
			out.RenewAfter = next
		}
	}
	if !out.RenewAfter.IsZero() {
		// Whole seconds on the wire, and never now: the next call comes at least a second on.
		out.RenewAfter = time.Unix(max(out.RenewAfter.Unix(), p.opts.Now().Unix())+1, 0)
	}
	if changed {
		kept := []DeviceKey{}
		for _, d := range cfg.DeviceKeys {
			if !drop[d.ForToken] {
				kept = append(kept, d)
			}
		}
		cfg.DeviceKeys = kept
		out.ConfigPatch, _ = json.Marshal(map[string]any{"owner_token": cfg.OwnerToken, "additional_owner_tokens": cfg.AdditionalOwnerTokens,
			DeviceKeysField: cfg.DeviceKeys})
	}
	return out, nil
}

// expiredEarly reports whether plex.tv answers 498 to a token that by its own claims is not
// due yet (the host calls at once after an error marked source_credentials_expired): one
// GET /api/v2/user per such token, only when the host calls.
func (p *Plex) expiredEarly(ctx context.Context, cfg Config, d DeviceKey, token string) bool {
	c, err := p.deviceClient(cfg, d.ClientID)
	if err != nil {
		return false
	}
	_, err = c.User(ctx, token)
	return errors.Is(err, plextv.ErrTokenExpired)
}

// renewDevice gets device d a new Plex token, verified with Plex's keys.
func (p *Plex) renewDevice(ctx context.Context, cfg Config, d DeviceKey, now time.Time) (plextv.PlexToken, error) {
	k, err := plextv.ParseDeviceKey(d.Key)
	if err != nil {
		return plextv.PlexToken{}, err
	}
	c, err := p.deviceClient(cfg, d.ClientID)
	if err != nil {
		return plextv.PlexToken{}, err
	}
	tok, err := c.Renew(ctx, k, now)
	if errors.Is(err, plextv.ErrBadRequest) {
		// A nonce that lapsed between asking and using it: once more with a fresh one.
		tok, err = c.Renew(ctx, k, now)
	}
	return tok, err
}

// refusedRenewal reports whether plex.tv refused the device itself (not a passing failure):
// 422 Signature Verification Failed (unknown key, revoked device), 401, or a token that
// is not Plex's.
func refusedRenewal(err error) bool {
	return errors.Is(err, plextv.ErrSignature) || plextv.IsRevokedToken(err) || errors.Is(err, plextv.ErrNotPlexToken)
}

// legacyAnswers reports whether a legacy token still answers GET /api/v2/user.
func (p *Plex) legacyAnswers(ctx context.Context, cfg Config, token string) bool {
	c, err := p.deviceClient(cfg, cfg.ClientIdentifier)
	if err != nil {
		return false
	}
	_, err = c.User(ctx, token)
	return err == nil
}

func unixTime(u int64) time.Time {
	if u == 0 {
		return time.Time{}
	}
	return time.Unix(u, 0)
}
