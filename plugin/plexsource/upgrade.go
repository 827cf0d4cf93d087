package plexsource

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/plexlogin/plexlogin/plugin/plextv"
	"github.com/plexlogin/plexlogin/shared/source"
)

// ActionUpgrade upgrades the legacy owner tokens to device-key tokens.
const ActionUpgrade = "upgrade_device_key"

// upgradePolls bounds the polls of the linked PIN (linking is immediate at plex.tv).
const upgradePolls = 5

// upgrade turns every legacy owner token into a device-key token without a second Plex
// sign-in, as a media app that shipped Plex JWTs did (plex-api.md, "JWT authentication"):
// under a fresh device identity of the token's own, a strong PIN carrying the new key,
// approved server-side with the legacy token (PUT /api/v2/pins/link), polled with the
// device's JWT. Plex reportedly invalidates a device's legacy token when a JWT is issued
// for that device; the fresh identity keeps the legacy token alive, so an upgrade that fails
// half-way leaves it working (and it is kept beside the key until the first renewal).
func (p *Plex) upgrade(ctx context.Context, inst source.Instance) (source.ActionResult, error) {
	cfg, _, err := parseConfig(inst.Config)
	if err != nil {
		return source.ActionResult{}, err
	}
	in, err := p.instance(inst)
	if err != nil {
		return source.ActionResult{}, err
	}
	var done, failed []string
	upgraded := 0
	for _, s := range cfg.tokenSlots() {
		if cfg.deviceFor(s.token) != nil {
			continue
		}
		d, tok, err := p.upgradeToken(ctx, cfg, in.client, s.token)
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %s", s.field, plexError(err, "upgrade").AdminDetail))
			continue
		}
		cfg.setSlot(s.field, tok.Raw)
		cfg.DeviceKeys = append(cfg.DeviceKeys, d)
		done = append(done, d.Account)
		upgraded++
	}
	if upgraded == 0 {
		if len(failed) == 0 {
			return msg("info", "Every owner token is a device-key token already (or there is none)."), nil
		}
		return source.ActionResult{}, source.Errorf(source.KindUpstreamUnavailable, "plex_upgrade_failed",
			"Plex could not upgrade the owner tokens; the legacy tokens keep working. Try again later.", "%s", strings.Join(failed, " | "))
	}
	patch, _ := json.Marshal(map[string]any{"owner_token": cfg.OwnerToken, "additional_owner_tokens": cfg.AdditionalOwnerTokens,
		DeviceKeysField: cfg.DeviceKeys})
	return source.ActionResult{ConfigPatch: patch}, nil
}

// upgradeToken gets a device-key token for the account of legacy under a fresh device.
func (p *Plex) upgradeToken(ctx context.Context, cfg Config, linker *plextv.Client, legacy string) (DeviceKey, plextv.PlexToken, error) {
	owner, err := linker.User(ctx, legacy)
	if err != nil {
		return DeviceKey{}, plextv.PlexToken{}, err
	}
	k, err := plextv.NewDeviceKey()
	if err != nil {
		return DeviceKey{}, plextv.PlexToken{}, err
	}
	cid := newClientID()
	dc, err := p.deviceClient(cfg, cid)
	if err != nil {
		return DeviceKey{}, plextv.PlexToken{}, err
	}
	pin, err := dc.CreateKeyPIN(ctx, k, "")
	if err != nil {
		return DeviceKey{}, plextv.PlexToken{}, err
	}
	now := p.opts.Now()
	n, err := dc.Nonce(ctx)
	if err != nil {
		return DeviceKey{}, plextv.PlexToken{}, err
	}
	dj, err := k.Sign(cid, n, now)
	if err != nil {
		return DeviceKey{}, plextv.PlexToken{}, err
	}
	if err := linker.LinkPIN(ctx, legacy, string(pin.Code)); err != nil {
		return DeviceKey{}, plextv.PlexToken{}, err
	}
	var raw string
	for i := 0; i < upgradePolls && raw == ""; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return DeviceKey{}, plextv.PlexToken{}, ctx.Err()
			case <-time.After(time.Second):
			}
		}
		got, err := dc.CheckKeyPIN(ctx, int64(pin.ID), dj)
		if err != nil {
			return DeviceKey{}, plextv.PlexToken{}, err
		}
		raw = got.Token()
	}
	if raw == "" {
		return DeviceKey{}, plextv.PlexToken{}, fmt.Errorf("the linked PIN gave no token")
	}
	tok, err := dc.VerifyPlexToken(ctx, raw, k, now)
	if err != nil {
		return DeviceKey{}, plextv.PlexToken{}, err
	}
	// The token must be the same account's: an upgrade never swaps owners.
	if u, err := dc.User(ctx, tok.Raw); err != nil || u.ID != owner.ID {
		return DeviceKey{}, plextv.PlexToken{}, fmt.Errorf("the device-key token is not the legacy token's account: %v", err)
	}
	return DeviceKey{ForToken: fingerprint(tok.Raw), ClientID: cid, Key: k.Seed(), IssuedAt: tok.IssuedAt.Unix(), ExpiresAt: tok.ExpiresAt.Unix(),
		Legacy: legacy, Account: owner.DisplayName()}, tok, nil
}
