package store

import (
	"context"
	"testing"
	"time"
)

// A hand-over code is stored only as its hash, and the purge drops it once it expired.
func TestHandoverCodesStoredHashedAndPurged(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	src, err := s.CreateSource(ctx, "plex", "plex", "Plex")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetEnabled(ctx, src.ID, true); err != nil {
		t.Fatal(err)
	}
	done, err := s.FinishLogin(ctx, User{SourceID: src.ID, Subject: "1", Username: "frank"}, Event{Kind: EventLoginAllowed}, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	code := "code-" + RandomID(16)
	if err := s.CreateHandoverCode(ctx, code, HandoverCode{UserID: done.UserID, SessionID: hashToken(done.Token),
		Origin: "https://web.example.test", StateHash: "st"}); err != nil {
		t.Fatal(err)
	}
	var stored, raw int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN code_hash = ? THEN 1 ELSE 0 END), 0) FROM handover_codes`,
		code).Scan(&stored, &raw); err != nil {
		t.Fatal(err)
	}
	if stored != 1 || raw != 0 {
		t.Fatalf("%d codes stored, %d of them as they are", stored, raw)
	}
	now := time.Now().Add(HandoverCodeLife)
	s.SetClock(func() time.Time { return now })
	if _, err := s.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM handover_codes`).Scan(&stored); err != nil || stored != 0 {
		t.Fatalf("%d codes after the purge (%v)", stored, err)
	}
}
