package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Backups are consistent copies of the database taken while the host runs (SQLite's
// VACUUM INTO reads one snapshot). They do not hold the encryption key: secrets in them stay
// sealed, and the key is exported on its own (ExportKey), to be kept somewhere else. A backup
// records the key's id, so a restore refuses a key that is not the one it was sealed with.

// metaKeyID names the meta row holding the id of the key a backup was sealed with.
const metaKeyID = "backup_key_id"

// ErrKeyMismatch is a restore with a key that did not seal the backup.
var ErrKeyMismatch = errors.New("the key file is not the key this backup was made with")

// keyID identifies a key without revealing it.
func (s *Sealer) keyID() string { return s.MAC("key-id")[:32] }

// Backup writes a consistent copy of the database to out (mode 0600; out must not exist).
func (s *Store) Backup(ctx context.Context, out string) error {
	if s.dialect == postgresDialect {
		return fmt.Errorf("backup: the data is in %s: back it up with pg_dump (docs/scale.md), and keep secret.key apart", s.where)
	}
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("backup: %s already exists", out)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), ".backup-")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o700); err != nil {
		return err
	}
	copyPath := filepath.Join(tmp, "host.db")
	if _, err := s.read.ExecContext(ctx, `VACUUM INTO ?`, copyPath); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+copyPath)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
		metaKeyID, s.seal.keyID())
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Chmod(copyPath, 0o600); err != nil {
		return err
	}
	if err := os.Link(copyPath, out); err != nil { // never replaces an existing file
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// ExportKey copies dataDir's encryption key to out (mode 0600; out must not exist).
func ExportKey(dataDir, out string) error {
	return copyPrivate(filepath.Join(dataDir, KeyFile), out)
}

// Restore makes dataDir (which must hold no database) from a backup and its key file. It
// refuses a key that did not seal the backup, and checks that every sealed source config opens.
func Restore(ctx context.Context, dataDir, backup, keyFile string) error {
	if err := checkBackupKey(backup, keyFile); err != nil {
		if errors.Is(err, ErrKeyMismatch) {
			return err
		}
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	dbPath := filepath.Join(dataDir, "host.db")
	for _, p := range []string{dbPath, filepath.Join(dataDir, KeyFile)} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("restore: %s exists; restore into an empty data folder", p)
		}
	}
	if err := copyPrivate(keyFile, filepath.Join(dataDir, KeyFile)); err != nil {
		return err
	}
	if err := copyPrivate(backup, dbPath); err != nil {
		return err
	}
	st, err := Open(dataDir)
	if err == nil {
		_, err = st.Sources(ctx) // opens every sealed config
		st.Close()
	}
	if err != nil {
		os.Remove(dbPath)
		os.Remove(filepath.Join(dataDir, KeyFile))
		return fmt.Errorf("restore: the restored store does not open: %w", err)
	}
	return nil
}

// checkBackupKey refuses (ErrKeyMismatch) a key file that did not seal the backup file, and
// a file that is not a backup of host-example.
func checkBackupKey(backup, keyFile string) error {
	key, err := os.ReadFile(keyFile)
	if err != nil {
		return fmt.Errorf("the key: %w", err)
	}
	seal, err := sealerOf(key, keyFile)
	if err != nil {
		return err
	}
	db, err := sql.Open("sqlite", "file:"+backup+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var id string
	if err := db.QueryRow(`SELECT value FROM meta WHERE key = ?`, metaKeyID).Scan(&id); err != nil {
		return fmt.Errorf("%s is not a backup of host-example (%w)", backup, err)
	}
	if id != seal.keyID() {
		return ErrKeyMismatch
	}
	return nil
}

// copyPrivate copies src to a new file dst with mode 0600.
func copyPrivate(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	return out.Close()
}
