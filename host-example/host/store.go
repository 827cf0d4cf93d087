package host

import (
	"context"
	"encoding/json"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Store is the persistence the application layer needs.
type Store interface {
	// AdminStore: the admin's ways in, which turning a source off or deleting it keeps.
	AdminStore

	// Sources.
	CreateSource(ctx context.Context, pluginID, slug, name string) (*store.Source, error)
	Source(ctx context.Context, id string) (*store.Source, error)
	SourceBySlug(ctx context.Context, slug string) (*store.Source, error)
	Sources(ctx context.Context) ([]*store.Source, error)
	SaveConfig(ctx context.Context, id string, cfg json.RawMessage) (int64, error)
	// SaveConfigAt and RenewConfig save only while the settings are still version
	// (store.ErrVersionMoved otherwise); RenewConfig keeps the draft, rebased.
	SaveConfigAt(ctx context.Context, id string, version int64, cfg json.RawMessage) (int64, error)
	RenewConfig(ctx context.Context, id string, version int64, cfg json.RawMessage, rebase func(json.RawMessage) json.RawMessage) (int64, error)
	// The renewal schedule of sources' expiring credentials.
	SourceRenewal(ctx context.Context, id string) (*store.SourceRenewal, error)
	SourceRenewals(ctx context.Context) ([]*store.SourceRenewal, error)
	RenewBy(ctx context.Context, id string, at time.Time) error
	ClaimRenewal(ctx context.Context, id string, lease time.Duration) (bool, error)
	FinishRenewal(ctx context.Context, r store.SourceRenewal) error
	SetEnabled(ctx context.Context, id string, on bool) error
	SaveDraft(ctx context.Context, id string, draft json.RawMessage) error
	DiscardDraft(ctx context.Context, id string) error
	// SourceUsage counts what a source has: people, sessions, grants, credentials.
	SourceUsage(ctx context.Context, sourceID string) (store.SourceUsage, error)

	// Login state between the steps of a login.
	PutLoginState(ctx context.Context, st store.LoginState) (string, error)
	// BoundLoginStarts bounds the login starts stored, per client and in all.
	BoundLoginStarts(ctx context.Context, clientKey string, perClient, total int) (int64, error)
	TakeLoginState(ctx context.Context, sessionID string, kind store.LoginStateKind) (*store.LoginState, error)
	ClaimLoginState(ctx context.Context, sessionID string, kind store.LoginStateKind, id string, hold time.Duration) (*store.LoginState, error)
	ReleaseLoginState(ctx context.Context, id string) error
	DeleteLoginState(ctx context.Context, id string) error

	// Users and what happened.
	User(ctx context.Context, id int64) (*store.User, error)
	// FindUser is the user of a source by subject or username; EventPerson the newest event
	// there of someone by subject or name.
	FindUser(ctx context.Context, sourceID, who string) (*store.User, error)
	EventPerson(ctx context.Context, sourceID, who string) (store.Event, error)
	FinishLoginWith(ctx context.Context, u store.User, allowed store.Event, oldSessionID string, terms store.SessionTerms) (*store.LoginDone, error)
	UsersToCheck(ctx context.Context, sourceID string, before time.Time) ([]*store.User, error)
	MarkChecked(ctx context.Context, id int64) error
	SetDisabled(ctx context.Context, id int64, disabled bool, reason string) error
	AddEvent(ctx context.Context, e store.Event) error
	SignOutEverywhere(ctx context.Context, id int64) error
	SetRevalidation(ctx context.Context, userID int64, state []byte) error
	// A person's identities of other sources (one person across sources, contract 1.6).
	Identities(ctx context.Context, userID int64) ([]store.Identity, error)
	IdentitiesToCheck(ctx context.Context, sourceID string, before time.Time) ([]store.Identity, error)
	MarkIdentityChecked(ctx context.Context, sourceID, sub string) error
	SetIdentityRevalidation(ctx context.Context, sourceID, sub string, state []byte) error
	LeaveSource(ctx context.Context, userID int64, sourceID string) (bool, error)
	IdentityOwner(ctx context.Context, sourceID, sub string) (int64, error)
	LinkCandidates(ctx context.Context) ([]store.LinkCandidate, error)
	LinkPeople(ctx context.Context, keep, retire int64) error
	SourceUsers(ctx context.Context, sourceID string) ([]*store.User, error)
	DeleteUser(ctx context.Context, id int64) error
	DeleteSource(ctx context.Context, id string) error

	// What the admin's pages and the profile read and end of people (People), the apps
	// that may admit them and the events about them.
	SearchUsers(ctx context.Context, q string) ([]*store.User, error)
	UserSessions(ctx context.Context, userID int64) ([]store.UserSession, error)
	UserGrants(ctx context.Context, userID int64) ([]store.Grant, error)
	EndUserSession(ctx context.Context, userID int64, kind store.SessionKind, ref string) error
	RevokeUserGrant(ctx context.Context, userID int64, grantID string) error
	// What the admin sets of a person by hand, and when a source's logins set display attributes.
	SetAdminGroups(ctx context.Context, userID int64, groups []string) error
	SetDisplay(ctx context.Context, userID int64, d store.Display) error
	SetSourceSync(ctx context.Context, id string, sync store.DisplaySync) error
	AppStore
	EventStore
	// AdminStore: the admin's last way in, which disabling or deleting a person must keep.
	AdminStore

	// Credentials logins handed over.
	UserCredentials(ctx context.Context, userID int64) ([]store.Credential, error)
	DeleteUserCredentials(ctx context.Context, userID int64, kinds ...string) error
	DeleteSourceCredentials(ctx context.Context, sourceID, kind string) (int64, error)

	// Guesses of secrets counted across replicas (a guarded login step's choice).
	ClaimGuess(ctx context.Context, key string, max int, window time.Duration) (*store.Guess, error)
	ForgiveGuess(ctx context.Context, g *store.Guess) error

	// Small settings and upkeep.
	Meta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
	// ChangeMeta writes a meta value and reports whether it changed (one replica of several sees it).
	ChangeMeta(ctx context.Context, key, value string) (bool, error)
	Purge(ctx context.Context) (int64, error)
	// RunAlone runs fn unless another replica runs the job of that name (database-wide jobs).
	RunAlone(ctx context.Context, name string, fn func(context.Context)) (bool, error)
}

var _ Store = (*store.Store)(nil)
