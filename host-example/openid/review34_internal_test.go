package openid

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Review 34 (security review of issue 34's commits, 1ed6fde..): the refresh grant now reads
// its token and user in one statement (RefreshTokenAndUser) and the id_token's claims come
// from that user. These probes fail if that lets through a grant the parent refused.

// review34Env is a store with one enabled source, a person and a client allowing refresh.
type review34Env struct {
	t   *testing.T
	ctx context.Context
	st  *store.Store
	s   *storage
	src *store.Source
	uid int64
}

func newReview34Env(t *testing.T) *review34Env {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	src, err := st.CreateSource(ctx, "plugin", "a", "A")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetEnabled(ctx, src.ID, true); err != nil {
		t.Fatal(err)
	}
	done, err := st.FinishLogin(ctx, store.User{SourceID: src.ID, Subject: "7", Username: "frank", Name: "Frank", Email: "f@example.test",
		Groups: []string{"friends"}}, store.Event{SourceID: src.ID, Kind: store.EventLoginAllowed, Subject: "7"}, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []store.OIDCClient{
		{ID: "wiki", Name: "Wiki", RedirectURIs: []string{"https://wiki.example.test/cb"}, GrantTypes: []string{GrantCode, GrantRefresh}},
		{ID: "other", Name: "Other", RedirectURIs: []string{"https://other.example.test/cb"}, GrantTypes: []string{GrantCode, GrantRefresh}},
	} {
		if err := st.PutOIDCClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	return &review34Env{t: t, ctx: ctx, st: st, s: &storage{st: st, clients: NewClients(st).cache}, src: src, uid: done.UserID}
}

// token stores a new refresh token of a new grant of client for the person and answers it.
func (e *review34Env) token(client string) string {
	e.t.Helper()
	tok := store.RandomID(32)
	rt := store.RefreshToken{Hash: hashOf(tok), ID: store.RandomID(16), FamilyID: store.RandomID(16), GrantID: store.RandomID(16), ClientID: client,
		UserID: e.uid, Scopes: []string{oidc.ScopeOpenID, oidc.ScopeProfile, ScopeGroups, oidc.ScopeOfflineAccess}, AuthTime: time.Now(),
		Expires: time.Now().Add(time.Hour)}
	if err := e.st.PutRefreshToken(e.ctx, rt); err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// parentVerdict is TokenRequestByRefreshToken as the parent commit (1ed6fde) judged a token:
// RefreshTokenByHash, then User, then the client's groups.
func (e *review34Env) parentVerdict(token string) bool {
	rt, err := e.st.RefreshTokenByHash(e.ctx, hashOf(token))
	if err != nil || rt.Rotated || rt.Revoked || time.Now().After(rt.Expires) {
		return false
	}
	u, err := e.st.User(e.ctx, rt.UserID)
	if err != nil {
		return false
	}
	c, err := e.s.clients.byID(e.ctx, rt.ClientID)
	return err == nil && inAllowedGroups(u, c)
}

// grant runs a whole refresh grant as the library does (judge, rotate, claims) and answers
// the id_token's claims, or the first error.
func (e *review34Env) grant(token string, between func()) (*oidc.UserInfo, error) {
	req, err := e.s.TokenRequestByRefreshToken(e.ctx, token)
	if err != nil {
		return nil, err
	}
	if between != nil {
		between()
	}
	if _, _, _, err := e.s.CreateAccessAndRefreshTokens(e.ctx, req, token); err != nil {
		return nil, err
	}
	ui := new(oidc.UserInfo)
	if err := e.s.SetUserinfoFromRequest(e.ctx, ui, req.(*refreshRequest), req.GetScopes()); err != nil {
		return nil, err
	}
	return ui, nil
}

// Every state of a token and its person gets the parent's verdict: a disabled person, a
// turned-off source, a person outside the client's groups, a rotated, revoked, expired or
// unknown token, a person retired by a link, a deleted person. A refused grant gives nothing.
func TestReview34RefreshSameVerdictAsParent(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup func(e *review34Env, tok string)
		want  bool
	}{
		{"live", func(*review34Env, string) {}, true},
		{"disabled person", func(e *review34Env, _ string) {
			_ = e.st.SetDisabled(e.ctx, e.uid, true, store.DisabledByAdmin)
		}, false},
		{"source off", func(e *review34Env, _ string) { _ = e.st.SetEnabled(e.ctx, e.src.ID, false) }, false},
		{"outside the client's groups", func(e *review34Env, _ string) {
			c, _ := e.st.OIDCClientByID(e.ctx, "wiki")
			c.AllowedGroups = []string{"family"}
			_ = e.st.PutOIDCClient(e.ctx, *c)
		}, false},
		{"rotated", func(e *review34Env, tok string) {
			if _, err := e.grant(tok, nil); err != nil {
				e.t.Fatal(err)
			}
		}, false},
		{"revoked family", func(e *review34Env, tok string) {
			rt, _ := e.st.RefreshTokenByHash(e.ctx, hashOf(tok))
			_ = e.st.RevokeFamily(e.ctx, rt.FamilyID)
		}, false},
		{"deleted person", func(e *review34Env, _ string) { _ = e.st.DeleteUser(e.ctx, e.uid) }, false},
		{"retired by a link", func(e *review34Env, _ string) {
			b, _ := e.st.CreateSource(e.ctx, "plugin", "b", "B")
			_ = e.st.SetEnabled(e.ctx, b.ID, true)
			keep, err := e.st.FinishLogin(e.ctx, store.User{SourceID: b.ID, Subject: "7", Username: "frank-b"},
				store.Event{SourceID: b.ID, Kind: store.EventLoginAllowed, Subject: "7"}, "", time.Hour)
			if err != nil {
				e.t.Fatal(err)
			}
			if err := e.st.LinkPeople(e.ctx, keep.UserID, e.uid); err != nil {
				e.t.Fatal(err)
			}
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newReview34Env(t)
			tok := e.token("wiki")
			c.setup(e, tok)
			if parent := e.parentVerdict(tok); parent != c.want {
				t.Fatalf("the parent's verdict %v, the case expects %v", parent, c.want)
			}
			if _, err := e.s.TokenRequestByRefreshToken(e.ctx, tok); (err == nil) != c.want {
				t.Fatalf("HOLE? the judgement: %v, want allowed=%v as the parent (before the rotation's own check)", err, c.want)
			}
			ui, err := e.grant(tok, nil)
			if (err == nil) != c.want {
				t.Fatalf("HOLE? grant: %v (claims %+v), want allowed=%v as the parent", err, ui, c.want)
			}
		})
	}
	// Unknown and expired tokens.
	e := newReview34Env(t)
	if _, err := e.grant("no-such-token", nil); err == nil {
		t.Fatal("HOLE: an unknown refresh token granted")
	}
	tok := store.RandomID(32)
	_ = e.st.PutRefreshToken(e.ctx, store.RefreshToken{Hash: hashOf(tok), ID: "x", FamilyID: "fx", GrantID: "gx", ClientID: "wiki", UserID: e.uid,
		Scopes: []string{oidc.ScopeOpenID}, AuthTime: time.Now().Add(-2 * time.Hour), Expires: time.Now().Add(-time.Second)})
	if _, err := e.grant(tok, nil); err == nil {
		t.Fatal("HOLE: an expired refresh token granted")
	}
}

// Another client's token: the storage answers the token's own client (the library then
// refuses a mismatch, op.ValidateRefreshTokenRequest), and the claims name the token's user.
func TestReview34RefreshNamesTheTokensClientAndUser(t *testing.T) {
	e := newReview34Env(t)
	tok := e.token("other")
	req, err := e.s.TokenRequestByRefreshToken(e.ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := e.st.User(e.ctx, e.uid)
	if req.GetClientID() != "other" || req.GetSubject() != u.PublicID || req.(*refreshRequest).user.ID != e.uid {
		t.Fatalf("HOLE: request of client %q, subject %q (user %d), want other, %q (%d)", req.GetClientID(), req.GetSubject(),
			req.(*refreshRequest).user.ID, u.PublicID, e.uid)
	}
}

// Changes between the judgement and the rotation (the window the id_token's claims now come
// from the judged read rather than a read after the rotation): a person disabled or deleted,
// or a source turned off, in it gets no tokens (the rotation's compare and swap needs the
// token unrevoked); a group given in it (an announced change of access) makes the claims be
// read again, so the id_token carries the new groups, as the parent's second read did.
func TestReview34RefreshWindow(t *testing.T) {
	for _, c := range []struct {
		name    string
		between func(e *review34Env)
	}{
		{"disabled", func(e *review34Env) { _ = e.st.SetDisabled(e.ctx, e.uid, true, store.DisabledByAdmin) }},
		{"deleted", func(e *review34Env) { _ = e.st.DeleteUser(e.ctx, e.uid) }},
		{"source off", func(e *review34Env) { _ = e.st.SetEnabled(e.ctx, e.src.ID, false) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newReview34Env(t)
			tok := e.token("wiki")
			if ui, err := e.grant(tok, func() { c.between(e) }); err == nil {
				t.Fatalf("HOLE: %s between the judgement and the rotation, yet tokens and an id_token (%+v)", c.name, ui)
			}
		})
	}
	e := newReview34Env(t)
	tok := e.token("wiki")
	ui, err := e.grant(tok, func() {
		if err := e.st.SetAdminGroups(e.ctx, e.uid, []string{"family"}); err != nil {
			t.Fatal(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	now, _ := e.st.User(e.ctx, e.uid)
	got, _ := ui.Claims["groups"].([]string)
	if !slices.Contains(now.Groups, "family") {
		t.Fatalf("the person's groups %v", now.Groups)
	}
	// The change was announced (AccessRevoked), so the claims are read again: the id_token
	// carries the groups the person has now, as the parent's second read gave.
	if !slices.Equal(got, now.Groups) {
		t.Fatalf("groups changed in the window: id_token groups %v, the person's groups now %v", got, now.Groups)
	}
}
