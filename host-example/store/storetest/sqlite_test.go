package storetest

import (
	"testing"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// The SQLite store passes the suite: one process, so both handles are the one store.
func TestSQLite(t *testing.T) { Run(t, sqliteStore) }

// sqliteStore opens a new SQLite store for each check: both handles are the one store.
func sqliteStore(t *testing.T) (a, b *store.Store) {
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, s
}
