package storetest

import (
	"context"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/postgrestest"
	"github.com/plexlogin/plexlogin/host-example/store"
)

func TestMain(m *testing.M) { postgrestest.Main(m) }

// PostgreSQL passes the suite with two stores on one database: two replicas' pools, each
// with its own copy of the key file.
func TestPostgres(t *testing.T) {
	Run(t, postgresPair(postgrestest.Shared(t)))
}

// postgresPair opens two stores (two replicas' pools) on a new database of srv for each check.
func postgresPair(srv *postgrestest.Server) Opener {
	return func(t *testing.T) (a, b *store.Store) {
		url := srv.NewDatabase(t)
		dir := t.TempDir()
		a, err := store.OpenWith(context.Background(), store.Options{Database: url, Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		b, err = store.OpenWith(context.Background(), store.Options{Database: url, Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return a, b
	}
}
