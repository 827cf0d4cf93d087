package forwardauth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// A forward-auth cookie token is a random 32-byte id (hex) and the first 32 hex digits of
// its MAC (Store.MAC under tokenLabel), joined by a dot: a forged token is refused without
// a database read. The store keeps the session under the SHA-256 of the id (hex), so a copy
// of the database holds no working cookie.

// tokenLabel is the MAC label of forward-auth tokens.
const tokenLabel = "forward"

// tokenMAC is the MAC part of the token of id.
func tokenMAC(st Store, id string) string { return st.MAC(tokenLabel, id)[:32] }

// storedID is the id the store keeps a session under.
func storedID(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// StartSession starts a forward-auth session for the person of the host session
// hostSessionID (only while it lives: store.ErrAccessEnded otherwise) and returns its cookie
// token and when it ends.
func StartSession(ctx context.Context, st Store, hostSessionID string, life time.Duration) (string, time.Time, error) {
	id := store.RandomID(32)
	_, exp, err := st.CreateForwardSession(ctx, storedID(id), hostSessionID, life)
	if err != nil {
		return "", time.Time{}, err
	}
	return id + "." + tokenMAC(st, id), exp, nil
}

// SessionID is the stored session id of a well-formed token ("" for a forged one).
func SessionID(st Store, token string) string {
	id, mac, ok := strings.Cut(token, ".")
	if !ok || len(id) != 64 || len(mac) != 32 || !hmac.Equal([]byte(mac), []byte(tokenMAC(st, id))) {
		return ""
	}
	return storedID(id)
}
