package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Usernames are unique on the host and never given to another user: apps that key accounts
// on preferred_username or Remote-User must never see two people under one name. Each name a
// user is given is reserved for that user (table usernames, key → user id) for good: a rename
// at the source, a disabled user or a user who left keeps it. Names collide without regard to
// case, width or compatibility forms, and invisible characters do not count (usernameKey).

// metaUsernamesPending marks a database whose existing users still need their names reserved
// (set by the migration that adds the table, cleared by reserveExistingUsernames).
const metaUsernamesPending = "usernames_pending"

// maxUsernameSuffix bounds the search for a free suffix (a runaway would be a bug).
const maxUsernameSuffix = 100000

// cleanUsername is the username a mapping produced without surrounding spaces and without
// control, line separator and default-ignorable characters (a header drops the first, the
// others only hide or break the text): a username identifies a person, so nothing in it may
// be invisible (hiddenInUsername).
func cleanUsername(name string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if hiddenInUsername(r) {
			return -1
		}
		return r
	}, name))
}

// hiddenInUsername reports a character removed from usernames: a control, a line or paragraph
// separator, and every Default_Ignorable_Code_Point, which shows as nothing (Unicode's
// derivation: Other_Default_Ignorable_Code_Point, such as U+034F, the Hangul fillers U+115F,
// U+1160, U+3164 and U+FFA0, and U+17B4/U+17B5; the format characters Cf, the zero-width
// joiners among them; the variation selectors), and the blank Braille pattern U+2800, which
// shows as a space but is none. A display name keeps the joiners and variation selectors that
// names with emoji need (hiddenInName): it is for display, a username for identity.
func hiddenInUsername(r rune) bool {
	return r == '\u2800' || unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp,
		unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
}

// usernameKey is what two usernames must differ in to be two names, as the most lenient app
// compares them: compatibility-normalized (full-width and mathematical letters, ligatures),
// each letter upper-cased then lower-cased by its simple mapping (ı and İ meet i, as .NET's
// and Java's case-insensitive comparisons and JavaScript's toUpperCase take them), accents
// dropped (an app on MySQL's default collation takes alíce for alice), and case-folded.
func usernameKey(name string) string {
	s := norm.NFKC.String(cleanUsername(name))
	s = strings.Map(func(r rune) rune { return unicode.ToLower(unicode.ToUpper(r)) }, s)
	s, _, _ = transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFKC), s)
	return cases.Fold().String(s)
}

// suffixed is the n-th candidate name for base: base itself, then base-2, base-3, ….
func suffixed(base string, n int) string {
	if n == 1 {
		return base
	}
	return fmt.Sprintf("%s-%d", base, n)
}

// assignUsername gives the user the first of base, base-2, base-3, … that no other user holds,
// reserving it; "" for an empty base (nothing reserved: apps then have only the id). The
// reservations of others only grow, so the same base gives the same name at every login.
func (s *Store) assignUsername(ctx context.Context, tx *sql.Tx, userID int64, base string) (string, error) {
	if base = cleanUsername(base); base == "" {
		return "", nil
	}
	for n := 1; n <= maxUsernameSuffix; n++ {
		cand := suffixed(base, n)
		var holder int64
		err := s.txQueryRow(ctx, tx, `SELECT user_id FROM usernames WHERE key = ?`, usernameKey(cand)).Scan(&holder)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := s.txExec(ctx, tx, `INSERT INTO usernames (key, user_id, created_at) VALUES (?, ?, ?)`,
				usernameKey(cand), userID, s.now().Unix()); err != nil {
				return "", fmt.Errorf("reserve username %q: %w", cand, err)
			}
			return cand, nil
		case err != nil:
			return "", fmt.Errorf("look up username %q: %w", cand, err)
		case holder == userID:
			return cand, nil
		}
	}
	return "", fmt.Errorf("no free username for %q", base)
}

// reserveExistingUsernames reserves the names of the users a database had before usernames
// were unique, once: for each name (as usernameKey compares them) its oldest user keeps it;
// the others, oldest first, get the lowest free suffix, never a name another user has
// as such.
func (s *Store) reserveExistingUsernames(ctx context.Context) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return s.reserveUsernamesIn(ctx, tx) })
}

// reserveUsernamesIn does reserveExistingUsernames' work in tx.
func (s *Store) reserveUsernamesIn(ctx context.Context, tx *sql.Tx) error {
	var pending string
	if err := s.txQueryRow(ctx, tx, `SELECT value FROM meta WHERE key = ?`, metaUsernamesPending).Scan(&pending); errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return err
	}
	type row struct {
		id   int64
		name string
	}
	rows, err := s.txQuery(ctx, tx, `SELECT id, username FROM users ORDER BY created_at, id`)
	if err != nil {
		return err
	}
	var users []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.name); err != nil {
			rows.Close()
			return err
		}
		users = append(users, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	taken := map[string]int64{}
	reserve := func(u row, name string) error {
		taken[usernameKey(name)] = u.id
		if _, err := s.txExec(ctx, tx, `INSERT INTO usernames (key, user_id, created_at) VALUES (?, ?, ?)`, usernameKey(name), u.id, s.now().Unix()); err != nil {
			return fmt.Errorf("reserve username %q: %w", name, err)
		}
		if name != u.name {
			if _, err := s.txExec(ctx, tx, `UPDATE users SET username = ? WHERE id = ?`, name, u.id); err != nil {
				return err
			}
		}
		return nil
	}
	var later []row
	for _, u := range users { // the bare names, oldest user first
		name := cleanUsername(u.name)
		if _, held := taken[usernameKey(name)]; name != "" && held {
			later = append(later, u)
			continue
		}
		if name == "" {
			if u.name != "" {
				if _, err := s.txExec(ctx, tx, `UPDATE users SET username = '' WHERE id = ?`, u.id); err != nil {
					return err
				}
			}
			continue
		}
		if err := reserve(u, name); err != nil {
			return err
		}
	}
	for _, u := range later { // then the suffixes
		base := cleanUsername(u.name)
		n := 2
		for ; n <= maxUsernameSuffix; n++ {
			if _, held := taken[usernameKey(suffixed(base, n))]; !held {
				break
			}
		}
		if err := reserve(u, suffixed(base, n)); err != nil {
			return err
		}
	}
	_, err = s.txExec(ctx, tx, `DELETE FROM meta WHERE key = ?`, metaUsernamesPending)
	return err
}

// UsernameHolder is the id of the user a username is reserved for (any case), or ErrNotFound.
func (s *Store) UsernameHolder(ctx context.Context, name string) (int64, error) {
	var id int64
	err := s.read.QueryRowContext(ctx, `SELECT user_id FROM usernames WHERE key = ?`, usernameKey(name)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return id, err
}
