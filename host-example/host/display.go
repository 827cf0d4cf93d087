package host

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// A person's display attributes (name, e-mail, picture): the admin's edit of them on the
// person page, and the sync modes, when a login through a source sets each again
// (store.DisplaySync). Groups and everything that admits a person have none: every login and
// re-validation decides them again.

// ErrBadSyncMode refuses a sync mode that is not one of the modes.
var ErrBadSyncMode = errors.New("a sync mode is every login or the first login only")

// SyncedAttribute is one display attribute with its sync mode, as the pages show it.
type SyncedAttribute struct {
	// Key names it in forms ("name", "email", "picture"); Title in words.
	Key, Title string
	Mode       store.SyncMode
}

// FirstLoginOnly reports whether the first login only sets it.
func (a SyncedAttribute) FirstLoginOnly() bool { return a.Mode == store.SyncFirstLogin }

// SyncedAttributes are the display attributes of sync with their modes, in the pages' order.
func SyncedAttributes(sync store.DisplaySync) []SyncedAttribute {
	return []SyncedAttribute{{"name", "Name", sync.Name}, {"email", "E-mail", sync.Email}, {"picture", "Picture", sync.Picture}}
}

// DisplaySyncOf is the modes of a form's values by attribute key; ErrBadSyncMode for an
// unknown one.
func DisplaySyncOf(modes map[string]string) (store.DisplaySync, error) {
	var out store.DisplaySync
	for key, field := range map[string]*store.SyncMode{"name": &out.Name, "email": &out.Email, "picture": &out.Picture} {
		switch m := store.SyncMode(modes[key]); m {
		case store.SyncEveryLogin, store.SyncFirstLogin:
			*field = m
		case "every_login":
			*field = store.SyncEveryLogin
		default:
			return out, ErrBadSyncMode
		}
	}
	return out, nil
}

// DescribeSync names sync for events: "name at the first login only; e-mail, picture at every login".
func DescribeSync(sync store.DisplaySync) string {
	var first, every []string
	for _, a := range SyncedAttributes(sync) {
		if a.FirstLoginOnly() {
			first = append(first, strings.ToLower(a.Title))
		} else {
			every = append(every, strings.ToLower(a.Title))
		}
	}
	var parts []string
	if len(first) > 0 {
		parts = append(parts, strings.Join(first, ", ")+" at the first login only")
	}
	if len(every) > 0 {
		parts = append(parts, strings.Join(every, ", ")+" at every login")
	}
	return strings.Join(parts, "; ")
}

// SetSync stores when a login through src sets each display attribute of its people, recorded
// (false when nothing changed). It takes effect at the next login of each person.
func (s *Sources) SetSync(ctx context.Context, src *store.Source, sync store.DisplaySync) (bool, error) {
	if sync == src.Sync {
		return false, nil
	}
	if err := s.store.SetSourceSync(ctx, src.ID, sync); err != nil {
		return false, fmt.Errorf("set the sync modes of source %s: %w", src.ID, err)
	}
	_ = s.store.AddEvent(ctx, store.Event{SourceID: src.ID, Kind: store.EventAdminSourceSaved,
		Detail: "sync modes of " + src.Name + ": " + DescribeSync(sync)})
	return true, nil
}

// KeptAttribute is a display attribute the next login of a known person keeps as stored
// (its source sets it at the first login only), with the stored value.
type KeptAttribute struct {
	Key, Title, Value string
}

// KeptAtLogin are the display attributes of u that the next login through a source with sync
// keeps as stored, whatever the mapping says (none for nil: a person not known yet).
func KeptAtLogin(sync store.DisplaySync, u *store.User) []KeptAttribute {
	if u == nil {
		return nil
	}
	stored := map[string]string{"name": u.Name, "email": u.Email, "picture": u.Picture}
	var out []KeptAttribute
	for _, a := range SyncedAttributes(sync) {
		if a.FirstLoginOnly() {
			out = append(out, KeptAttribute{Key: a.Key, Title: a.Title, Value: stored[a.Key]})
		}
	}
	return out
}

// ErrBadPicture refuses a picture that is no http(s) address.
var ErrBadPicture = errors.New("the picture is an https:// (or http://) address of an image, or nothing")

// ErrBadEmail refuses an e-mail address apps could not receive (a space, an invisible
// character, too long).
var ErrBadEmail = errors.New("that e-mail address cannot be sent to apps (a space, an invisible character, or too long)")

// SetDisplay sets u's display attributes as the admin typed them, recorded on the person
// (false when nothing changed). The next login through u's source replaces each unless the
// source sets it at the first login only (store.DisplaySync); an e-mail that changes is no
// longer verified.
func (p *People) SetDisplay(ctx context.Context, u *store.User, d store.Display) (bool, error) {
	d = store.Display{Name: strings.TrimSpace(d.Name), Email: strings.TrimSpace(d.Email), Picture: strings.TrimSpace(d.Picture)}
	if d.Picture != "" {
		pu, err := url.Parse(d.Picture)
		if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" || len(d.Picture) > 2048 {
			return false, ErrBadPicture
		}
	}
	if d.Email != "" && (len(d.Email) > 254 || strings.ContainsFunc(d.Email, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
	}) || !strings.Contains(d.Email, "@")) {
		return false, ErrBadEmail
	}
	var changed []string
	for _, f := range []struct{ what, was, now string }{{"name", u.Name, d.Name}, {"e-mail", u.Email, d.Email}, {"picture", u.Picture, d.Picture}} {
		if f.was != f.now {
			changed = append(changed, fmt.Sprintf("%s %q (was %q)", f.what, f.now, f.was))
		}
	}
	if len(changed) == 0 {
		return false, nil
	}
	if err := p.store.SetDisplay(ctx, u.ID, d); err != nil {
		return false, fmt.Errorf("set the display attributes of person %d: %w", u.ID, err)
	}
	p.adminEvent(ctx, u, store.EventAdminUserChanged, "set by the admin: "+strings.Join(changed, ", "))
	return true, nil
}
