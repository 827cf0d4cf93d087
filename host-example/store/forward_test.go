package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Issue 17 #11: a user keeps at most MaxForwardSessions forward-auth sessions; minting one
// more ends the oldest (and counts as a revocation, so caches recheck); others' are kept.
func TestForwardSessionsCappedPerUser(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	src := enabledSource(t, s, "slug")
	alice, bob := userID(t, s, src, "1"), userID(t, s, src, "2")
	mint := func(userID int64) (string, error) {
		_, sess, err := s.CreateSession(ctx, userID, false, time.Hour)
		if err != nil {
			return "", err
		}
		id := RandomID(32)
		_, _, err = s.CreateForwardSession(ctx, id, sess.ID, time.Hour)
		return id, err
	}
	bobTok, err := mint(bob)
	if err != nil {
		t.Fatal(err)
	}
	var toks []string
	for range MaxForwardSessions {
		tok, err := mint(alice)
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	before := s.Changes().Version(AccessRevoked)
	tok, err := mint(alice)
	if err != nil {
		t.Fatal(err)
	}
	toks = append(toks, tok)
	if s.Changes().Version(AccessRevoked) == before {
		t.Error("ending the oldest session was not counted as a revocation")
	}
	live := func(tok string) bool {
		_, _, err := s.ForwardSession(ctx, tok)
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	if live(toks[0]) {
		t.Error("the oldest session outlived the cap")
	}
	for i, tok := range toks[1:] {
		if !live(tok) {
			t.Errorf("session %d of the newest %d ended", i+1, MaxForwardSessions)
		}
	}
	if !live(bobTok) {
		t.Error("another user's session ended")
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM forward_sessions WHERE user_id = ?`, alice).Scan(&n); err != nil || n != MaxForwardSessions {
		t.Fatalf("%d rows (%v), want %d", n, err, MaxForwardSessions)
	}
}

// A rule's "allow encoded slashes" option is stored and read back.
func TestForwardRuleEncodedSlashOption(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	id, err := s.PutForwardRule(ctx, ForwardRule{Host: "mq.example.test", AllowEncodedSlash: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutForwardRule(ctx, ForwardRule{Host: "app.example.test"}); err != nil {
		t.Fatal(err)
	}
	rules, err := s.ForwardRules(ctx)
	if err != nil || len(rules) != 2 {
		t.Fatalf("%+v %v", rules, err)
	}
	for _, r := range rules {
		if r.AllowEncodedSlash != (r.ID == id) {
			t.Errorf("%s: AllowEncodedSlash %v", r.Host, r.AllowEncodedSlash)
		}
	}
}
