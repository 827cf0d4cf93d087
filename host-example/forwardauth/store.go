package forwardauth

import (
	"context"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Store is what forward-auth needs of the host's store (*store.Store is one).
type Store interface {
	// MAC is the keyed MAC of value under label (hex).
	MAC(label, value string) string
	// CreateForwardSession stores a session under id for the person of a live host session
	// and answers that person and when it ends.
	CreateForwardSession(ctx context.Context, id, hostSessionID string, life time.Duration) (int64, time.Time, error)
	// ForwardSession is the user of a live session id and when the session ends (store.ErrNotFound: none).
	ForwardSession(ctx context.Context, id string) (*store.User, time.Time, error)
	// DeleteForwardSession ends a session.
	DeleteForwardSession(ctx context.Context, id string) error
	// ForwardRules lists the rules.
	ForwardRules(ctx context.Context) ([]store.ForwardRule, error)
	// User is a user by id (store.ErrNotFound: none).
	User(ctx context.Context, id int64) (*store.User, error)
	// AddEvent records an event.
	AddEvent(ctx context.Context, e store.Event) error
	// UserCredential is a user's handed-over credential of kind (store.ErrNotFound: none).
	UserCredential(ctx context.Context, userID int64, kind string) (*store.Credential, error)
	// CredentialStamp is the stamp of a user's credential of kind ("" when none).
	CredentialStamp(ctx context.Context, userID int64, kind string) (string, error)
	// CreateHandoverCode stores a hand-over code's hash bound to c.
	CreateHandoverCode(ctx context.Context, code string, c store.HandoverCode) error
	// TakeHandoverCode spends a hand-over code and answers its binding (store.ErrNotFound: it
	// unlocks nothing).
	TakeHandoverCode(ctx context.Context, code string) (*store.HandoverCode, error)
	// Changes announces revocations (store.AccessRevoked) and rule changes (store.ForwardRules).
	Changes() *store.Changes
}
