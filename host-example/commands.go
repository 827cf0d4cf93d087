package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/notify"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// commands are host-example's maintenance commands (host-example <command> -h).
var commands = map[string]func(args []string, stdin io.Reader, stdout io.Writer) error{
	"serve":                serveCommand,
	"backup":               backupCommand,
	"export-key":           exportKeyCommand,
	"restore":              restoreCommand,
	"copy-store":           copyStoreCommand,
	"reset-admin-password": resetPasswordCommand,
	"version":              versionCommand,
	"healthcheck":          healthcheckCommand,
}

// usage lists the commands.
const usage = `Commands (each takes -h):
  host-example [serve] [flags]                serve (the default)
  host-example version                        the version, commit and Go release (also -version)
  host-example healthcheck [-listen ADDR]     exit 0 if the host on -listen (HOST_LISTEN) answers /healthz ok, else 1
  host-example backup -data DIR -out FILE     consistent copy of the database, while the host runs
  host-example export-key -data DIR -out FILE the encryption key, to keep apart from the backups
  host-example restore -data DIR -backup FILE -key FILE   into an empty data folder
  host-example copy-store -from DIR|FILE -to postgres://…   a SQLite data folder or backup into an empty PostgreSQL database
  host-example reset-admin-password -data DIR [-public-url URL]   the new password from HOST_ADMIN_PASSWORD or stdin;
                                              turns the local password on, removes its TOTP code, clears the admin's
                                              guess counters and prints a one-hour recovery link (the break-glass)
`

// dataFlag is a maintenance command's -data flag (HOST_DATA_DIR).
func dataFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("HOST_DATA_DIR")
	if def == "" {
		def = "data"
	}
	return fs.String("data", def, "data directory (HOST_DATA_DIR)")
}

// databaseFlag is a maintenance command's -database flag (HOST_DATABASE).
func databaseFlag(fs *flag.FlagSet) *string {
	return fs.String("database", os.Getenv("HOST_DATABASE"), "postgres:// URL of a shared database (HOST_DATABASE; empty: SQLite in -data)")
}

func backupCommand(args []string, _ io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	data, database, out := dataFlag(fs), databaseFlag(fs), fs.String("out", "", "the backup file to write (must not exist)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageErrorf("-out is required")
	}
	st, err := openExisting(*data, *database)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Backup(context.Background(), *out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s (0600). It holds no encryption key: keep the key (host-example export-key) somewhere else.\n", *out)
	return nil
}

func exportKeyCommand(args []string, _ io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("export-key", flag.ContinueOnError)
	data, out := dataFlag(fs), fs.String("out", "", "the key file to write (must not exist)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageErrorf("-out is required")
	}
	if err := store.ExportKey(*data, *out); err != nil {
		return fmt.Errorf("export-key: %w", err)
	}
	fmt.Fprintf(stdout, "key written to %s (0600). Whoever holds it and a backup can read the secrets in the backup.\n", *out)
	return nil
}

func restoreCommand(args []string, _ io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	data := dataFlag(fs)
	backup, key := fs.String("backup", "", "the backup file"), fs.String("key", "", "the key file exported from the same host")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *backup == "" || *key == "" {
		return usageErrorf("-backup and -key are required")
	}
	if err := store.Restore(context.Background(), *data, *backup, *key); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored into %s; start host-example with -data %s\n", *data, *data)
	return nil
}

func resetPasswordCommand(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("reset-admin-password", flag.ContinueOnError)
	data, database := dataFlag(fs), databaseFlag(fs)
	public := fs.String("public-url", os.Getenv("HOST_PUBLIC_URL"), "the host's public URL, to print the recovery link whole (HOST_PUBLIC_URL; empty: its path only)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	base := strings.TrimRight(*public, "/")
	if u, err := url.Parse(base); base != "" && (err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https")) {
		return usageErrorf("-public-url %q is not an absolute http(s) URL", *public)
	}
	pw, err := secret("HOST_ADMIN_PASSWORD")
	if err != nil {
		return err
	}
	if pw == "" {
		fmt.Fprint(stdout, "New admin password: ")
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("reset-admin-password: no password on stdin")
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	if err := host.CheckAdminPasswordRules(pw); err != nil {
		return fmt.Errorf("reset-admin-password: %w", err)
	}
	st, err := openExisting(*data, *database)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	done, err := host.NewAdmin(st, nil).Reset(ctx, pw)
	if err != nil {
		return fmt.Errorf("reset-admin-password: %w", err)
	}
	var pu *url.URL
	if base != "" {
		pu, _ = url.Parse(base)
	}
	// The reset notifies like the host's own events: queued here, sent by a running host.
	st.Observe(store.Observer{Event: notify.New(st, notify.Config{PublicURL: pu}).Recorded})
	_ = st.AddEvent(ctx, store.Event{Kind: store.EventAdminPasswordReset,
		Detail: fmt.Sprintf("from the command line; the local password is on, without a TOTP code; %d admin sessions ended; browsers known from earlier admin logins "+
			"and the admin's guess counters forgotten; a recovery link made (one use, %s)", done.SessionsEnded, host.RecoveryLifetime)})
	fmt.Fprintf(stdout, "\nadmin password changed (the local password is on, without a TOTP code); %d admin sessions ended; browsers known from earlier admin logins "+
		"and the admin's guess counters are forgotten.\n\nRecovery link (works once, for %s; it opens the admin sign-in even while wrong passwords "+
		"are being tried from elsewhere, and makes that browser a known admin browser once the new password is accepted):\n\n  %s%s%s\n",
		done.SessionsEnded, host.RecoveryLifetime, base, host.RecoveryPath, done.Recovery)
	if base == "" {
		fmt.Fprintln(stdout, "\n(The path only: open it on the host's public address, or give -public-url / HOST_PUBLIC_URL to print it whole.)")
	}
	return nil
}

// openExisting opens the store of a data folder that already has a database (a typo in
// -data must not create an empty one), or the shared database.
func openExisting(dir, database string) (*store.Store, error) {
	if database != "" {
		return store.OpenWith(context.Background(), store.Options{Database: database, Dir: dir})
	}
	if _, err := os.Stat(filepath.Join(dir, "host.db")); err != nil {
		return nil, fmt.Errorf("no database in %s (-data): %w", dir, err)
	}
	return store.Open(dir)
}

// pluginsDir resolves -plugins: an absolute path as it is; a relative one beside the
// executable, else in the data folder (never against the working directory); empty: the
// executable's folder (scripts/build puts the manifests there).
func pluginsDir(flagValue, exeDir, dataDir string) (string, error) {
	if filepath.IsAbs(flagValue) {
		return flagValue, nil
	}
	var tried []string
	for _, base := range []string{exeDir, dataDir} {
		if base == "" {
			continue
		}
		p := filepath.Join(base, flagValue)
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p, nil
		}
		tried = append(tried, p)
	}
	return "", fmt.Errorf("-plugins %q: no such folder (looked in %s)", flagValue, strings.Join(tried, " and "))
}
