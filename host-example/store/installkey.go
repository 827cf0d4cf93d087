package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// metaInstallKey names the meta row holding the fingerprint (keyID) of the key a shared
// database's installation seals with; the first replica writes it.
const metaInstallKey = "installation_key_id"

// ErrWrongKey is a replica whose key file is not the key of the database's installation.
var ErrWrongKey = errors.New("the key file is not this database's key")

// installationKey is the sealer of a shared database's installation: the key file in dir
// when its fingerprint is the database's (the first replica records its own). A key file is
// made only for a database that has none yet, and kept only if this replica's fingerprint
// was the one recorded: every other replica must be given a copy of the first one's.
func (s *Store) installationKey(ctx context.Context, dir string) (*Sealer, error) {
	path := filepath.Join(dir, KeyFile)
	key, err := os.ReadFile(path)
	made := false
	switch {
	case errors.Is(err, os.ErrNotExist):
		var recorded string
		err := s.read.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, metaInstallKey).Scan(&recorded)
		if err == nil {
			return nil, fmt.Errorf("%w: %s has no %s, and %s belongs to an installation: copy secret.key from a replica that runs "+
				"(install -m 600 …/secret.key %s), or point -database at a new database", ErrWrongKey, dir, KeyFile, s.where, path)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("read the installation's key fingerprint: %w", err)
		}
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		made = true
	case err != nil:
		return nil, fmt.Errorf("read key file: %w", err)
	}
	seal, err := sealerOf(key, path)
	if err != nil {
		return nil, err
	}
	if made { // written first: a replica that stops here keeps its key for the next start
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("write key file: %w", err)
		}
		if _, err := f.Write(key); err != nil {
			f.Close()
			return nil, fmt.Errorf("write key file: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("write key file: %w", err)
		}
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, metaInstallKey, seal.keyID()); err != nil {
		return nil, fmt.Errorf("record the installation's key fingerprint: %w", err)
	}
	var recorded string
	if err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, metaInstallKey).Scan(&recorded); err != nil {
		return nil, fmt.Errorf("read the installation's key fingerprint: %w", err)
	}
	if recorded != seal.keyID() {
		if made {
			os.Remove(path)
			return nil, fmt.Errorf("%w: another replica started first on %s with its own key: copy its secret.key to %s (mode 0600) and start again",
				ErrWrongKey, s.where, path)
		}
		return nil, fmt.Errorf("%w: %s (fingerprint %s) is not the key of the installation in %s (fingerprint %s): copy the key of a replica that runs, "+
			"or point -database at this key's own database", ErrWrongKey, path, seal.keyID()[:12], s.where, recorded[:min(12, len(recorded))])
	}
	return seal, nil
}
