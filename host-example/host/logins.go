package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/plexlogin/plexlogin/host-example/ratelimit"
	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/shared/source"
)

// Timings of login state.
const (
	// DefaultRememberLifetime is how long a session kept on its device lasts unused.
	DefaultRememberLifetime = 30 * 24 * time.Hour
	// RememberCap is how long after its sign-in a session kept on its device ends however
	// often it is used: the person signs in at their source again at least once a year.
	RememberCap = 365 * 24 * time.Hour

	// UpstreamBackoff is how long, after a source's upstream said "too many requests", only
	// quiet clients may start logins that call it (startBudget).
	UpstreamBackoff = 30 * time.Second
	// claimHold bounds how long one callback holds its login's state.
	claimHold = time.Minute
	// throttleWait is how long a client's too-fast login waits for its turn before it is refused.
	throttleWait = 2 * time.Second
)

// LoginConfig tunes the login engine.
type LoginConfig struct {
	// SessionLifetime is how long a login lasts.
	SessionLifetime time.Duration
	// RememberLifetime is how long a session kept on its device ("keep me signed in") lasts
	// after it was last seen (default 30 days); it slides, never past RememberCap after the
	// sign-in (or RememberLifetime, when longer).
	RememberLifetime time.Duration
	// IdleTimeout, when set, ends a session that is not kept on its device after that long
	// unused (within SessionLifetime; 0: off).
	IdleTimeout time.Duration
	// Rate is begin-login, step and password attempts allowed per minute per client; a burst
	// of a third of it is allowed, then a flood is slowed.
	Rate int
	// Starts tune the budget of login starts that call a source and the bound on stored ones.
	Starts StartLimits
	Logger hclog.Logger
	// SignedIn, when set, is told of each sign-in that ended signed in through src, and the
	// time it took from its start (Begin, or the first password attempt) (the metrics).
	SignedIn func(src *store.Source, took time.Duration)
}

// Logins runs logins: begin, the callback, a step's answer and a password, each ending in
// an Outcome or an error that says why.
type Logins struct {
	store   Store
	sources *Sources
	// states keep a redirect login's state until its callback.
	states redirectStates
	cfg    LoginConfig
	log    hclog.Logger
	// begins are per-client buckets for starting logins and password attempts.
	begins *ratelimit.Buckets
	// budget is this process's budget of login starts that call a source.
	budget *startBudget
	// upstream holds, per source, until when its upstream asked us to back off.
	upstream sync.Map
}

// NewLogins returns the login engine.
func NewLogins(st Store, srcs *Sources, cfg LoginConfig) *Logins {
	if cfg.SessionLifetime == 0 {
		cfg.SessionLifetime = 12 * time.Hour
	}
	if cfg.Rate == 0 {
		cfg.Rate = 30
	}
	if cfg.RememberLifetime == 0 {
		cfg.RememberLifetime = DefaultRememberLifetime
	}
	cfg.Starts = cfg.Starts.withDefaults()
	return &Logins{store: st, sources: srcs, states: redirectStates{st}, cfg: cfg, log: logger(cfg.Logger),
		begins: ratelimit.New(float64(cfg.Rate), cfg.Rate/3+1, 100000), budget: newStartBudget(cfg.Starts)}
}

// loginState is what the host keeps of a begun redirect login.
type loginState struct {
	SourceID string `json:"source_id"`
	Plugin   []byte `json:"plugin"`
	Return   string `json:"return,omitempty"`
	// Began is when the login began (Unix nanoseconds), carried to its end.
	Began int64 `json:"began,omitempty"`
	// Remember keeps the session on the device (the sign-in form's checkbox).
	Remember bool `json:"remember,omitempty"`
}

// stepState is what the host keeps of a login step in progress.
type stepState struct {
	SourceID string            `json:"source_id"`
	Step     *source.LoginStep `json:"step"`
	Return   string            `json:"return,omitempty"`
	Began    int64             `json:"began,omitempty"`
	Remember bool              `json:"remember,omitempty"`
}

// pendingPassword is a password waiting for its one-time code.
type pendingPassword struct {
	Login    string `json:"login"`
	Password string `json:"password"`
	Began    int64  `json:"began,omitempty"`
	Remember bool   `json:"remember,omitempty"`
}

// Begin starts a login with the source of slug.
type Begin struct {
	Slug, SessionID string
	// Client is the rate-limit key of the person's client.
	Client string
	// Person is the user signed in in this browser (0 for none), and Browser the opaque id of
	// the person behind this browser (signed in here now or before; "" for none): starts count
	// against that person's one share of the budget (Browser's when given), not their network's.
	Person  int64
	Browser string
	// Return is where the browser goes afterwards (already checked by the caller).
	Return string
	// Remember keeps the session on this device: the sign-in form's checkbox, carried in the
	// login's state to its end.
	Remember bool
	// Callback is the callback URL of the login with this id.
	Callback func(loginID string) string
}

// Begin starts a redirect login; the outcome's Redirect is the upstream's page.
func (l *Logins) Begin(ctx context.Context, b Begin) (Outcome, error) {
	src, p, err := l.bySlug(ctx, b.Slug)
	if err != nil {
		return Outcome{}, err
	}
	if err := l.admit(ctx, b.Client); err != nil {
		return Outcome{}, err
	}
	if err := l.spend(src, quietKey(b.Client, b.Person, b.Browser)); err != nil {
		return Outcome{}, err
	}
	began := time.Now()
	// Each begun login has its own id in the callback URL: several tabs each finish their own.
	id := store.RandomID(16)
	start, err := p.Process.BeginLogin(ctx, Instance(src), source.BeginLogin{CallbackURL: b.Callback(id)})
	if err != nil {
		l.noteUpstream(src, err)
		return Outcome{}, l.failed(ctx, src, err, false)
	}
	st, _ := json.Marshal(loginState{SourceID: src.ID, Plugin: start.State, Return: b.Return, Remember: b.Remember, Began: began.UnixNano()})
	client := clientRef(b.Client)
	if _, err := l.states.put(ctx, store.LoginState{ID: id, SessionID: b.SessionID, SourceID: src.ID, Kind: store.StateLogin,
		ClientKey: client, State: st, ExpiresAt: CapExpiry(start.ExpiresAt, 30*time.Minute)}); err != nil {
		return Outcome{}, err
	}
	if n, err := l.store.BoundLoginStarts(ctx, client, l.cfg.Starts.OpenPerClient, l.cfg.Starts.MaxOpen); err != nil {
		l.log.Error("bound login starts", "error", err)
	} else if n > 1 {
		l.log.Warn("more login starts open than kept: the oldest of the busiest clients were dropped", "dropped", n, "kept", l.cfg.Starts.MaxOpen)
	}
	return Outcome{Source: src, Redirect: start.RedirectURL}, nil
}

// Complete is a callback of a redirect login.
type Complete struct {
	SessionID, LoginID string
	// Query is the callback's query (first values).
	Query map[string]string
}

// Complete finishes a login from its callback. The state is claimed for the call (a second
// callback racing finds nothing) and ends with a completed or refused login; after a "not
// yet" or "try again" answer it stays, so the same link can be tried again (Retry).
func (l *Logins) Complete(ctx context.Context, c Complete) (Outcome, error) {
	ls, err := l.states.claim(ctx, c.SessionID, store.StateLogin, c.LoginID)
	if err != nil {
		return Outcome{}, err
	}
	var st loginState
	_ = json.Unmarshal(ls.State, &st)
	src, p, err := l.stillUsable(ctx, st.SourceID)
	if err != nil {
		if errors.Is(err, ErrSourceOff) {
			l.states.drop(ctx, ls)
		}
		return Outcome{}, err
	}
	id, err := p.Process.CompleteLogin(ctx, Instance(src), source.CompleteLogin{State: st.Plugin, CallbackQuery: c.Query, Want: Want(src, p)})
	if l.states.settle(ctx, ls, err) {
		l.noteUpstream(src, err)
		return Outcome{}, l.failed(ctx, src, err, true)
	}
	if err != nil {
		return Outcome{}, l.failed(ctx, src, err, false)
	}
	return l.finish(ctx, src, p, id, signInTo{ret: st.Return, sessionID: c.SessionID, remember: st.Remember, began: st.Began})
}

// Answer is a person's answer to a login step.
type Answer struct {
	SessionID, Client, Choice string
	// Value is the form's value of a step field.
	Value func(name string) string
}

// Continue answers a step: the state is taken (single use) before the plugin sees it. An
// answer to a guarded choice is counted as a guess in the store first (claimGuess).
func (l *Logins) Continue(ctx context.Context, a Answer) (Outcome, error) {
	ls, err := l.store.TakeLoginState(ctx, a.SessionID, store.StateStep)
	if err != nil {
		return Outcome{}, ErrStale
	}
	var st stepState
	_ = json.Unmarshal(ls.State, &st)
	src, p, err := l.stillUsable(ctx, st.SourceID)
	if err != nil {
		return Outcome{}, err
	}
	if st.Step == nil {
		return Outcome{}, ErrStale
	}
	if err := l.admit(ctx, a.Client); err != nil {
		return Outcome{}, err
	}
	values := map[string]string{}
	for _, f := range st.Step.Fields {
		values[f.Name] = a.Value(f.Name)
	}
	guess, err := l.claimGuess(ctx, src, st.Step.GuardOf(a.Choice))
	if err != nil {
		return Outcome{}, err
	}
	id, err := p.Process.ContinueLogin(ctx, Instance(src), source.ContinueLogin{State: st.Step.State, Choice: a.Choice, Values: values,
		Want: Want(src, p)})
	guess.settle(ctx, l, source.WrongGuess(id, err))
	if err != nil {
		return Outcome{}, l.failed(ctx, src, err, false)
	}
	return l.finish(ctx, src, p, id, signInTo{ret: st.Return, sessionID: a.SessionID, remember: st.Remember, began: st.Began})
}

// PasswordAttempt is a login with a password (and maybe a one-time code).
type PasswordAttempt struct {
	Slug, SessionID, Client, Return string
	// Person and Browser are as Begin's, and Remember (a code alone continues the kept
	// password's).
	Remember    bool
	Person      int64
	Browser     string
	Credentials source.Credentials
}

// Password logs in with a password. A code alone continues the password kept from the
// attempt that asked for it; a needed code is a *SecondFactorError.
func (l *Logins) Password(ctx context.Context, a PasswordAttempt) (Outcome, error) {
	src, p, err := l.bySlug(ctx, a.Slug)
	if err != nil {
		return Outcome{}, err
	}
	if err := l.admit(ctx, a.Client); err != nil {
		return Outcome{}, err
	}
	if err := l.spend(src, quietKey(a.Client, a.Person, a.Browser)); err != nil {
		return Outcome{}, err
	}
	cred, began := a.Credentials, time.Now().UnixNano()
	if cred.OTP != "" && cred.Password == "" {
		if ls, err := l.store.TakeLoginState(ctx, a.SessionID, store.StatePassword); err == nil && ls.SourceID == src.ID {
			var pp pendingPassword
			_ = json.Unmarshal(ls.State, &pp)
			cred.Login, cred.Password, a.Remember = pp.Login, pp.Password, pp.Remember
			if pp.Began != 0 {
				began = pp.Began
			}
		}
	}
	cred.Want = Want(src, p)
	id, err := p.Process.PasswordLogin(ctx, Instance(src), cred)
	var se *source.Error
	if errors.As(err, &se) && se.Kind == source.KindSecondFactorRequired {
		st, _ := json.Marshal(pendingPassword{Login: cred.Login, Password: cred.Password, Remember: a.Remember, Began: began})
		_, _ = l.store.PutLoginState(ctx, store.LoginState{SessionID: a.SessionID, SourceID: src.ID, Kind: store.StatePassword, State: st,
			ExpiresAt: time.Now().Add(5 * time.Minute)})
		return Outcome{}, &SecondFactorError{Source: src, Account: cred.Login, Text: se.UserText, Rejected: cred.OTP != ""}
	}
	if err != nil {
		return Outcome{}, l.failed(ctx, src, err, false)
	}
	return l.finish(ctx, src, p, id, signInTo{ret: a.Return, sessionID: a.SessionID, remember: a.Remember, began: began})
}

// signInTo is where a login goes when it finishes: its return address, the browser's
// session it replaces, whether the new one is kept on the device, and when the login began
// (Unix nanoseconds; 0: not known).
type signInTo struct {
	ret, sessionID string
	remember       bool
	began          int64
}

// finish stores the user by (source, subject) and starts the user's session, ending the
// anonymous one (no session fixation); a login that needs one more step keeps it instead.
func (l *Logins) finish(ctx context.Context, src *store.Source, p *Plugin, id source.Identity, to signInTo) (Outcome, error) {
	ret, sessionID := to.ret, to.sessionID
	if id.Step != nil {
		st, _ := json.Marshal(stepState{SourceID: src.ID, Step: id.Step, Return: ret, Remember: to.remember, Began: to.began})
		if _, err := l.store.PutLoginState(ctx, store.LoginState{SessionID: sessionID, SourceID: src.ID, Kind: store.StateStep, State: st,
			ExpiresAt: CapExpiry(id.Step.ExpiresAt, 15*time.Minute)}); err != nil {
			return Outcome{}, err
		}
		return Outcome{Source: src, Step: id.Step, Return: ret}, nil
	}
	name := NameOf(id.PreferredUsername, id.Name)
	done, err := l.store.FinishLoginWith(ctx, store.User{SourceID: src.ID, Subject: id.Subject, Username: id.PreferredUsername,
		Email: id.Email, EmailVerified: id.EmailVerified, Name: id.Name, Picture: id.Picture, Groups: id.Groups,
		Attributes: id.Attributes, Raw: id.Raw, Revalidation: id.RevalidationState, PreviewSample: id.PreviewSample,
		Credentials: kept(id, Want(src, p)), Sync: src.Sync, GlobalOf: GlobalOf(src, p)},
		store.Event{SourceID: src.ID, Kind: store.EventLoginAllowed, Subject: id.Subject, Name: name,
			Reason: id.Decision.ReasonCode, Detail: id.Decision.AdminDetail},
		sessionID, l.terms(to.remember))
	if errors.Is(err, store.ErrSourceOff) { // turned off while the plugin answered
		_ = l.store.AddEvent(ctx, store.Event{SourceID: src.ID, Kind: store.EventLoginDenied, Subject: id.Subject,
			Name: name, Reason: "source_disabled", Detail: "the source was turned off during the login"})
		return Outcome{}, ErrSourceOff
	}
	if err != nil {
		l.log.Error("store user", "error", err)
		return Outcome{}, err
	}
	if done.Disabled {
		return Outcome{}, ErrUserDisabled
	}
	if l.cfg.SignedIn != nil && to.began != 0 {
		l.cfg.SignedIn(src, time.Since(time.Unix(0, to.began)))
	}
	in := &SignedIn{Token: done.Token, UserID: done.UserID, Remembered: to.remember}
	if to.remember {
		in.Expires = time.Now().Add(l.terms(true).Life) // the cookie outlives the browser; the store says when it ends
	}
	return Outcome{Source: src, Return: ret, SignedIn: in}, nil
}

// terms are how long a person's new session lasts: kept on the device, it slides
// RememberLifetime from when it was last seen, never past RememberCap (or RememberLifetime,
// when longer) after the sign-in; else it ends SessionLifetime after the sign-in, or
// IdleTimeout after it was last seen when that is sooner.
func (l *Logins) terms(remember bool) store.SessionTerms {
	if remember {
		return store.SessionTerms{Life: max(RememberCap, l.cfg.RememberLifetime), Slide: l.cfg.RememberLifetime, Remembered: true}
	}
	return store.SessionTerms{Life: l.cfg.SessionLifetime, Slide: l.cfg.IdleTimeout}
}

// bySlug is the usable source of slug and its plugin, or ErrUnknownSource.
func (l *Logins) bySlug(ctx context.Context, slug string) (*store.Source, *Plugin, error) {
	src, err := l.store.SourceBySlug(ctx, slug)
	if err != nil {
		return nil, nil, ErrUnknownSource
	}
	p := l.sources.Usable(src)
	if p == nil {
		return nil, nil, ErrUnknownSource
	}
	return src, p, nil
}

// stillUsable is the source of a login under way and its plugin, or ErrSourceOff.
func (l *Logins) stillUsable(ctx context.Context, id string) (*store.Source, *Plugin, error) {
	src, err := l.store.Source(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, nil, err
	}
	p := l.sources.Usable(src)
	if p == nil {
		return nil, nil, ErrSourceOff
	}
	return src, p, nil
}

// admit slows a client that starts logins too fast and refuses it past a short wait.
func (l *Logins) admit(ctx context.Context, client string) error {
	if ok, after := l.begins.Wait(ctx, client, throttleWait); !ok {
		return &ThrottledError{Wait: after}
	}
	return nil
}

// spend takes a login start that calls src from the budget (startBudget), counted against
// key's share (quietKey). While src's
// upstream asked us to back off, only quiet clients start (the others get *PausedError);
// when the budget is spent for this client, *ThrottledError with Busy.
func (l *Logins) spend(src *store.Source, key string) error {
	var wait time.Duration
	if until, ok := l.upstream.Load(src.ID); ok {
		wait = time.Until(until.(time.Time))
	}
	if l.budget.take(key, wait <= 0) {
		return nil
	}
	if wait > 0 {
		return &PausedError{Source: src, Wait: wait}
	}
	return &ThrottledError{Wait: time.Minute, Busy: true}
}

// noteUpstream closes the shared part of the budget for a source's starts when its upstream
// rate-limits us: for UpstreamBackoff only quiet clients start (not everyone is paused).
func (l *Logins) noteUpstream(src *store.Source, err error) {
	if source.KindOf(err) == source.KindRateLimited {
		l.upstream.Store(src.ID, time.Now().Add(UpstreamBackoff))
		l.log.Warn("upstream rate limit: only quiet clients start logins", "source", src.ID, "for", UpstreamBackoff)
	}
}

// clientRef is how a stored login start names its client: a hash of the rate-limit key, not
// the address.
func clientRef(client string) string {
	h := sha256.Sum256([]byte("login start client|" + client))
	return hex.EncodeToString(h[:16])
}

// failed records a refused or failed login and returns it as a *FailedError.
func (l *Logins) failed(ctx context.Context, src *store.Source, err error, retry bool) error {
	l.sources.NoteExpired(ctx, src, err)
	se := source.AsError(err)
	kind := store.EventLoginFailed
	if se.Kind == source.KindAccessDenied {
		kind = store.EventLoginDenied
	}
	_ = l.store.AddEvent(ctx, store.Event{SourceID: src.ID, Kind: kind, Subject: se.Subject, Name: se.DisplayName, Reason: se.ReasonCode,
		Detail: joinDetail(se.UserText, se.AdminDetail)})
	if se.Kind == source.KindAccessDenied && se.Subject != "" {
		l.leaveRefusing(ctx, src, se.Subject)
	}
	return &FailedError{Source: src, Err: se, Retry: retry}
}

// CapExpiry is when server-side state expires: the plugin's expiry (the upstream's, such as
// a code's lifetime), but never later than max from now.
func CapExpiry(plugin time.Time, max time.Duration) time.Time {
	limit := time.Now().Add(max)
	if plugin.IsZero() || plugin.After(limit) {
		return limit
	}
	return plugin
}

// NameOf is the first non-empty name.
func NameOf(names ...string) string {
	for _, n := range names {
		if n != "" {
			return n
		}
	}
	return ""
}

// joinDetail is the user's text and the admin's detail of a refusal, without repeating.
func joinDetail(userText, adminDetail string) string {
	switch {
	case userText == "" || strings.Contains(adminDetail, userText):
		return adminDetail
	case adminDetail == "":
		return userText
	}
	return userText + " — " + adminDetail
}
