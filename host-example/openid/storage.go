package openid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Lifetimes.
const (
	authRequestLifetime = 10 * time.Minute
	codeLifetime        = time.Minute
	accessTokenLifetime = 15 * time.Minute
	refreshLifetime     = 30 * 24 * time.Hour
	idTokenLifetime     = time.Hour
	// keyKeep is how long a retired key stays in the JWKS: past every id_token it signed
	// and every id_token_hint a logout still presents.
	keyKeep = 7 * 24 * time.Hour
)

// storage implements op.Storage on the host's store: the library does the protocol, the
// security of the provider (PKCE rules, single-use codes, refresh rotation) lives here.
type storage struct {
	st      Store
	clients *clientCache
	keys    *keyring
	login   func(id string) string
	// endSession ends the browser session of the request in ctx when it belongs to userID.
	endSession func(ctx context.Context, userID int64)
	// logoutConfirm is the page that asks before logging out without a valid id_token_hint.
	logoutConfirm func(redirect string) string
}

var _ op.Storage = (*storage)(nil)
var _ op.CanSetUserinfoFromRequest = (*storage)(nil)
var _ op.CanTerminateSessionFromRequest = (*storage)(nil)

// authRequest is an authorization request as the library sees it; the request fields
// are stored as JSON, the rest comes from the store's row.
type authRequest struct {
	ID              string            `json:"-"`
	ClientID        string            `json:"client_id"`
	RedirectURI     string            `json:"redirect_uri"`
	State           string            `json:"state"`
	Nonce           string            `json:"nonce"`
	Scopes          []string          `json:"scopes"`
	ResponseType    oidc.ResponseType `json:"response_type"`
	ResponseMode    oidc.ResponseMode `json:"response_mode"`
	Prompt          []string          `json:"prompt"`
	MaxAge          *int64            `json:"max_age"`
	Challenge       string            `json:"code_challenge"`
	ChallengeMethod string            `json:"code_challenge_method"`

	userID    int64
	subject   string
	authTime  time.Time
	done      bool
	codeHash  string
	createdAt time.Time
}

var _ op.AuthRequest = (*authRequest)(nil)

func (a *authRequest) GetID() string                      { return a.ID }
func (a *authRequest) GetACR() string                     { return "" }
func (a *authRequest) GetAMR() []string                   { return []string{"fed"} }
func (a *authRequest) GetAudience() []string              { return []string{a.ClientID} }
func (a *authRequest) GetAuthTime() time.Time             { return a.authTime }
func (a *authRequest) GetClientID() string                { return a.ClientID }
func (a *authRequest) GetNonce() string                   { return a.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return a.ResponseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return a.ResponseMode }
func (a *authRequest) GetScopes() []string                { return a.Scopes }
func (a *authRequest) GetState() string                   { return a.State }
func (a *authRequest) GetSubject() string                 { return a.subject }
func (a *authRequest) Done() bool                         { return a.done }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.Challenge == "" {
		return nil
	}
	// The method passes through: oidc.VerifyCodeChallenge refuses one it does not know.
	return &oidc.CodeChallenge{Challenge: a.Challenge, Method: oidc.CodeChallengeMethod(a.ChallengeMethod)}
}

// CreateAuthRequest stores a request after the PKCE rules: S256 only; public clients must use it.
func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	c, err := s.clients.byID(ctx, req.ClientID)
	if err != nil {
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client")
	}
	switch {
	case req.CodeChallengeMethod == oidc.CodeChallengeMethodPlain:
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method plain is not accepted: use S256")
	case req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256:
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	case c.Public && req.CodeChallenge == "":
		return nil, oidc.ErrInvalidRequest().WithDescription("a public client must use PKCE (S256)")
	}
	if req.ResponseType != oidc.ResponseTypeCode {
		return nil, oidc.ErrInvalidRequest().WithDescription("only the code flow is offered")
	}
	ar := &authRequest{ID: store.RandomID(16), ClientID: req.ClientID, RedirectURI: req.RedirectURI, State: req.State, Nonce: req.Nonce,
		Scopes: req.Scopes, ResponseType: req.ResponseType, ResponseMode: req.ResponseMode, Prompt: req.Prompt,
		Challenge: req.CodeChallenge, ChallengeMethod: string(req.CodeChallengeMethod), createdAt: time.Now()}
	if req.MaxAge != nil {
		m := int64(*req.MaxAge)
		ar.MaxAge = &m
	}
	data, _ := json.Marshal(ar)
	who := starterOf(ctx)
	if err := s.st.CreateAuthRequest(ctx, store.AuthRequest{ID: ar.ID, ClientID: ar.ClientID, Data: data, BindingHash: who.binding,
		ClientKey: who.client, ExpiresAt: time.Now().Add(authRequestLifetime)}); err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return ar, nil
}

// authRequestOf turns a stored row into the library's request.
func (s *storage) authRequestOf(ctx context.Context, row *store.AuthRequest) (*authRequest, error) {
	var ar authRequest
	if err := json.Unmarshal(row.Data, &ar); err != nil {
		return nil, fmt.Errorf("authorization request %s unreadable: %w", row.ID, err)
	}
	ar.ID, ar.userID, ar.authTime, ar.done, ar.codeHash, ar.createdAt = row.ID, row.UserID, row.AuthTime, row.Done, row.CodeHash, row.CreatedAt
	if ar.done {
		u, err := s.st.User(ctx, ar.userID)
		if err != nil {
			return nil, err
		}
		ar.subject = u.PublicID
	}
	return &ar, nil
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	row, err := s.st.AuthRequestByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.authRequestOf(ctx, row)
}

// AuthRequestByCode finds a code's request; a code already used revokes its grant.
func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	row, err := s.st.AuthRequestByCode(ctx, hashOf(code))
	if err != nil {
		return nil, storeFault(ctx, err)
	}
	ar, err := s.authRequestOf(ctx, row)
	if err != nil {
		return nil, err
	}
	signFor(ctx, ar.ClientID) // the client the library matches with the authenticated one
	return ar, nil
}

func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return s.st.SaveAuthCode(ctx, id, hashOf(code), time.Now().Add(codeLifetime))
}

func (s *storage) DeleteAuthRequest(ctx context.Context, id string) error {
	return s.st.DeleteAuthRequest(ctx, id)
}

// claim takes an authorization request's code for this one exchange and stores the tokens
// it issues, in the claim's own transaction: only while the person's access lasts (user,
// source and the host session that completed the request; the store checks these in the
// claim, so an end of access racing the exchange either refuses it or revokes what it wrote)
// and the client's groups still admit them (as a refresh checks; when not, the grant and so
// the tokens just written are revoked). A second exchange (also one racing this one) loses
// and revokes the grant.
func (s *storage) claim(ctx context.Context, ar *authRequest, issue store.CodeTokens) error {
	ok, err := s.st.ClaimCode(ctx, ar.codeHash, issue)
	if errors.Is(err, store.ErrAccessEnded) {
		return oidc.ErrInvalidGrant().WithDescription("the sign-in this code was issued for has ended")
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(storeFault(ctx, err))
	}
	if !ok {
		return oidc.ErrInvalidGrant().WithDescription("the code was already used; every token of this grant is revoked")
	}
	u, err := s.st.User(ctx, ar.userID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return oidc.ErrServerError().WithParent(storeFault(ctx, err))
	}
	c, cerr := s.clients.byID(ctx, ar.ClientID)
	if cerr != nil && !errors.Is(cerr, store.ErrNotFound) {
		return oidc.ErrServerError().WithParent(storeFault(ctx, cerr))
	}
	if err != nil || cerr != nil {
		_ = s.st.RevokeGrant(ctx, ar.ID)
		return oidc.ErrInvalidGrant().WithDescription("the user may no longer use this application")
	}
	if !s.stillAllowed(ctx, u, c, ar.ID) {
		return oidc.ErrInvalidGrant().WithDescription("the user may no longer use this application")
	}
	return nil
}

// TerminateSession is unused: TerminateSessionFromRequest decides.
func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

// TerminateSessionFromRequest logs out only with a valid id_token_hint; without one it sends
// the browser to a page that asks first (no logout by a bare cross-site GET).
func (s *storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	if req.IDTokenHintClaims == nil {
		return s.logoutConfirm(req.RedirectURI), nil
	}
	u, err := s.st.UserByPublicID(ctx, req.UserID)
	if err == nil {
		s.endSession(ctx, u.ID)
	}
	return req.RedirectURI, nil
}

// SigningKey is the key for the client a token request is signed for (signingFor): the
// client's own algorithm, or the default one.
func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	alg := ""
	if id := signingClient(ctx); id != "" {
		c, err := s.clients.byID(ctx, id)
		if err != nil {
			return nil, storeFault(ctx, fmt.Errorf("the client of this token: %w", err))
		}
		alg = c.IDTokenAlg
	}
	k, err := s.keys.signer(ctx, alg)
	if err != nil {
		return nil, storeFault(ctx, err)
	}
	return k, nil
}

// SignatureAlgorithms are the offered algorithms, the default first (discovery's
// id_token_signing_alg_values_supported): any client may be registered with one of them.
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	out := []jose.SignatureAlgorithm{jose.SignatureAlgorithm(s.keys.alg)}
	for _, a := range Algorithms {
		if a != s.keys.alg {
			out = append(out, jose.SignatureAlgorithm(a))
		}
	}
	return out, nil
}

// KeySet is the JWKS: the keys of every algorithm in use, waiting and recently retired ones too.
func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	_, all, err := s.keys.load(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, 0, len(all))
	for _, k := range all {
		out = append(out, publicKey{k})
	}
	return out, nil
}

func (s *storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.clients.byID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		// invalid_client, not a server error: a client id that does not exist is the caller's mistake
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client")
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(storeFault(ctx, err))
	}
	return client{c: c, login: s.login}, nil
}

func (s *storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	c, err := s.clients.byID(ctx, id)
	if err != nil || !checkSecret(c, secret) {
		_ = storeFault(ctx, err)
		return errors.New("wrong client id or secret")
	}
	return nil
}

// SetUserinfoFromScopes is deprecated in the library; SetUserinfoFromRequest does the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the id_token's claims.
func (s *storage) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	var u *store.User
	if r, ok := req.(*refreshRequest); ok && r.user != nil && r.user.PublicID == req.GetSubject() &&
		r.revoked == s.st.Changes().Version(store.AccessRevoked) {
		u = r.user // read by this refresh grant, which judged the grant on it, and nobody's access changed since
	} else {
		var err error
		if u, err = s.st.UserByPublicID(ctx, req.GetSubject()); err != nil {
			return err
		}
	}
	c, err := s.clients.byID(ctx, req.GetClientID())
	if err != nil {
		return err
	}
	setClaims(ui, u, c, scopes)
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("JWT profile grants are not offered")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("JWT profile grants are not offered")
}

func (s *storage) Health(ctx context.Context) error {
	_, err := s.st.Meta(ctx, "oidc_crypto_key")
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// requestKey carries the HTTP request through the library to the storage (logout).
type requestKey struct{}

func withRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestKey{}, r)))
	})
}

func requestOf(ctx context.Context) *http.Request {
	r, _ := ctx.Value(requestKey{}).(*http.Request)
	return r
}
