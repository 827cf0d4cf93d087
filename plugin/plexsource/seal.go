package plexsource

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync"
	"time"
)

// sealVersion is the first byte of every sealed state.
const sealVersion = 1

// sealer seals the states an instance hands to its host (AES-256-GCM under the instance's
// state key, bound to the instance and the state's purpose, with an expiry). Sealing makes a
// state unreadable and unforgeable; single use stays the host's duty.
type sealer struct {
	aead cipher.AEAD
}

// sealedState is the envelope of every sealed state.
type sealedState struct {
	// Nonce identifies the state for the plugin's in-memory replay checks.
	Nonce   string          `json:"n"`
	Expires int64           `json:"exp"`
	Data    json.RawMessage `json:"d"`
}

// newSealer returns the sealer of a config's base64 key.
func newSealer(key string) (*sealer, error) {
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(k) != 32 {
		return nil, errors.New("state key must be 32 bytes")
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

func sealAAD(purpose, instanceID string) []byte {
	return []byte("plex-source/state/v1|" + purpose + "|" + instanceID)
}

// seal encrypts v for purpose and instance, valid until exp; it returns the state and its nonce.
func (s *sealer) seal(purpose, instanceID string, exp time.Time, v any) ([]byte, string) {
	data, _ := json.Marshal(v)
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	env, _ := json.Marshal(sealedState{Nonce: hex.EncodeToString(id), Expires: exp.Unix(), Data: data})
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := append([]byte{sealVersion}, nonce...)
	return s.aead.Seal(out, nonce, env, sealAAD(purpose, instanceID)), hex.EncodeToString(id)
}

// errStateExpired is a sealed state past its expiry.
var errStateExpired = errors.New("state expired")

// open decrypts a state of purpose and instance into v and returns its nonce; a state of
// another instance or purpose, altered, or unsealed fails.
func (s *sealer) open(purpose, instanceID string, b []byte, v any) (string, error) {
	ns := s.aead.NonceSize()
	if len(b) < 1+ns+s.aead.Overhead() || b[0] != sealVersion {
		return "", errors.New("state is not sealed")
	}
	plain, err := s.aead.Open(nil, b[1:1+ns], b[1+ns:], sealAAD(purpose, instanceID))
	if err != nil {
		return "", errors.New("state does not open")
	}
	var env sealedState
	if err := json.Unmarshal(plain, &env); err != nil {
		return "", errors.New("state unreadable")
	}
	if time.Now().Unix() > env.Expires {
		return env.Nonce, errStateExpired
	}
	return env.Nonce, json.Unmarshal(env.Data, v)
}

// memory remembers keys (used state nonces, wrong-PIN counts) until they expire; bounded.
type memory struct {
	mu      sync.Mutex
	entries map[string]memEntry
	max     int
}

type memEntry struct {
	n       int
	expires time.Time
}

func newMemory(max int) *memory { return &memory{entries: map[string]memEntry{}, max: max} }

// add counts one more for key (kept until exp) and returns the new count.
func (m *memory) add(key string, exp time.Time) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	e, ok := m.entries[key]
	if !ok || now.After(e.expires) {
		if len(m.entries) >= m.max {
			m.evict(now)
		}
		e = memEntry{}
	}
	e.n++
	if exp.After(e.expires) {
		e.expires = exp
	}
	m.entries[key] = e
	return e.n
}

// count is key's current count.
func (m *memory) count(key string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok || time.Now().After(e.expires) {
		return 0
	}
	return e.n
}

// remove forgets key.
func (m *memory) remove(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, key)
}

// evict drops expired entries, then the ones closest to expiry until a quarter is free.
func (m *memory) evict(now time.Time) {
	for k, e := range m.entries {
		if now.After(e.expires) {
			delete(m.entries, k)
		}
	}
	for k := range m.entries {
		if len(m.entries) < m.max*3/4 {
			return
		}
		delete(m.entries, k)
	}
}
