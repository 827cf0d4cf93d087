package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Every Bidi_Control character and the zero-width characters that join nothing are removed
// from the display name and the username apps receive; the zero-width joiners that real
// names need, and other non-ASCII names, are kept as they are.
func TestNamesSentToAppsLoseHiddenCharacters(t *testing.T) {
	s, _ := open(t)
	src := enabledSource(t, s, "plex")
	removed := []rune{'\u061c', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e',
		'\u2066', '\u2067', '\u2068', '\u2069', '\u200b', '\u2060', '\ufeff', '\u0000', '\u0007', '\u001b', '\u007f', '\u0085', '\u2028', '\u2029'}
	type tc struct{ name, mapped, wantName, wantUsername string }
	var cases []tc
	for _, r := range removed {
		cases = append(cases, tc{fmt.Sprintf("U+%04X", r), "Ali" + string(r) + "ce", "Alice", "Alice"})
	}
	cases = append(cases,
		tc{"U+200C kept (Persian)", "می\u200cخواهم", "می\u200cخواهم", "میخواهم"},
		tc{"U+200D kept (emoji)", "Zoë 👩\u200d💻", "Zoë 👩\u200d💻", "Zoë 👩💻"},
		tc{"CJK", "李小龍", "李小龍", "李小龍"},
		tc{"surrounding spaces", "  Olivia Owner \u202e", "Olivia Owner", "Olivia Owner"},
	)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := finish(t, s, User{SourceID: src.ID, Subject: fmt.Sprint(1000 + i), Username: c.mapped, Name: c.mapped})
			if u.Name != c.wantName {
				t.Errorf("name %+q, want %+q", u.Name, c.wantName)
			}
			if want := c.wantUsername; !strings.HasPrefix(u.Username, want) {
				t.Errorf("username %+q, want %+q (with a suffix when taken)", u.Username, want)
			}
		})
	}
}

// Names are cut at source.MaxNameLength code points (not bytes); an e-mail that cannot be
// an address is dropped with its verified flag, never cut or cleaned into another address.
func TestNamesSentToAppsAreBounded(t *testing.T) {
	s, _ := open(t)
	src := enabledSource(t, s, "plex")
	cases := []struct {
		name, in string
		want     int // code points kept
	}{
		{"8 KiB", strings.Repeat("a", 8<<10), 256},
		{"257", strings.Repeat("b", 257), 256},
		{"256", strings.Repeat("c", 256), 256},
		{"multibyte", strings.Repeat("李", 300), 256},
		{"short", "Olivia", 6},
	}
	for i, c := range cases {
		u := finish(t, s, User{SourceID: src.ID, Subject: fmt.Sprint(2000 + i), Username: c.in, Name: c.in})
		if n := utf8.RuneCountInString(u.Name); n != c.want || !strings.HasPrefix(c.in, u.Name) {
			t.Errorf("%s: name of %d code points, want %d of its beginning", c.name, n, c.want)
		}
		if n := utf8.RuneCountInString(u.Username); n != c.want || !strings.HasPrefix(c.in, u.Username) {
			t.Errorf("%s: username of %d code points, want %d of its beginning", c.name, n, c.want)
		}
	}
	emails := []struct{ in, want string }{
		{"olivia@example.com", "olivia@example.com"},
		{"zoë@exämple.com", "zoë@exämple.com"},
		{"oli\u202evia@example.com", ""},
		{"olivia\u200b@example.com", ""},
		{"olivia @example.com", ""},
		{"olivia\r\n@example.com", ""},
		{strings.Repeat("o", 243) + "@example.com", ""}, // 255 bytes
		{strings.Repeat("o", 242) + "@example.com", strings.Repeat("o", 242) + "@example.com"},
	}
	for i, e := range emails {
		u := finish(t, s, User{SourceID: src.ID, Subject: fmt.Sprint(3000 + i), Email: e.in, EmailVerified: true})
		if u.Email != e.want || u.EmailVerified != (e.want != "") {
			t.Errorf("e-mail %+q: stored %+q verified %v, want %+q", e.in, u.Email, u.EmailVerified, e.want)
		}
	}
}

// finish logs u in and reads back what the host stored.
func finish(t *testing.T, s *Store, u User) *User {
	t.Helper()
	done, err := s.FinishLogin(context.Background(), u, Event{Kind: EventLoginAllowed, Name: u.Name}, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.User(context.Background(), done.UserID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Review of issue 28 (L4): every default-ignorable code point (they show as nothing: the
// combining grapheme joiner, the Hangul fillers, the variation selectors, the Khmer inherent
// vowels, the Mongolian free variation selectors, tags, the zero-width joiners) and the
// blank Braille pattern are removed from usernames, so "frank" with one of them is frank
// (and a second person so named gets a suffix). The display name, which identifies no one,
// keeps the joiners and the emoji variation selector that names with emoji need.
func TestUsernamesLoseDefaultIgnorables(t *testing.T) {
	s, _ := open(t)
	src := enabledSource(t, s, "plex")
	first := finish(t, s, User{SourceID: src.ID, Subject: "1", Username: "frank", Name: "frank"})
	if first.Username != "frank" {
		t.Fatalf("the first frank is %+q", first.Username)
	}
	for i, r := range []rune{'\u00ad', '\u034f', '\u115f', '\u1160', '\u17b4', '\u17b5', '\u180b', '\u180e', '\u200b', '\u200c', '\u200d',
		'\u2063', '\u2800', '\u3164', '\ufe00', '\ufe0f', '\uffa0', '\U0001d173', '\U000e0001', '\U000e0041', '\U000e0100', '\U000e01ef'} {
		t.Run(fmt.Sprintf("U+%04X", r), func(t *testing.T) {
			u := finish(t, s, User{SourceID: src.ID, Subject: fmt.Sprint(100 + i), Username: "fr" + string(r) + "ank" + string(r)})
			if n := strings.TrimPrefix(u.Username, "frank-"); n == u.Username || n == "" || strings.Trim(n, "0123456789") != "" {
				t.Errorf("username %+q, want frank-N: the character stays, or frank's name is another's", u.Username)
			}
		})
	}
	for _, name := range []string{"Zoë 👩\u200d💻", "می\u200cخواهم", "Frank \u2764\ufe0f"} {
		if u := finish(t, s, User{SourceID: src.ID, Subject: "display " + name, Username: "display", Name: name}); u.Name != name {
			t.Errorf("display name %+q, want %+q kept", u.Name, name)
		}
	}
}
