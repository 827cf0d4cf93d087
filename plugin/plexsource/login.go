package plexsource

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/plexlogin/plexlogin/plugin/plextv"
	"github.com/plexlogin/plexlogin/shared/source"
)

// pinLifetime bounds a login's PIN, whatever plex.tv grants: an approval link someone was
// sent (PIN phishing) stops working soon.
const pinLifetime = 10 * time.Minute

// loginState is what a sealed PIN login state holds.
type loginState struct {
	PINID    int64  `json:"pin_id"`
	ClientID string `json:"client_id"`
}

// checkCallback accepts only an absolute http(s) URL: it lands in Plex's forwardUrl.
func checkCallback(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if raw == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, source.Errorf(source.KindInvalidRequest, "bad_callback", "", "callback URL must be an absolute http(s) URL")
	}
	return u, nil
}

// productFor is the app name Plex shows when approving a login: the configured one, else the
// host of the site the browser returns to.
func productFor(cfg Config, callback *url.URL) string {
	if cfg.Product != "" {
		return cfg.Product
	}
	return callback.Host
}

// startPIN creates a PIN and returns the app.plex.tv URL and the sealed state (purpose, instance id).
func (p *Plex) startPIN(ctx context.Context, in *instance, purpose, instID, callback string) (string, []byte, time.Time, error) {
	cb, err := checkCallback(callback)
	if err != nil {
		return "", nil, time.Time{}, err
	}
	product := productFor(in.cfg, cb)
	pin, err := in.client.CreatePIN(ctx, product)
	if err != nil {
		return "", nil, time.Time{}, plexError(err, "create PIN")
	}
	life := time.Duration(pin.ExpiresIn) * time.Second
	if life <= 0 || life > pinLifetime {
		life = pinLifetime
	}
	exp := time.Now().Add(life)
	st, _ := in.seal.seal(purpose, instID, exp, loginState{PINID: int64(pin.ID), ClientID: in.cfg.ClientIdentifier})
	return plextv.AuthURL(p.opts.AppURL, in.cfg.ClientIdentifier, string(pin.Code), product, callback), st, exp, nil
}

// BeginLogin creates a strong PIN and sends the browser to app.plex.tv.
func (p *Plex) BeginLogin(ctx context.Context, inst source.Instance, req source.BeginLogin) (source.LoginStart, error) {
	in, err := p.instance(inst)
	if err != nil {
		return source.LoginStart{}, err
	}
	u, st, exp, err := p.startPIN(ctx, in, "login", inst.ID, req.CallbackURL)
	if err != nil {
		return source.LoginStart{}, err
	}
	return source.LoginStart{RedirectURL: u, State: st, ExpiresAt: exp}, nil
}

var errBadState = &source.Error{Kind: source.KindInvalidRequest, ReasonCode: "bad_login_state",
	UserText: "This login link is not valid. Please start again.", AdminDetail: "login state does not open (forged, altered, or for another source)"}

var errReplayed = &source.Error{Kind: source.KindReplayed, ReasonCode: "login_replayed", UserText: "This login was already used. Please start again.",
	AdminDetail: "a login with this state completed before or is being completed"}

func errExpired(code string) *source.Error {
	return &source.Error{Kind: source.KindExpired, ReasonCode: code, UserText: "This login has expired. Please start again.",
		AdminDetail: "state past its expiry"}
}

// openState opens a sealed state, answering the contract's errors.
func openState(in *instance, purpose, instID string, raw []byte, v any, expiredCode string) (string, time.Time, error) {
	nonce, err := in.seal.open(purpose, instID, raw, v)
	switch {
	case err == errStateExpired:
		return "", time.Time{}, errExpired(expiredCode)
	case err != nil:
		return "", time.Time{}, errBadState
	}
	return nonce, time.Now().Add(time.Hour), nil
}

// once runs fn at most once to completion for key: a concurrent or later call is a replay,
// but a retryable answer (pending, upstream unavailable) frees the key for a retry.
func (p *Plex) once(key string, keep time.Time, fn func() (source.Identity, error)) (source.Identity, error) {
	if p.used.add(key, keep) > 1 {
		return source.Identity{}, errReplayed
	}
	id, err := fn()
	if err != nil && source.AsError(err).Retryable {
		p.used.remove(key)
	}
	return id, err
}

// claimPIN reads a sealed login state and checks its PIN, returning the user's token.
func (p *Plex) claimPIN(ctx context.Context, in *instance, st loginState) (string, error) {
	pin, err := in.client.CheckPIN(ctx, st.PINID)
	if err != nil {
		e := plexError(err, "check PIN")
		if e.Kind == source.KindExpired && st.ClientID != in.cfg.ClientIdentifier {
			e.AdminDetail += " (the source's client identifier changed after this login started)"
		}
		return "", e
	}
	token := pin.Token()
	if token == "" {
		return "", &source.Error{Kind: source.KindPending, ReasonCode: "pin_not_approved", Retryable: true,
			UserText: "Plex has not confirmed this login yet. Approve it at Plex, or start again.", AdminDetail: "PIN not yet claimed"}
	}
	return token, nil
}

// CompleteLogin checks the PIN, fetches the user and decides access; the login counts as used
// only once it completed or was refused.
func (p *Plex) CompleteLogin(ctx context.Context, inst source.Instance, req source.CompleteLogin) (source.Identity, error) {
	in, err := p.instance(inst)
	if err != nil {
		return source.Identity{}, err
	}
	var st loginState
	_, keep, err := openState(in, "login", inst.ID, req.State, &st, "login_expired")
	if err != nil {
		return source.Identity{}, err
	}
	id, err := p.once("login/"+inst.ID+"/"+strconv.FormatInt(st.PINID, 10), keep, func() (source.Identity, error) {
		token, err := p.claimPIN(ctx, in, st)
		if err != nil {
			return source.Identity{}, err
		}
		return p.login(ctx, in, inst, token, req.Want)
	})
	if err != nil {
		p.opts.Logger.Info("login not completed", "source", inst.ID, "reason", source.AsError(err).ReasonCode)
	}
	return id, err
}
