// Package plexsim is a simulated plex.tv (and app.plex.tv) for tests, the offline demo
// and load runs: the same paths, headers, status codes, JSON/XML bodies and error
// envelopes as the real service, with personas, fault injection and request counts.
package plexsim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
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

	mux *http.ServeMux
}

// New returns a simulator serving w.
func New(w World) *Sim {
	s := &Sim{world: w, personas: map[string]*Persona{}, tokens: map[string]string{}, pins: map[int64]*pin{},
		faults: map[string]*fault{}, counts: map[string]int{}, failures: map[string]int{}, now: time.Now}
	n, _ := rand.Int(rand.Reader, big.NewInt(899_999_999))
	s.nextPIN = 1_000_000_000 + n.Int64()
	for i := range w.Personas {
		p := &w.Personas[i]
		s.personas[p.Key] = p
	}
	s.routes()
	return s
}

// NewDefault returns a simulator of DefaultWorld.
func NewDefault() *Sim { return New(DefaultWorld()) }

// ServeHTTP serves plex.tv, clients.plex.tv and app.plex.tv paths alike.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

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
	m.HandleFunc("DELETE /api/v2/users/signout", s.wrap("signout", s.signout))
	m.HandleFunc("GET /auth", s.authPage)
	m.HandleFunc("GET /auth/", s.authPage)
	m.HandleFunc("POST /__sim/claim", s.claimHTTP)
	m.HandleFunc("POST /__sim/faults", s.faultsHTTP)
	m.HandleFunc("POST /__sim/latency", s.latencyHTTP)
	m.HandleFunc("GET /__sim/counts", s.countsHTTP)
	m.HandleFunc("POST /__sim/reset", s.resetHTTP)
	m.HandleFunc("GET /__sim/personas", s.personasHTTP)
	s.mux = m
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

// Secrets returns every token issued and every PIN id created so far, for leak checks.
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

// wrap counts the request, applies latency and injected faults.
func (s *Sim) wrap(endpoint string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.counts[endpoint]++
		lat := s.latency
		var mode string
		if f := s.faults[endpoint]; f != nil {
			mode = f.mode
			if f.count > 0 {
				f.count--
				if f.count == 0 {
					delete(s.faults, endpoint)
				}
			}
		}
		s.mu.Unlock()
		if lat > 0 {
			select {
			case <-time.After(lat):
			case <-r.Context().Done():
				return
			}
		}
		switch mode {
		case "":
			h(w, r)
		case FaultRateLimit:
			// plex.tv sends no Retry-After.
			writeError(w, r, http.StatusTooManyRequests, 1003, "API rate limit exceeded")
		case Fault500, Fault503:
			code, _ := strconv.Atoi(mode)
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(code)
			_, _ = w.Write([]byte("<html><body><h1>Server Error</h1></body></html>"))
		case FaultTimeout:
			select {
			case <-r.Context().Done():
			case <-time.After(60 * time.Second):
			}
		case FaultMalformed:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"id": 12, "uuid": "abc", "username": "trunc`))
		case FaultOversized:
			w.Header().Set("Content-Type", "application/json")
			chunk := []byte(strings.Repeat(" ", 1<<16))
			_, _ = w.Write([]byte("["))
			for i := 0; i < 256; i++ { // 16 MiB
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
			_, _ = w.Write([]byte("]"))
		case FaultGone:
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusGone)
			_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Response code="410" status="This endpoint was deprecated and removed"/>`))
		case FaultInvalid:
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<errors> <error>Invalid token</error> </errors>`))
		}
	}
}

// plexParam reads an X-Plex-* value from the header, the query or a urlencoded form.
func plexParam(r *http.Request, name string) string {
	if v := r.Header.Get(name); v != "" {
		return v
	}
	if v := r.URL.Query().Get(name); v != "" {
		return v
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		_ = r.ParseForm()
		return r.PostForm.Get(name)
	}
	return ""
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json") || strings.HasSuffix(r.URL.Path, ".json")
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeXML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + body))
}

// writeError writes plex.tv's error envelope, JSON or XML as the request asks.
func writeError(w http.ResponseWriter, r *http.Request, status, code int, msg string) {
	if wantsJSON(r) {
		writeJSON(w, status, map[string]any{"errors": []map[string]any{{"code": code, "message": msg, "status": status}}})
		return
	}
	writeXML(w, status, fmt.Sprintf(`<errors>  <error code="%d" message="%s" status="%d"/></errors>`, code, xmlEsc(msg), status))
}

func xmlEsc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func b01(v bool) string {
	if v {
		return "1"
	}
	return "0"
}

// authed returns the persona of the request's token, or writes 401.
func (s *Sim) authed(w http.ResponseWriter, r *http.Request) (*Persona, string, bool) {
	tok := plexParam(r, "X-Plex-Token")
	s.mu.Lock()
	key, ok := s.tokens[tok]
	p := s.personas[key]
	s.mu.Unlock()
	if !ok || p == nil {
		writeError(w, r, http.StatusUnauthorized, 1001, "User could not be authenticated")
		return nil, "", false
	}
	return p, tok, true
}

func (s *Sim) createPIN(w http.ResponseWriter, r *http.Request) {
	cid := plexParam(r, "X-Plex-Client-Identifier")
	if cid == "" {
		writeError(w, r, http.StatusBadRequest, 1000, "X-Plex-Client-Identifier is missing")
		return
	}
	strong := r.URL.Query().Get("strong") == "true" || r.URL.Query().Get("strong") == "1"
	if !strong && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		_ = r.ParseForm()
		strong = r.PostForm.Get("strong") == "true"
	}
	p := &pin{clientID: cid, product: plexParam(r, "X-Plex-Product"), strong: strong, created: s.now()}
	if strong {
		p.code = randCode(25, "abcdefghijklmnopqrstuvwxyz0123456789")
		p.expires = p.created.Add(1800 * time.Second)
	} else {
		p.code = randCode(4, "ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
		p.expires = p.created.Add(900 * time.Second)
	}
	s.mu.Lock()
	s.nextPIN++
	p.id = s.nextPIN
	s.pins[p.id] = p
	s.mu.Unlock()
	s.writePIN(w, r, http.StatusCreated, p)
}

func randCode(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		k, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[k.Int64()]
	}
	return string(b)
}

func (s *Sim) writePIN(w http.ResponseWriter, r *http.Request, status int, p *pin) {
	remaining := int(math.Ceil(p.expires.Sub(s.now()).Seconds()))
	if remaining < 0 {
		remaining = 0
	}
	if !wantsJSON(r) {
		writeXML(w, status, fmt.Sprintf(`<pin id="%d" code="%s" product="0" trusted="0" clientIdentifier="%s" expiresIn="%d" createdAt="%s" expiresAt="%s" authToken="%s"/>`,
			p.id, p.code, xmlEsc(p.clientID), remaining, p.created.UTC().Format(time.RFC3339), p.expires.UTC().Format(time.RFC3339), p.token))
		return
	}
	var token, newReg any
	if p.token != "" {
		token, newReg = p.token, false
	}
	writeJSON(w, status, map[string]any{
		"id": p.id, "code": p.code, "product": "0", "trusted": false, "qr": "https://plex.tv/api/v2/pins/qr/" + p.code,
		"clientIdentifier": p.clientID,
		"location": map[string]any{"code": "GB", "european_union_member": false, "continent_code": "EU", "country": "United Kingdom",
			"city": "London", "time_zone": "Europe/London", "postal_code": "N19", "in_privacy_restricted_country": true,
			"in_privacy_restricted_region": true, "subdivisions": "England", "coordinates": "51.000, -1"},
		"expiresIn": remaining, "createdAt": p.created.UTC().Format(time.RFC3339), "expiresAt": p.expires.UTC().Format(time.RFC3339),
		"authToken": token, "newRegistration": newReg,
	})
}

func (s *Sim) checkPIN(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(strings.TrimSuffix(r.PathValue("id"), ".json"), 10, 64)
	cid := plexParam(r, "X-Plex-Client-Identifier")
	if cid == "" {
		writeError(w, r, http.StatusBadRequest, 1000, "X-Plex-Client-Identifier is missing")
		return
	}
	s.mu.Lock()
	p := s.pins[id]
	ok := p != nil && p.clientID == cid && s.now().Before(p.expires)
	var cp pin
	if ok {
		cp = *p
	}
	s.mu.Unlock()
	if !ok {
		// Expired, unknown, or created under another client identifier.
		writeError(w, r, http.StatusNotFound, 1020, "Code not found or expired")
		return
	}
	s.writePIN(w, r, http.StatusOK, &cp)
}

// PINID is the id of the PIN with this code (0 when none), for tests.
func (s *Sim) PINID(code string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, pn := range s.pins {
		if pn.code == code {
			return id
		}
	}
	return 0
}

// Claim approves the PIN with this code as the persona, as app.plex.tv would.
func (s *Sim) Claim(code, persona string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.personas[persona]
	if p == nil {
		return fmt.Errorf("no persona %q", persona)
	}
	if p.Managed {
		return fmt.Errorf("persona %q is a managed profile and cannot sign in at app.plex.tv", persona)
	}
	for _, pn := range s.pins {
		if pn.code == code {
			if !s.now().Before(pn.expires) {
				return fmt.Errorf("code expired")
			}
			pn.token = s.issueLocked(persona)
			return nil
		}
	}
	return fmt.Errorf("code not found")
}

func (s *Sim) userDoc(p *Persona, token string) map[string]any {
	home := p.HomeAdmin || p.HomeOf != ""
	homeSize := p.HomeSize
	if p.HomeOf != "" {
		if a := s.personas[p.HomeOf]; a != nil {
			homeSize = a.HomeSize
		}
	}
	if homeSize == 0 {
		homeSize = 1
	}
	var roles []string
	var status, plan any = "Inactive", nil
	if p.PlexPass {
		roles = []string{"plexpass"}
		status, plan = "Active", "lifetime"
	}
	var locale any
	if p.Locale != "" {
		locale = p.Locale
	}
	doc := map[string]any{
		"id": p.ID, "uuid": p.UUID, "username": p.Username, "title": p.Title, "email": p.Email, "friendlyName": p.Title,
		"locale": locale, "confirmed": p.Confirmed, "emailOnlyAuth": false, "hasPassword": p.Password != "", "protected": p.HomePIN != "",
		"thumb": "https://plex.tv/users/" + p.UUID + "/avatar?c=1700000000", "authToken": token,
		"mailingListStatus": nil, "mailingListActive": false, "scrobbleTypes": "", "country": "GB",
		"subscription": map[string]any{"active": p.PlexPass, "subscribedAt": nil, "status": status, "paymentService": nil, "plan": plan,
			"features": []string{"home", "adaptive_bitrate"}},
		"subscriptionDescription": nil, "restricted": p.Managed, "anonymous": nil, "home": home, "guest": false,
		"homeSize": homeSize, "homeAdmin": p.HomeAdmin, "maxHomeSize": 15, "rememberExpiresAt": nil,
		"profile":      map[string]any{"autoSelectAudio": true, "defaultAudioLanguage": nil},
		"entitlements": []string{}, "services": []map[string]any{{"identifier": "epg", "endpoint": "https://epg.provider.plex.tv", "token": token, "status": "online"}},
		"twoFactorEnabled": p.TOTP != "", "backupCodesCreated": p.TOTP != "", "joinedAt": 1339124759,
	}
	if roles != nil {
		doc["roles"] = roles
	}
	if p.HomePIN != "" {
		doc["pin"] = "5f4dcc3b5aa765d61d8327deb882cf99"
	}
	return doc
}

func (s *Sim) user(w http.ResponseWriter, r *http.Request) {
	p, tok, ok := s.authed(w, r)
	if !ok {
		return
	}
	if !wantsJSON(r) {
		writeXML(w, http.StatusOK, fmt.Sprintf(`<user id="%d" uuid="%s" username="%s" title="%s" email="%s" confirmed="%s" restricted="%s" home="%s" homeAdmin="%s" thumb="%s"/>`,
			p.ID, p.UUID, xmlEsc(p.Username), xmlEsc(p.Title), xmlEsc(p.Email), b01(p.Confirmed), b01(p.Managed), b01(p.HomeAdmin || p.HomeOf != ""), b01(p.HomeAdmin),
			"https://plex.tv/users/"+p.UUID+"/avatar"))
		return
	}
	s.mu.Lock()
	doc := s.userDoc(p, tok)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, doc)
}

func (s *Sim) serverByID(mid string) *Server {
	for i := range s.world.Servers {
		if s.world.Servers[i].MachineID == mid {
			return &s.world.Servers[i]
		}
	}
	return nil
}

func (s *Sim) resources(w http.ResponseWriter, r *http.Request) {
	p, _, ok := s.authed(w, r)
	if !ok {
		return
	}
	var out []map[string]any
	add := func(srv Server, owned, home bool) {
		owner := s.personas[srv.Owner]
		var ownerID, sourceTitle any
		if !owned && owner != nil {
			ownerID, sourceTitle = owner.ID, owner.Username
		}
		out = append(out, map[string]any{
			"name": srv.Name, "product": srv.Product, "productVersion": "1.43.3.10828-00f62d37d", "platform": "Linux",
			"platformVersion": "6.17", "device": "Docker Container", "clientIdentifier": srv.MachineID,
			"createdAt": "2017-07-19T03:29:26Z", "lastSeenAt": "2026-11-20T19:47:43Z", "provides": "server",
			"ownerId": ownerID, "sourceTitle": sourceTitle, "publicAddress": nil, "accessToken": "srv" + srv.MachineID[:8],
			"owned": owned, "home": home, "synced": false, "relay": false, "presence": true, "httpsRequired": false,
			"publicAddressMatches": true, "dnsRebindingProtection": true, "natLoopbackSupported": true, "searchEnabled": true,
			"connections": []map[string]any{{"IPv6": false, "address": "10.0.0.10", "local": true, "port": 32400, "protocol": "https",
				"relay": false, "uri": "https://10-0-0-10." + srv.MachineID + ".plex.direct:32400"}},
		})
	}
	for _, e := range s.resourceList(p) {
		add(e.srv, e.owned, e.home)
	}
	// Every account has a player; players are owned too and provide no server.
	out = append(out, map[string]any{"name": "Chrome", "product": "Plex Web", "productVersion": "4.145", "platform": "Chrome",
		"clientIdentifier": "player-" + p.UUID, "provides": "client,player,pubsub-player", "owned": true, "home": false,
		"ownerId": nil, "sourceTitle": nil, "presence": false, "lastSeenAt": "2026-11-20T19:47:43Z", "connections": []any{}})
	if !wantsJSON(r) {
		writeXML(w, http.StatusOK, resourcesXML(out))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// resourcesXML renders v2 resources as python-plexapi reads them: <resource> with <connections>.
func resourcesXML(list []map[string]any) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<MediaContainer size="%d">`, len(list))
	for _, r := range list {
		b.WriteString("\n  <resource")
		for _, k := range []string{"name", "product", "productVersion", "platform", "clientIdentifier", "provides", "ownerId", "sourceTitle", "owned", "home", "presence", "lastSeenAt"} {
			v, ok := r[k]
			if !ok || v == nil {
				continue
			}
			if bv, isBool := v.(bool); isBool {
				v = b01(bv)
			}
			fmt.Fprintf(&b, ` %s="%s"`, k, xmlEsc(fmt.Sprint(v)))
		}
		b.WriteString("><connections>")
		if conns, ok := r["connections"].([]map[string]any); ok {
			for _, c := range conns {
				fmt.Fprintf(&b, `<connection protocol="%v" address="%v" port="%v" uri="%v" local="%s"/>`, c["protocol"], c["address"], c["port"], c["uri"], b01(c["local"] == true))
			}
		}
		b.WriteString("</connections></resource>")
	}
	b.WriteString("\n</MediaContainer>")
	return b.String()
}

func (s *Sim) sharedUsers(w http.ResponseWriter, r *http.Request) {
	p, _, ok := s.authed(w, r)
	if !ok {
		return
	}
	type entry struct {
		p      *Persona
		shares []Share
	}
	users := map[string]*entry{}
	get := func(key string) *entry {
		if users[key] == nil {
			users[key] = &entry{p: s.personas[key]}
		}
		return users[key]
	}
	for _, sh := range s.shares() {
		if srv := s.serverByID(sh.MachineID); srv != nil && srv.Owner == p.Key {
			e := get(sh.User)
			e.shares = append(e.shares, sh)
		}
	}
	for _, f := range s.world.Friends[p.Key] {
		get(f)
	}
	for _, q := range s.world.Personas {
		if q.HomeOf == p.Key {
			get(q.Key)
		}
	}
	keys := make([]string, 0, len(users))
	for k := range users {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, `<MediaContainer friendlyName="myPlex" identifier="com.plexapp.plugins.myplex" machineIdentifier="%s" totalSize="%d" size="%d">`, ServerLivingRoom, len(keys), len(keys))
	for _, k := range keys {
		e := users[k]
		q := e.p
		fmt.Fprintf(&b, "\n  "+`<User id="%d" title="%s" username="%s" email="%s" recommendationsPlaylistId="" thumb="https://plex.tv/users/%s/avatar?c=1700000000" protected="%s" home="%s" allowTuners="0" allowSync="1" allowCameraUpload="0" allowChannels="0" allowSubtitleAdmin="0" filterAll="" filterMovies="" filterMusic="" filterPhotos="" filterTelevision="" restricted="%s">`,
			q.ID, xmlEsc(q.Title), xmlEsc(q.Username), xmlEsc(q.Email), q.UUID, b01(q.HomePIN != ""), b01(q.HomeOf == p.Key), b01(q.Managed))
		for i, sh := range e.shares {
			srv := s.serverByID(sh.MachineID)
			fmt.Fprintf(&b, "\n    "+`<Server id="%d" serverId="%d" machineIdentifier="%s" name="%s" lastSeenAt="1763600000" numLibraries="3" allLibraries="1" owned="1" pending="%s"/>`,
				5558590+i, 8035120+i, srv.MachineID, xmlEsc(srv.Name), b01(sh.Pending))
		}
		b.WriteString("\n  </User>")
	}
	b.WriteString("\n</MediaContainer>")
	writeXML(w, http.StatusOK, b.String())
}

func (s *Sim) homeUsers(w http.ResponseWriter, r *http.Request) {
	p, _, ok := s.authed(w, r)
	if !ok {
		return
	}
	a, members := s.home(p)
	if a == nil {
		writeXML(w, http.StatusOK, `<MediaContainer size="0" friendlyName="myPlex" identifier="com.plexapp.plugins.myplex"/>`)
		return
	}
	admin := a.Key
	var b strings.Builder
	fmt.Fprintf(&b, `<MediaContainer size="%d" friendlyName="%s's Home" identifier="com.plexapp.plugins.myplex">`, len(members), xmlEsc(a.Title))
	for _, m := range members {
		rp := ""
		if m.Managed {
			rp = ` restrictionProfile="little_kid"`
		}
		fmt.Fprintf(&b, "\n  "+`<User id="%d" uuid="%s" admin="%s" guest="0" restricted="%s"%s protected="%s" title="%s" username="%s" email="%s" thumb="https://plex.tv/users/%s/avatar"/>`,
			m.ID, m.UUID, b01(m.Key == admin), b01(m.Managed), rp, b01(m.HomePIN != "" || m.Key == admin), xmlEsc(m.Title), xmlEsc(m.Username), xmlEsc(m.Email), m.UUID)
	}
	b.WriteString("\n</MediaContainer>")
	writeXML(w, http.StatusOK, b.String())
}

func (s *Sim) sharedServers(w http.ResponseWriter, r *http.Request) {
	p, _, ok := s.authed(w, r)
	if !ok {
		return
	}
	srv := s.serverByID(r.PathValue("mid"))
	if srv == nil || srv.Owner != p.Key {
		writeError(w, r, http.StatusUnauthorized, 1001, "User could not be authenticated")
		return
	}
	var b strings.Builder
	b.WriteString(`<MediaContainer friendlyName="myPlex" identifier="com.plexapp.plugins.myplex">`)
	for i, sh := range s.shares() {
		if sh.MachineID != srv.MachineID {
			continue
		}
		q := s.personas[sh.User]
		accepted := "1700000000"
		if sh.Pending {
			accepted = ""
		}
		fmt.Fprintf(&b, "\n  "+`<SharedServer id="%d" username="%s" email="%s" userID="%d" accessToken="shr%d" name="%s" acceptedAt="%s" invitedAt="1690000000" allowSync="1" owned="1" allLibraries="1"><Section id="1" key="1" title="Films" type="movie" shared="1"/></SharedServer>`,
			9000+i, xmlEsc(q.Username), xmlEsc(q.Email), q.ID, 9000+i, xmlEsc(srv.Name), accepted)
	}
	b.WriteString("\n</MediaContainer>")
	writeXML(w, http.StatusOK, b.String())
}

func (s *Sim) friends(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	legacy := s.friendsOK
	s.mu.Unlock()
	if !legacy {
		w.WriteHeader(http.StatusGone)
		return
	}
	p, _, ok := s.authed(w, r)
	if !ok {
		return
	}
	out := []map[string]any{}
	for _, k := range s.world.Friends[p.Key] {
		q := s.personas[k]
		out = append(out, map[string]any{"id": q.ID, "uuid": q.UUID, "username": q.Username, "email": q.Email, "title": q.Title, "status": "accepted"})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Sim) signin(w http.ResponseWriter, r *http.Request) {
	if plexParam(r, "X-Plex-Client-Identifier") == "" {
		writeError(w, r, http.StatusBadRequest, 1000, "X-Plex-Client-Identifier is missing")
		return
	}
	_ = r.ParseForm()
	login, password, code := r.PostForm.Get("login"), r.PostForm.Get("password"), r.PostForm.Get("verificationCode")
	s.mu.Lock()
	if s.failures[strings.ToLower(login)] >= 5 {
		s.mu.Unlock()
		writeError(w, r, http.StatusUnauthorized, 1031, "User could not be authenticated. This IP appears to be having trouble signing in to an account (detected repeated failures)")
		return
	}
	var p *Persona
	for i := range s.world.Personas {
		q := &s.world.Personas[i]
		if login != "" && (strings.EqualFold(q.Username, login) || strings.EqualFold(q.Email, login)) {
			p = q
		}
	}
	if p == nil || p.Password == "" || p.Password != password {
		// Password-less (Google/Apple) accounts get the same answer as a wrong password.
		s.failures[strings.ToLower(login)]++
		s.mu.Unlock()
		writeError(w, r, http.StatusUnauthorized, 1001, "User could not be authenticated")
		return
	}
	if p.TOTP != "" && code != p.TOTP {
		if code != "" {
			s.failures[strings.ToLower(login)]++
		}
		s.mu.Unlock()
		writeError(w, r, http.StatusUnauthorized, 1029, "Please enter the verification code")
		return
	}
	delete(s.failures, strings.ToLower(login))
	tok := s.issueLocked(p.Key)
	doc := s.userDoc(p, tok)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, doc)
}

func (s *Sim) switchUser(w http.ResponseWriter, r *http.Request) {
	p, _, ok := s.authed(w, r)
	if !ok {
		return
	}
	target := r.PathValue("uuid")
	var q *Persona
	for i := range s.world.Personas {
		c := &s.world.Personas[i]
		if c.UUID == target || strconv.FormatInt(c.ID, 10) == target {
			q = c
		}
	}
	admin := p.Key
	if p.HomeOf != "" {
		admin = p.HomeOf
	}
	if q == nil || (q.HomeOf != admin && q.Key != admin) {
		writeError(w, r, http.StatusNotFound, 1002, "User not found")
		return
	}
	if q.HomePIN != "" && r.URL.Query().Get("pin") != q.HomePIN {
		writeError(w, r, http.StatusForbidden, 1041, "A valid PIN is required to perform this action")
		return
	}
	s.mu.Lock()
	tok := s.issueLocked(q.Key)
	doc := s.userDoc(q, tok)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, doc)
}

func (s *Sim) ping(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := s.authed(w, r); !ok {
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]bool{"pong": true})
		return
	}
	writeXML(w, http.StatusOK, `<pong>true</pong>`)
}

func (s *Sim) signout(w http.ResponseWriter, r *http.Request) {
	_, tok, ok := s.authed(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	delete(s.tokens, tok)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// ForwardURL extracts forwardUrl from an app.plex.tv auth URL (its fragment).
func ForwardURL(authURL string) (code, forward string, err error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return "", "", err
	}
	frag := strings.TrimPrefix(strings.TrimPrefix(u.Fragment, "!"), "?")
	q, err := url.ParseQuery(frag)
	if err != nil {
		return "", "", err
	}
	return q.Get("code"), q.Get("forwardUrl"), nil
}
