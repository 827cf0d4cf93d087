package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Moving an installation from SQLite to PostgreSQL (host-example copy-store): every row of
// every table, read from the source in one snapshot and written to an empty target in one
// transaction, each value as it is. Sealed values stay valid because the target keeps the
// source's key; users keep their ids and public ids, clients their secret hashes, sessions
// and tokens their hashes. The row copier is copyrows.go.

// CopyOptions say what CopyToPostgres copies, and where to.
type CopyOptions struct {
	// From is a SQLite data folder (host.db and secret.key) or a backup file made by Backup.
	From string
	// Key is the key file exported next to a backup (ExportKey); only for a backup file.
	Key string
	// To is the postgres:// URL of the target database: empty, or with only the schema.
	To string
	// Data, when set, is a replica's data folder that receives the key (mode 0600; an
	// existing key file there must be the same key).
	Data string
	// ConnectWait is how long an unreachable target is retried (0: OpenWith's default).
	ConnectWait time.Duration
}

// TableCount is how many rows of one table were copied.
type TableCount struct {
	Table string
	Rows  int64
}

// CopyReport is what CopyToPostgres did.
type CopyReport struct {
	// Target names the target database for messages (never its password).
	Target string
	// SchemaVersion is the schema version of both databases.
	SchemaVersion int
	// Tables are the copied tables by name, with their rows.
	Tables []TableCount
	// KeyFile is where the key was written (CopyOptions.Data), or "".
	KeyFile string
}

// ErrTargetNotEmpty is a copy refused because the target database already holds data.
var ErrTargetNotEmpty = errors.New("the target database is not empty")

// CopyToPostgres copies the SQLite installation o.From names into the empty PostgreSQL
// database o.To, which it creates at this binary's schema version and gives the source's
// key. Writes made to the source after the snapshot are not copied.
func CopyToPostgres(ctx context.Context, o CopyOptions) (*CopyReport, error) {
	if !IsPostgres(o.To) {
		return nil, errors.New("copy-store: the target must be a postgres:// URL (postgres://user:password@host:5432/dbname)")
	}
	src, keyPath, done, err := openCopySource(o)
	if err != nil {
		return nil, err
	}
	defer done()
	key, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("copy-store: read the key: %w", err)
	}
	if o.Data != "" {
		if err := checkKeyDestination(o.Data, key); err != nil {
			return nil, err
		}
	}
	if _, err := src.Sources(ctx); err != nil { // every sealed source config opens with the key
		return nil, fmt.Errorf("copy-store: the source's sealed settings do not open with %s: %w", keyPath, err)
	}
	keyDir, err := os.MkdirTemp("", "copy-store-key-")
	if err != nil {
		return nil, fmt.Errorf("copy-store: %w", err)
	}
	defer os.RemoveAll(keyDir)
	if err := copyPrivate(keyPath, filepath.Join(keyDir, KeyFile)); err != nil {
		return nil, fmt.Errorf("copy-store: %w", err)
	}
	dst, err := OpenWith(ctx, Options{Database: o.To, Dir: keyDir, ConnectWait: o.ConnectWait})
	if errors.Is(err, ErrWrongKey) {
		return nil, fmt.Errorf("copy-store: %w: it belongs to an installation with another key; copy into a new, empty database (%w)", ErrTargetNotEmpty, err)
	}
	if err != nil {
		return nil, fmt.Errorf("copy-store: the target: %w", err)
	}
	defer dst.Close()
	tables, err := src.copyTo(ctx, dst)
	if err != nil {
		return nil, fmt.Errorf("copy-store: %w", err)
	}
	report := &CopyReport{Target: dst.where, SchemaVersion: schemaVersion(), Tables: tables}
	if o.Data != "" {
		if report.KeyFile, err = writeKey(o.Data, key); err != nil {
			return report, fmt.Errorf("copy-store: the data is copied, but the key was not written to %s (copy %s there yourself, mode 0600): %w",
				o.Data, keyPath, err)
		}
	}
	return report, nil
}

// openCopySource opens the source of a copy at this binary's schema version (migrating a
// data folder as a start of the host would) and answers its key file; done closes it and
// removes any temporary copy.
func openCopySource(o CopyOptions) (src *Store, keyPath string, done func(), err error) {
	fi, err := os.Stat(o.From)
	if err != nil {
		return nil, "", nil, fmt.Errorf("copy-store: -from: %w", err)
	}
	if fi.IsDir() {
		if o.Key != "" {
			return nil, "", nil, fmt.Errorf("copy-store: -key is for a backup file; the data folder %s has its own %s", o.From, KeyFile)
		}
		for _, name := range []string{"host.db", KeyFile} { // Open would create both
			if _, err := os.Stat(filepath.Join(o.From, name)); err != nil {
				return nil, "", nil, fmt.Errorf("copy-store: %s is not a data folder of host-example: %w", o.From, err)
			}
		}
		if src, err = Open(o.From); err != nil {
			return nil, "", nil, fmt.Errorf("copy-store: open the source %s: %w", o.From, err)
		}
		return src, filepath.Join(o.From, KeyFile), func() { src.Close() }, nil
	}
	if o.Key == "" {
		return nil, "", nil, fmt.Errorf("copy-store: %s is a backup file: -key is required (the key exported with host-example export-key)", o.From)
	}
	if err := checkBackupKey(o.From, o.Key); err != nil {
		return nil, "", nil, fmt.Errorf("copy-store: %w", err)
	}
	tmp, err := os.MkdirTemp("", "copy-store-source-")
	if err != nil {
		return nil, "", nil, fmt.Errorf("copy-store: %w", err)
	}
	cleanup := func() { os.RemoveAll(tmp) }
	if err := copyPrivate(o.From, filepath.Join(tmp, "host.db")); err != nil {
		cleanup()
		return nil, "", nil, fmt.Errorf("copy-store: copy the backup: %w", err)
	}
	if err := copyPrivate(o.Key, filepath.Join(tmp, KeyFile)); err != nil {
		cleanup()
		return nil, "", nil, fmt.Errorf("copy-store: copy the key: %w", err)
	}
	if src, err = Open(tmp); err != nil {
		cleanup()
		return nil, "", nil, fmt.Errorf("copy-store: open the backup %s: %w", o.From, err)
	}
	return src, o.Key, func() { src.Close(); cleanup() }, nil
}

// checkKeyDestination refuses a replica data folder holding a key file that is not key.
func checkKeyDestination(dir string, key []byte) error {
	have, err := os.ReadFile(filepath.Join(dir, KeyFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("copy-store: -data: %w", err)
	case !bytes.Equal(have, key):
		return fmt.Errorf("copy-store: -data: %s already holds another key; give an empty data folder", filepath.Join(dir, KeyFile))
	}
	return nil
}

// writeKey puts key into dir (created 0700) as its key file (0600), unless the same key is
// there already, and answers the file's path.
func writeKey(dir string, key []byte) (string, error) {
	if err := checkKeyDestination(dir, key); err != nil {
		return "", err
	}
	path := filepath.Join(dir, KeyFile)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		os.Remove(path)
		return "", err
	}
	return path, f.Close()
}
