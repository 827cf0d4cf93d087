package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// Review 36 (hostile review of fc0f711): a database from before schema step 23 holds refresh
// rows whose random id was never an access token, and access tokens in oidc_tokens. After the
// step, no old row's id answers as an access token, the old access tokens live on until they
// expire, and a refresh reuse, signing out everywhere or a purge treat old and new rows alike.

// review36Rewind undoes step 23 and stores an old-layout family of user uid: h0 rotated into
// h1 (ids rid0, rid1) with their access tokens at0 and at1 in oidc_tokens, and a second family
// (h9, rid9, at9) of the same user.
func review36Rewind(t *testing.T, s *Store, uid int64) {
	t.Helper()
	now := time.Now().Unix()
	for _, q := range []string{`ALTER TABLE oidc_refresh DROP COLUMN access_revoked`, `ALTER TABLE oidc_refresh DROP COLUMN access_expires`,
		`DELETE FROM schema_version WHERE version >= 23`,
		fmt.Sprintf(`INSERT INTO oidc_refresh (hash, id, family_id, grant_id, client_id, user_id, scopes, expires_at, rotated_at)
			VALUES ('h0', 'rid0', 'f', 'g', 'c', %d, '[]', %d, %d)`, uid, now+3600, now),
		fmt.Sprintf(`INSERT INTO oidc_refresh (hash, id, family_id, grant_id, client_id, user_id, scopes, expires_at)
			VALUES ('h1', 'rid1', 'f', 'g', 'c', %d, '[]', %d)`, uid, now+3600),
		fmt.Sprintf(`INSERT INTO oidc_refresh (hash, id, family_id, grant_id, client_id, user_id, scopes, expires_at)
			VALUES ('h9', 'rid9', 'f9', 'g9', 'c', %d, '[]', %d)`, uid, now+3600),
		fmt.Sprintf(`INSERT INTO oidc_tokens (id, grant_id, family_id, client_id, user_id, scopes, expires_at)
			VALUES ('at0', 'g', 'f', 'c', %d, '[]', %d), ('at1', 'g', 'f', 'c', %d, '[]', %d), ('at9', 'g9', 'f9', 'c', %d, '[]', %d)`,
			uid, now+900, uid, now+900, uid, now+900),
	} {
		if _, err := s.db.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// review36Person is an enabled person of an enabled source in s.
func review36Person(t *testing.T, s *Store) int64 {
	t.Helper()
	ctx := context.Background()
	src, err := s.CreateSource(ctx, "plugin", "s", "s")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetEnabled(ctx, src.ID, true); err != nil {
		t.Fatal(err)
	}
	d, err := s.FinishLogin(ctx, User{SourceID: src.ID, Subject: "7"}, Event{SourceID: src.ID, Kind: EventLoginAllowed, Subject: "7"}, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return d.UserID
}

// review36CheckUpgraded checks the upgraded database's old rows as an attacker would use them.
func review36CheckUpgraded(t *testing.T, s *Store, uid int64) {
	t.Helper()
	ctx := context.Background()
	live := func(id string) bool {
		_, err := s.LiveAccessToken(ctx, id)
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	for _, id := range []string{"rid0", "rid1", "rid9", "h0", "h1"} {
		if live(id) {
			t.Fatalf("HOLE: after step 23, the old row's %s answers as an access token", id)
		}
	}
	for _, id := range []string{"at0", "at1", "at9"} {
		if !live(id) {
			t.Fatalf("after step 23 the old access token %s is not live", id)
		}
	}
	// The old family goes on: a rotation writes the new layout.
	rt, err := s.RefreshTokenByHash(ctx, "h1")
	if err != nil || !rt.AccessExpires.IsZero() || rt.Rotated || rt.Revoked {
		t.Fatalf("the old live refresh token reads %+v (%v)", rt, err)
	}
	next := *rt
	next.Hash, next.ID, next.AccessExpires = "h2", "at2", time.Now().Add(15*time.Minute)
	if err := s.RotateRefreshToken(ctx, "h1", next); err != nil {
		t.Fatal(err)
	}
	if !live("at2") || live("rid1") {
		t.Fatalf("after rotating the old token: the new access token live %v (want true), the old row's id live %v (want false)", live("at2"), live("rid1"))
	}
	// A reuse of the old family's first token ends old and new access tokens alike.
	reuse := next
	reuse.Hash, reuse.ID = "hx", "atx"
	if err := s.RotateRefreshToken(ctx, "h0", reuse); !errors.Is(err, ErrRefreshReused) {
		t.Fatalf("a reuse of an old rotated token: %v", err)
	}
	for _, id := range []string{"at0", "at1", "at2", "atx"} {
		if live(id) {
			t.Fatalf("HOLE: a refresh reuse of an upgraded family left the access token %s live", id)
		}
	}
	if !live("at9") {
		t.Fatal("HOLE (denial): a reuse of one family ended another family's access token")
	}
	if err := s.SignOutEverywhere(ctx, uid); err != nil {
		t.Fatal(err)
	}
	if live("at9") {
		t.Fatal("HOLE: signing out everywhere left an old access token live")
	}
	if _, err := s.Purge(ctx); err != nil {
		t.Fatalf("purge of an upgraded database: %v", err)
	}
}

func TestReview36UpgradedDatabaseSQLite(t *testing.T) {
	s, dir := open(t)
	uid := review36Person(t, s)
	review36Rewind(t, s, uid)
	s.Close()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	defer s.Close()
	review36CheckUpgraded(t, s, uid)
}

func TestReview36UpgradedDatabasePostgres(t *testing.T) {
	s, _ := openPG(t)
	uid := review36Person(t, s)
	review36Rewind(t, s, uid)
	if err := s.migratePostgres(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	review36CheckUpgraded(t, s, uid)
}
