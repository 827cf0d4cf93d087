package plexsim

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// writeJWTError writes a JWT endpoint's error in plex.tv's envelope. Plex documents the
// statuses and messages (498 Token Expired, 422 Signature Verification Failed and Thumbprint
// Already Taken, 400, 429), not the numeric codes: [INFERRED] the code repeats the status.
func writeJWTError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	writeError(w, r, status, status, msg)
}

// registerJWK is POST /api/v2/auth/jwk {"jwk": {…}} with a token (either kind) and the
// device's client identifier: registers the device's public key for that client
// identifier and the token's account. A key (thumbprint) already registered answers 422
// "Thumbprint Already Taken" (documented); [INFERRED] 204 on success, and a new key for a
// client identifier replaces its old one.
func (s *Sim) registerJWK(w http.ResponseWriter, r *http.Request) {
	p, _, ok := s.authed(w, r)
	if !ok {
		return
	}
	cid := plexParam(r, "X-Plex-Client-Identifier")
	if cid == "" {
		writeError(w, r, http.StatusBadRequest, 1000, "X-Plex-Client-Identifier is missing")
		return
	}
	var in struct {
		JWK json.RawMessage `json:"jwk"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil || len(in.JWK) == 0 {
		writeJWTError(w, r, http.StatusBadRequest, "Invalid JWK")
		return
	}
	key, thumb, err := parseDeviceKey(in.JWK)
	if err != nil {
		writeJWTError(w, r, http.StatusBadRequest, "Invalid JWK")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.registerLocked(cid, p.Key, key, thumb); err != nil {
		writeJWTError(w, r, http.StatusUnprocessableEntity, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// errThumbprintTaken is plex.tv's 422 "Thumbprint Already Taken" (Plex's documentation).
var errThumbprintTaken = errors.New("Thumbprint Already Taken")

func (s *Sim) registerLocked(cid, persona string, key jose.JSONWebKey, thumb string) error {
	for _, d := range s.jwt.devices {
		if d.thumb == thumb {
			return errThumbprintTaken
		}
	}
	s.jwt.devices[cid] = &device{clientID: cid, persona: persona, key: key, thumb: thumb}
	return nil
}

// authNonce is GET /api/v2/auth/nonce → {"nonce": …}: valid 5 minutes, rate limited.
func (s *Sim) authNonce(w http.ResponseWriter, r *http.Request) {
	cid := plexParam(r, "X-Plex-Client-Identifier")
	if cid == "" {
		writeError(w, r, http.StatusBadRequest, 1000, "X-Plex-Client-Identifier is missing")
		return
	}
	s.mu.Lock()
	n, ok := s.takeNonceLocked(cid)
	s.mu.Unlock()
	if !ok {
		writeError(w, r, http.StatusTooManyRequests, 1003, "API rate limit exceeded")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"nonce": n})
}

// authToken is POST /api/v2/auth/token {"jwt": <device JWT>} → {"auth_token": <Plex JWT>}.
// The device JWT is verified against the key registered for its issuer (the client
// identifier): no key or a bad signature is 422 "Signature Verification Failed"; a revoked
// device's key is gone, so it is refused the same way.
func (s *Sim) authToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		JWT string `json:"jwt"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil || in.JWT == "" {
		writeJWTError(w, r, http.StatusBadRequest, "Invalid request")
		return
	}
	var iss string
	if tok, err := parseUnverified(in.JWT); err == nil {
		iss = tok
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.jwt.devices[iss]
	if d == nil {
		writeJWTError(w, r, http.StatusUnprocessableEntity, errSignature.Error())
		return
	}
	_, err := s.verifyDeviceJWTLocked(in.JWT, d.clientID, d.key, d.thumb, true)
	if err != nil {
		writeJWTError(w, r, statusOf(err), err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"auth_token": s.issuePlexJWTLocked(d)})
}

func statusOf(err error) int {
	if errors.Is(err, errNonce) {
		return http.StatusBadRequest
	}
	return http.StatusUnprocessableEntity
}

// authKeys is GET /api/v2/auth/keys → {"keys": [Plex's public JWKs]}.
func (s *Sim) authKeys(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	k := jose.JSONWebKey{Key: s.jwt.key.Public(), KeyID: s.jwt.kid, Algorithm: string(jose.EdDSA), Use: "sig"}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"keys": []jose.JSONWebKey{k}})
}

// SetJWTLife sets the life of the Plex JWTs the sim issues from now on (default 7 days).
func (s *Sim) SetJWTLife(d time.Duration) {
	s.mu.Lock()
	s.jwt.life = d
	s.mu.Unlock()
}

// Advance moves the sim's clock forward by d (PIN, nonce and JWT expiry follow it).
func (s *Sim) Advance(d time.Duration) { s.clock.Add(int64(d)) }

// ExpireJWTs makes every Plex JWT issued so far answer 498 "Token Expired" before its exp,
// as a token that expired early (the docs' 498 "to any call"); new ones are unaffected.
func (s *Sim) ExpireJWTs() {
	s.mu.Lock()
	s.jwt.cutoff = s.now()
	s.mu.Unlock()
}

// RevokeDevice removes the device with this client identifier, as an account owner does
// under Authorized Devices: its key is forgotten and every Plex JWT issued to it refused.
func (s *Sim) RevokeDevice(clientID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.jwt.devices[clientID]; d != nil {
		s.jwt.revoked[d.thumb] = true
		delete(s.jwt.devices, clientID)
	}
}

// Devices lists the client identifiers with a registered key, for tests.
func (s *Sim) Devices() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for cid := range s.jwt.devices {
		out = append(out, cid)
	}
	return out
}

// TokenFor returns a legacy token of a persona issued to the device clientID, as a PIN
// login of that device would.
func (s *Sim) TokenFor(key, clientID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.issueLocked(key)
	s.jwt.deviceOf[t] = clientID
	return t
}

// jwtControlHTTP is POST /__sim/jwt {life_seconds?, advance_seconds?, revoke_client_id?}.
func (s *Sim) jwtControlHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Life    int64  `json:"life_seconds"`
		Advance int64  `json:"advance_seconds"`
		Revoke  string `json:"revoke_client_id"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil || in.Life < 0 || in.Advance < 0 {
		http.Error(w, "want {life_seconds, advance_seconds, revoke_client_id}", http.StatusBadRequest)
		return
	}
	if in.Life > 0 {
		s.SetJWTLife(time.Duration(in.Life) * time.Second)
	}
	if in.Advance > 0 {
		s.Advance(time.Duration(in.Advance) * time.Second)
	}
	if in.Revoke != "" {
		s.RevokeDevice(in.Revoke)
	}
	w.WriteHeader(http.StatusNoContent)
}
