package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// copyStoreCommand copies a SQLite data folder or backup into an empty PostgreSQL database
// (the move to replicas), and says what the copy leaves behind.
func copyStoreCommand(args []string, _ io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("copy-store", flag.ContinueOnError)
	from := fs.String("from", "", "the SQLite data folder (host.db, secret.key) or a backup file made by host-example backup")
	key := fs.String("key", "", "with a backup file: the key exported by host-example export-key")
	to := fs.String("to", os.Getenv("HOST_DATABASE"), "postgres:// URL of the empty target database (HOST_DATABASE)")
	data := fs.String("data", "", "optional: a replica's data folder to receive the key (secret.key, 0600)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return usageErrorf("-from and -to (or HOST_DATABASE) are required")
	}
	if err := ensureTempDir(); err != nil { // the copy unpacks into a temporary folder
		return err
	}
	r, err := store.CopyToPostgres(context.Background(), store.CopyOptions{From: *from, Key: *key, To: *to, Data: *data})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "copied one snapshot of %s into %s (schema version %d):\n", *from, r.Target, r.SchemaVersion)
	width, total := len("total"), int64(0)
	for _, t := range r.Tables {
		width, total = max(width, len(t.Table)), total+t.Rows
	}
	for _, t := range r.Tables {
		fmt.Fprintf(stdout, "  %-*s %10d\n", width, t.Table, t.Rows)
	}
	fmt.Fprintf(stdout, "  %-*s %10d\n", width, "total", total)
	fmt.Fprintf(stdout, "Writes made to %s after the snapshot are not copied: stop the old host before copying, or copy again into a fresh database.\n", *from)
	if r.KeyFile != "" {
		fmt.Fprintf(stdout, "The key is in %s: start a replica with -data %s -database <the same URL>.\n", r.KeyFile, filepath.Dir(r.KeyFile))
	} else {
		keyFile := *key
		if keyFile == "" {
			keyFile = filepath.Join(*from, store.KeyFile)
		}
		fmt.Fprintf(stdout, "Every replica needs this installation's key in its data folder: install -m 600 %s <data folder>/%s\n", keyFile, store.KeyFile)
	}
	return nil
}
