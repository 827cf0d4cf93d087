// Package plexsim is a simulated plex.tv (and app.plex.tv) for tests, the offline demo
// and load runs: the same paths, headers, status codes, JSON/XML bodies and error
// envelopes as the real service, with personas, fault injection and request counts.
package plexsim

import (
	"crypto/rand"
	"encoding/hex"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Fault modes for Inject.
const (
	FaultRateLimit = "429"
	Fault500       = "500"
	Fault503       = "503"
	FaultTimeout   = "timeout"
	FaultMalformed = "malformed"
	FaultOversized = "oversized"
	FaultGone      = "410"
	FaultInvalid   = "422"
)

type fault struct {
	mode  string
	count int // < 0: forever
}

type pin struct {
	id       int64
	code     string
	clientID string
	product  string
	strong   bool
	created  time.Time
	expires  time.Time
	token    string
	jwk      *jose.JSONWebKey // a strong PIN's device key (JWT flow); nil for a classic PIN
	thumb    string           // its thumbprint
	claimant string           // who approved a PIN carrying a key (its token comes with the poll's deviceJWT)
}

// Sim is a simulated plex.tv. Create it with New; it is an http.Handler.
type Sim struct {
	world World

	mu        sync.Mutex
	personas  map[string]*Persona
	tokens    map[string]string // token → persona key
	pins      map[int64]*pin
	nextPIN   int64
	faults    map[string]*fault
	latency   time.Duration
	counts    map[string]int
	failures  map[string]int // signin failures per login
	dead      []string       // tokens issued already revoked
	friendsOK bool           // serve the legacy /api/v2/friends array instead of 410
	now       func() time.Time
	publicURL string // base URL clients reach the sim at; "" = unknown
	serverKey []byte // HMAC key of the per-(user, server) access tokens
	jwt       jwtState
	clock     atomic.Int64 // nanoseconds the sim's clock is ahead of the real one (Advance)

	handler http.Handler
}

// New returns a simulator serving w.
func New(w World) *Sim {
	s := &Sim{world: w, personas: map[string]*Persona{}, tokens: map[string]string{}, pins: map[int64]*pin{},
		faults: map[string]*fault{}, counts: map[string]int{}, failures: map[string]int{}, jwt: newJWTState()}
	s.now = func() time.Time { return time.Now().Add(time.Duration(s.clock.Load())) }
	n, _ := rand.Int(rand.Reader, big.NewInt(899_999_999))
	s.nextPIN = 1_000_000_000 + n.Int64()
	s.serverKey = make([]byte, 32)
	_, _ = rand.Read(s.serverKey)
	for i := range w.Personas {
		p := &w.Personas[i]
		s.personas[p.Key] = p
	}
	s.routes()
	return s
}

// NewDefault returns a simulator of DefaultWorld.
func NewDefault() *Sim { return New(DefaultWorld()) }

// ServeHTTP serves plex.tv, clients.plex.tv and app.plex.tv paths alike, the simulated
// Plex Media Servers under /pms/{machineID}/ and the simulated Plex Web under /web/.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// SetPublicURL tells the sim the base URL clients reach it at (scheme://host[:port], no
// trailing slash): resources then point at its simulated servers there, and Plex Web calls it.
func (s *Sim) SetPublicURL(u string) {
	s.mu.Lock()
	s.publicURL = strings.TrimRight(u, "/")
	s.mu.Unlock()
}

// PublicURL is the base URL set by SetPublicURL ("" when unset).
func (s *Sim) PublicURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.publicURL
}

// PMSURL is the base URL of the simulated Plex Media Server with this machine identifier
// ("" when the public URL is unset).
func (s *Sim) PMSURL(machineID string) string {
	base := s.PublicURL()
	if base == "" {
		return ""
	}
	return base + PMSPrefix + machineID
}

func (s *Sim) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /api/v2/pins", s.wrap("pins.create", s.createPIN))
	m.HandleFunc("POST /api/v2/pins.json", s.wrap("pins.create", s.createPIN))
	m.HandleFunc("GET /api/v2/pins/{id}", s.wrap("pins.check", s.checkPIN))
	m.HandleFunc("GET /api/v2/user", s.wrap("user", s.user))
	m.HandleFunc("GET /api/v2/resources", s.wrap("resources", s.resources))
	m.HandleFunc("GET /api/resources", s.wrap("resources.legacy", s.legacyResources))
	m.HandleFunc("GET /users/account", s.wrap("account.legacy", s.legacyAccount))
	m.HandleFunc("GET /users/account.json", s.wrap("account.legacy", s.legacyAccount))
	m.HandleFunc("POST /users/sign_in.json", s.wrap("signin.legacy", s.legacySignIn))
	m.HandleFunc("GET /api/v2/home/users", s.wrap("home.users.v2", s.homeUsersV2))
	m.HandleFunc("PUT /api/v2/pins/link", s.wrap("pins.link", s.linkPIN))
	m.HandleFunc("PUT /api/v2/pins/link.json", s.wrap("pins.link", s.linkPIN))
	m.HandleFunc("GET /api/users", s.wrap("users", s.sharedUsers))
	m.HandleFunc("GET /api/home/users", s.wrap("home.users", s.homeUsers))
	m.HandleFunc("GET /api/servers/{mid}/shared_servers", s.wrap("shared_servers", s.sharedServers))
	m.HandleFunc("GET /api/v2/friends", s.wrap("friends", s.friends))
	m.HandleFunc("POST /api/v2/users/signin", s.wrap("signin", s.signin))
	m.HandleFunc("POST /api/v2/home/users/{uuid}/switch", s.wrap("switch", s.switchUser))
	m.HandleFunc("GET /api/v2/ping", s.wrap("ping", s.ping))
	m.HandleFunc("POST /api/v2/auth/jwk", s.wrap("auth.jwk", s.registerJWK))
	m.HandleFunc("GET /api/v2/auth/nonce", s.wrap("auth.nonce", s.authNonce))
	m.HandleFunc("POST /api/v2/auth/token", s.wrap("auth.token", s.authToken))
	m.HandleFunc("GET /api/v2/auth/keys", s.wrap("auth.keys", s.authKeys))
	m.HandleFunc("POST /__sim/jwt", s.jwtControlHTTP)
	m.HandleFunc("GET /users/{uuid}/avatar", s.avatar)
	m.HandleFunc("DELETE /api/v2/users/signout", s.wrap("signout", s.signout))
	m.HandleFunc("GET /auth", s.authPage)
	m.HandleFunc("GET /auth/", s.authPage)
	m.HandleFunc("POST /__sim/claim", s.claimHTTP)
	m.HandleFunc("POST /__sim/faults", s.faultsHTTP)
	m.HandleFunc("POST /__sim/latency", s.latencyHTTP)
	m.HandleFunc("GET /__sim/counts", s.countsHTTP)
	m.HandleFunc("POST /__sim/reset", s.resetHTTP)
	m.HandleFunc("GET /__sim/personas", s.personasHTTP)
	m.HandleFunc("GET "+PMSPrefix+"{mid}/identity", s.wrap("pms.identity", s.pmsIdentity))
	m.HandleFunc("GET "+PMSPrefix+"{mid}/library/sections", s.wrap("pms.sections", s.pmsSections))
	m.HandleFunc("GET /web", webRedirect)
	m.HandleFunc("GET /web/{$}", webRedirect)
	m.HandleFunc("GET /web/index.html", s.webPage)
	m.HandleFunc("GET /web/app.js", s.webScript)
	m.HandleFunc("GET /web/app.css", webStyle)
	s.handler = withCORS(m)
}

// SetLatency delays every API answer by d.
func (s *Sim) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// Inject makes the next count requests to endpoint fail with mode (count < 0: until cleared).
func (s *Sim) Inject(endpoint, mode string, count int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if count == 0 {
		delete(s.faults, endpoint)
		return
	}
	s.faults[endpoint] = &fault{mode: mode, count: count}
}

// ClearFaults removes every injected fault.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	s.faults = map[string]*fault{}
	s.mu.Unlock()
}

// SetLegacyFriends serves the pre-2026 /api/v2/friends array instead of 410.
func (s *Sim) SetLegacyFriends(on bool) {
	s.mu.Lock()
	s.friendsOK = on
	s.mu.Unlock()
}

// Counts returns the number of requests per endpoint name.
func (s *Sim) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// ResetCounts zeroes the request counts.
func (s *Sim) ResetCounts() {
	s.mu.Lock()
	s.counts = map[string]int{}
	s.mu.Unlock()
}

// Token returns a valid token of a persona, as if it had signed in.
func (s *Sim) Token(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueLocked(key)
}

// Secrets returns every token issued, every per-server access token and every PIN id
// created so far, for leak checks.
func (s *Sim) Secrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for t := range s.tokens {
		out = append(out, t)
	}
	for id := range s.pins {
		out = append(out, strconv.FormatInt(id, 10))
	}
	for _, p := range s.world.Personas {
		for _, srv := range s.world.Servers {
			out = append(out, s.ServerToken(p.Key, srv.MachineID))
		}
	}
	out = append(out, s.jwt.issued...)
	return append(out, s.dead...)
}

// SetShare adds or removes a share of a server with a persona.
func (s *Sim) SetShare(user, machineID string, shared bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var kept []Share
	for _, sh := range s.world.Shares {
		if !(sh.User == user && sh.MachineID == machineID) {
			kept = append(kept, sh)
		}
	}
	if shared {
		kept = append(kept, Share{User: user, MachineID: machineID})
	}
	s.world.Shares = kept
}

func (s *Sim) shares() []Share {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Share(nil), s.world.Shares...)
}

// AddToken makes token a valid token of a persona (for a demo's fixed owner token).
func (s *Sim) AddToken(key, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = key
}

// ExpirePINs makes every PIN expire now.
func (s *Sim) ExpirePINs() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pins {
		p.expires = s.now().Add(-time.Second)
	}
}

// RevokeTokens invalidates every token issued to a persona.
func (s *Sim) RevokeTokens(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t, k := range s.tokens {
		if k == key {
			delete(s.tokens, t)
			s.dead = append(s.dead, t)
		}
	}
}

func (s *Sim) issueLocked(key string) string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	t := "sim" + hex.EncodeToString(b)
	p := s.personas[key]
	if p != nil && !p.Revoked {
		s.tokens[t] = key
	} else {
		s.dead = append(s.dead, t)
	}
	return t
}
