package plexsource

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/plexlogin/plexlogin/plugin/plextv"
	"github.com/plexlogin/plexlogin/shared/source"
)

// ActionReauthorizeKey re-authorises the main owner token the device-key way.
const ActionReauthorizeKey = "reauthorize_device_key"

// keyPINState is the sealed state of a device-key re-authorisation: the PIN, the fresh
// device identity and its key (the host keeps the sealed state server-side until the
// browser returns; the key is useless without the approval it waits for).
type keyPINState struct {
	PINID    int64  `json:"pin_id"`
	ClientID string `json:"client_id"`
	Key      string `json:"key"`
}

// reauthorizeKey is Re-authorise with Plex, the device-key way (Plex's documentation, JWT
// Authentication; python-plexapi MyPlexJWTLogin with oauth): a strong PIN carrying a new
// key under a fresh device identity, approved by the owner at app.plex.tv, then polled with
// the device's JWT, which gives a Plex token (a JWT) for the owner token. Every other setting
// is kept; the old owner token's device key, if any, is dropped with it.
func (p *Plex) reauthorizeKey(ctx context.Context, inst source.Instance, req source.ActionRequest) (source.ActionResult, error) {
	in, err := p.actionInstance(inst)
	if err != nil {
		return source.ActionResult{}, err
	}
	purpose := "action/" + ActionReauthorizeKey
	if len(req.State) == 0 {
		cb, err := checkCallback(req.CallbackURL)
		if err != nil {
			return source.ActionResult{}, err
		}
		k, err := plextv.NewDeviceKey()
		if err != nil {
			return source.ActionResult{}, source.Errorf(source.KindInternal, "device_key", "", "%v", err)
		}
		cid := newClientID()
		dc, err := p.deviceClient(in.cfg, cid)
		if err != nil {
			return source.ActionResult{}, err
		}
		product := productFor(in.cfg, cb)
		pin, err := dc.CreateKeyPIN(ctx, k, product)
		if err != nil {
			return source.ActionResult{}, plexError(err, "create PIN")
		}
		exp := time.Now().Add(pinLifetime)
		st, _ := in.seal.seal(purpose, inst.ID, exp, keyPINState{PINID: int64(pin.ID), ClientID: cid, Key: k.Seed()})
		return source.ActionResult{Redirect: &source.ActionRedirect{URL: plextv.AuthURL(p.opts.AppURL, cid, string(pin.Code), product, req.CallbackURL),
			State: st, ExpiresAt: exp}}, nil
	}
	var st keyPINState
	_, keep, err := openState(in, purpose, inst.ID, req.State, &st, "login_expired")
	if err != nil {
		return source.ActionResult{}, err
	}
	key := purpose + "/" + inst.ID + "/" + strconv.FormatInt(st.PINID, 10)
	if p.used.add(key, keep) > 1 {
		return source.ActionResult{}, errReplayed
	}
	patch, err := p.claimKeyPIN(ctx, in.cfg, st)
	if err != nil {
		if source.AsError(err).Retryable {
			p.used.remove(key)
		}
		return source.ActionResult{}, err
	}
	return source.ActionResult{ConfigPatch: patch}, nil
}

// claimKeyPIN polls the approved PIN with the device's JWT and builds the owner-token patch.
func (p *Plex) claimKeyPIN(ctx context.Context, cfg Config, st keyPINState) (json.RawMessage, error) {
	k, err := plextv.ParseDeviceKey(st.Key)
	if err != nil {
		return nil, errBadState
	}
	dc, err := p.deviceClient(cfg, st.ClientID)
	if err != nil {
		return nil, err
	}
	now := p.opts.Now()
	n, err := dc.Nonce(ctx)
	if err != nil {
		return nil, plexError(err, "nonce")
	}
	dj, err := k.Sign(st.ClientID, n, now)
	if err != nil {
		return nil, source.Errorf(source.KindInternal, "device_jwt", "", "%v", err)
	}
	pin, err := dc.CheckKeyPIN(ctx, st.PINID, dj)
	if err != nil {
		return nil, plexError(err, "check PIN")
	}
	if pin.Token() == "" {
		return nil, &source.Error{Kind: source.KindPending, ReasonCode: "pin_not_approved", Retryable: true,
			UserText: "Plex has not confirmed this sign-in yet. Approve it at Plex, or start again.", AdminDetail: "PIN not yet claimed"}
	}
	tok, err := dc.VerifyPlexToken(ctx, pin.Token(), k, now)
	if err != nil {
		return nil, plexError(err, "verify the Plex token")
	}
	u, err := dc.User(ctx, tok.Raw)
	if err != nil {
		return nil, plexError(err, "read account")
	}
	keys := []DeviceKey{{ForToken: fingerprint(tok.Raw), ClientID: st.ClientID, Key: k.Seed(), IssuedAt: tok.IssuedAt.Unix(),
		ExpiresAt: tok.ExpiresAt.Unix(), Account: u.DisplayName()}}
	for _, d := range cfg.DeviceKeys {
		if d.ForToken != fingerprint(cfg.OwnerToken) {
			keys = append(keys, d)
		}
	}
	return json.Marshal(map[string]any{"owner_token": tok.Raw, DeviceKeysField: keys})
}
