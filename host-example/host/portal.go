package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // DecodeConfig reads a JPEG icon's header
	_ "image/png"  // and a PNG's
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// The friends' portal: the apps a signed-in person may use, as tiles (protected apps and the
// OpenID Connect applications that have a launch URL), each with the icon the admin
// uploaded, served by the host from its own origin. The group gate is AppAdmits, as the
// doors use it.

// PortalStore is what the portal needs of the host's store (*store.Store is one).
type PortalStore interface {
	AppStore
	AppIcon(ctx context.Context, kind store.IconKind, appID string) (*store.AppIcon, error)
	AppIconStamps(ctx context.Context) (map[store.AppIconRef]time.Time, error)
	PutAppIcon(ctx context.Context, ic store.AppIcon) error
	DeleteAppIcon(ctx context.Context, kind store.IconKind, appID string) error
	AddEvent(ctx context.Context, e store.Event) error
}

var _ PortalStore = (*store.Store)(nil)

// Portal builds a person's tiles and keeps the apps' icons.
type Portal struct {
	st PortalStore
}

// NewPortal returns the portal over st.
func NewPortal(st PortalStore) *Portal { return &Portal{st: st} }

// Tile is an app on a person's portal.
type Tile struct {
	Name string
	// URL opens the app; Address is what the tile says of where (a host and path).
	URL, Address string
	// Kind and ID name the app (its icon's address).
	Kind store.IconKind
	ID   string
	// Icon is when the app's icon last changed (zero: the app has none).
	Icon time.Time
}

// Tiles are the apps whose group gate admits u, by name: the protected apps (reached with
// scheme, the site's own, at their host and path) and the OpenID Connect applications that
// have a launch URL (one without is not shown).
func (p *Portal) Tiles(ctx context.Context, u *store.User, scheme string) ([]Tile, error) {
	apps, err := readApps(ctx, p.st)
	if err != nil {
		return nil, fmt.Errorf("the portal of person %d: %w", u.ID, err)
	}
	icons, err := p.st.AppIconStamps(ctx)
	if err != nil {
		icons = nil // tiles without icons
	}
	var out []Tile
	for _, c := range apps.Clients {
		if c.LaunchURL == "" || !AppAdmits(c.AllowedGroups, u.Groups) {
			continue
		}
		addr := c.LaunchURL
		if l, err := url.Parse(c.LaunchURL); err == nil {
			addr = l.Host
		}
		out = append(out, Tile{Name: apps.Name(c.ID), URL: c.LaunchURL, Address: addr, Kind: store.ClientIcon, ID: c.ID,
			Icon: icons[store.AppIconRef{Kind: store.ClientIcon, AppID: c.ID}]})
	}
	for _, r := range apps.Rules {
		if !AppAdmits(r.Groups, u.Groups) {
			continue
		}
		name := r.Name
		if name == "" {
			name = r.Host + r.PathPrefix
		}
		out = append(out, Tile{Name: name, URL: (&url.URL{Scheme: scheme, Host: r.Host, Path: r.PathPrefix + "/"}).String(),
			Address: r.Host + r.PathPrefix, Kind: store.RuleIcon, ID: r.ID, Icon: icons[store.AppIconRef{Kind: store.RuleIcon, AppID: r.ID}]})
	}
	slices.SortStableFunc(out, func(a, b Tile) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return out, nil
}

// Icon is the icon of the app kind/id for viewer: a person sees only the icons of the
// tiles on their own portal, the admin (viewer nil) every app's; store.ErrNotFound for an
// app without an icon or not shown to viewer.
func (p *Portal) Icon(ctx context.Context, viewer *store.User, kind store.IconKind, id string) (*store.AppIcon, error) {
	if viewer != nil {
		tiles, err := p.Tiles(ctx, viewer, "https")
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(tiles, func(t Tile) bool { return t.Kind == kind && t.ID == id }) {
			return nil, fmt.Errorf("icon of %s %s: %w", kind, id, store.ErrNotFound)
		}
	}
	return p.st.AppIcon(ctx, kind, id)
}

// IconAt is when the icon of the app kind/id last changed (zero: none).
func (p *Portal) IconAt(ctx context.Context, kind store.IconKind, id string) time.Time {
	ic, err := p.st.AppIcon(ctx, kind, id)
	if err != nil {
		return time.Time{}
	}
	return ic.UpdatedAt
}

// MaxIconBytes is the largest icon an admin may upload.
const MaxIconBytes = 64 << 10

// maxIconSide is the widest and tallest icon (pixels) a PNG or JPEG may declare.
const maxIconSide = 1024

// IconRefused is an icon the checks refused, with why in words.
type IconRefused struct{ Reason string }

func (e *IconRefused) Error() string { return "icon refused: " + e.Reason }

// CheckIcon is the content type of an icon (image/png, image/jpeg or image/webp), detected
// from its bytes, never from a name or a header a browser sent: an SVG (which can carry
// script) or anything else is an *IconRefused, as is one over MaxIconBytes or one whose
// header does not decode.
func CheckIcon(data []byte) (string, error) {
	if len(data) == 0 {
		return "", &IconRefused{"the file is empty"}
	}
	if len(data) > MaxIconBytes {
		return "", &IconRefused{fmt.Sprintf("the file is larger than %d KB", MaxIconBytes>>10)}
	}
	ct := http.DetectContentType(data)
	switch ct {
	case "image/png", "image/jpeg":
		cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return "", &IconRefused{"the picture does not decode"}
		}
		if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxIconSide || cfg.Height > maxIconSide {
			return "", &IconRefused{fmt.Sprintf("the picture is %d×%d; at most %d×%d", cfg.Width, cfg.Height, maxIconSide, maxIconSide)}
		}
	case "image/webp":
		if len(data) < 16 || !slices.Contains([]string{"VP8 ", "VP8L", "VP8X"}, string(data[12:16])) {
			return "", &IconRefused{"the picture does not decode"}
		}
	default:
		return "", &IconRefused{"only PNG, JPEG or WebP pictures (this is " + strings.TrimSuffix(ct, "; charset=utf-8") + ")"}
	}
	return ct, nil
}

// SetIcon checks data (CheckIcon) and makes it the icon of the app kind/id, which must
// exist and not come from the clients file, whose page is read-only (store.ErrNotFound); the event is the app's change (admin_client_changed,
// admin_forward_rule_saved).
func (p *Portal) SetIcon(ctx context.Context, kind store.IconKind, id string, data []byte) error {
	event, err := p.iconApp(ctx, kind, id)
	if err != nil {
		return err
	}
	ct, err := CheckIcon(data)
	if err != nil {
		return err
	}
	if err := p.st.PutAppIcon(ctx, store.AppIcon{Kind: kind, AppID: id, ContentType: ct, Data: data}); err != nil {
		return err
	}
	_ = p.st.AddEvent(ctx, store.Event{Kind: event, Detail: string(kind) + " " + id + " icon set (" + ct + ")"})
	return nil
}

// RemoveIcon removes the icon of the app kind/id, which must exist (store.ErrNotFound).
func (p *Portal) RemoveIcon(ctx context.Context, kind store.IconKind, id string) error {
	event, err := p.iconApp(ctx, kind, id)
	if err != nil {
		return err
	}
	if err := p.st.DeleteAppIcon(ctx, kind, id); err != nil {
		return err
	}
	_ = p.st.AddEvent(ctx, store.Event{Kind: event, Detail: string(kind) + " " + id + " icon removed"})
	return nil
}

// iconApp is the event of a change of the app kind/id's icon, when the app exists.
func (p *Portal) iconApp(ctx context.Context, kind store.IconKind, id string) (store.EventKind, error) {
	apps, err := readApps(ctx, p.st)
	if err != nil {
		return "", err
	}
	switch {
	case kind == store.ClientIcon && slices.ContainsFunc(apps.Clients, func(c *store.OIDCClient) bool { return c.ID == id && c.Origin != "file" }):
		return store.EventAdminClientChanged, nil
	case kind == store.RuleIcon && slices.ContainsFunc(apps.Rules, func(r store.ForwardRule) bool { return r.ID == id }):
		return store.EventAdminForwardRuleSaved, nil
	}
	return "", fmt.Errorf("app %s %s: %w", kind, id, store.ErrNotFound)
}

// IsIconRefused reports whether err is an icon the checks refused, and why.
func IsIconRefused(err error) (string, bool) {
	var r *IconRefused
	if errors.As(err, &r) {
		return r.Reason, true
	}
	return "", false
}
