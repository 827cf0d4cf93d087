package plexsim

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

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
	// A PIN carrying a device key: JSON {"jwk": {…}, "strong": true} (Plex's documentation,
	// JWT Authentication; python-plexapi MyPlexJWTLogin._getCode).
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var in struct {
			JWK    json.RawMessage `json:"jwk"`
			Strong bool            `json:"strong"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
			writeJWTError(w, r, http.StatusBadRequest, "Invalid request")
			return
		}
		p.strong = p.strong || in.Strong
		strong = p.strong
		if len(in.JWK) > 0 {
			key, thumb, err := parseDeviceKey(in.JWK)
			if err != nil {
				writeJWTError(w, r, http.StatusBadRequest, "Invalid JWK")
				return
			}
			p.jwk, p.thumb = &key, thumb
		}
	}
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
	var err error
	if ok {
		err = s.redeemKeyPINLocked(p, r.URL.Query().Get("deviceJWT"))
		cp = *p
	}
	s.mu.Unlock()
	if !ok {
		// Expired, unknown, or created under another client identifier.
		writeError(w, r, http.StatusNotFound, 1020, "Code not found or expired")
		return
	}
	if err != nil {
		writeJWTError(w, r, statusOf(err), err.Error())
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
			if pn.jwk != nil {
				// Approving a PIN that carries a device key registers the key for the PIN's
				// client identifier; the poll's deviceJWT then gets a Plex JWT.
				if err := s.registerLocked(pn.clientID, persona, *pn.jwk, pn.thumb); err != nil {
					return err
				}
				pn.claimant = persona
				return nil
			}
			pn.token = s.issueLocked(persona)
			s.jwt.deviceOf[pn.token] = pn.clientID
			return nil
		}
	}
	return fmt.Errorf("code not found")
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
	s.jwt.deviceOf[tok] = plexParam(r, "X-Plex-Client-Identifier")
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

// redeemKeyPINLocked gives an approved PIN carrying a device key its Plex JWT when polled
// with a deviceJWT signed by that key (python-plexapi MyPlexJWTLogin._checkLogin: GET
// /api/v2/pins/{id}?deviceJWT=…). [INFERRED] Until then, or without a deviceJWT, its
// authToken stays null; a deviceJWT that does not verify answers as the token exchange does.
func (s *Sim) redeemKeyPINLocked(p *pin, deviceJWT string) error {
	if p.jwk == nil || p.token != "" || deviceJWT == "" {
		return nil
	}
	_, err := s.verifyDeviceJWTLocked(deviceJWT, p.clientID, *p.jwk, p.thumb, p.claimant != "")
	if err != nil || p.claimant == "" {
		return err
	}
	d := s.jwt.devices[p.clientID]
	if d == nil || d.thumb != p.thumb {
		return errSignature // revoked, or re-keyed, since the approval
	}
	p.token = s.issuePlexJWTLocked(d)
	return nil
}
