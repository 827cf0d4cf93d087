package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Sealer encrypts secrets at rest with AES-256-GCM under a key kept in a 0600 file, and
// MACs values the host signs (Store.MAC) under a key derived from it.
type Sealer struct {
	aead   cipher.AEAD
	macKey []byte
}

// LoadOrCreateKey reads the key file in dir, creating it (mode 0600) on first start.
func LoadOrCreateKey(dir string) (*Sealer, error) {
	path := filepath.Join(dir, KeyFile)
	key, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, key, 0o600); err != nil {
			return nil, fmt.Errorf("write key file: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	return sealerOf(key, path)
}

// KeyFile is the name of the encryption key's file in the data folder.
const KeyFile = "secret.key"

// sealerOf is the sealer of a 32-byte key read from path.
func sealerOf(key []byte, path string) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("key file %s must hold 32 bytes", path)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	mk := sha256.Sum256(append([]byte("host-example/mac/v1|"), key...))
	return &Sealer{aead: aead, macKey: mk[:]}, nil
}

// MAC is the HMAC-SHA256 of data under the derived MAC key, as hex.
func (s *Sealer) MAC(data string) string {
	m := hmac.New(sha256.New, s.macKey)
	m.Write([]byte(data))
	return hex.EncodeToString(m.Sum(nil))
}

// Seal encrypts plain; nil stays nil.
func (s *Sealer) Seal(plain []byte) []byte {
	if plain == nil {
		return nil
	}
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plain, nil)
}

// Open decrypts what Seal made.
func (s *Sealer) Open(sealed []byte) ([]byte, error) {
	if sealed == nil {
		return nil, nil
	}
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed value too short")
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], nil)
}
