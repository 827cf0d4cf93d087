package web

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// The friends' portal (host.Portal decides): at / a signed-in person sees the apps that admit
// them as tiles; the apps' icons are served from this origin; the admin uploads them on an
// app's page.

// portalPages are the portal and the icons it shows.
type portalPages struct {
	*adminKit
	people *host.People
	portal *host.Portal
}

// portalPage is portal.html's data.
type portalPage struct {
	Head
	// Name is the person's name in words.
	Name  string
	Tiles []host.Tile
}

// maxIconBody caps an icon upload's body: the icon (host.MaxIconBytes) and room to say it is
// too large in words; a larger body is refused before it is read (413).
const maxIconBody = 4 * host.MaxIconBytes

// iconUploads are the routes that take a multipart body (serve refuses it everywhere else).
var iconUploads = func() *http.ServeMux {
	m := http.NewServeMux()
	for _, p := range []string{"POST /admin/clients/{id}/icon", "POST /admin/forward-auth/{id}/icon"} {
		m.Handle(p, uploadRoute{})
	}
	return m
}()

// uploadRoute marks the handler iconUploads finds for an upload route itself.
type uploadRoute struct{}

func (uploadRoute) ServeHTTP(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }

// takesUpload reports whether r is an icon upload, the one kind of request with a file: the
// mux routes it to an upload route itself (an unclean path such as /admin//clients/x/icon is
// only redirected there, outside the admin guard, so it takes no multipart body).
func takesUpload(r *http.Request) bool {
	h, _ := iconUploads.Handler(r)
	_, ok := h.(uploadRoute)
	return ok
}

// readUpload reads an icon upload's multipart body, in memory (serve capped it at maxIconBody),
// for a request the admin guard found an admin session on; false: it answered the request.
func readUpload(w http.ResponseWriter, r *http.Request) bool {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "multipart/form-data" {
		return true
	}
	if err := r.ParseMultipartForm(maxIconBody); err != nil {
		w.Header().Set("Connection", "close")
		http.Error(w, "the upload could not be read (too large?)", http.StatusRequestEntityTooLarge)
		return false
	}
	return true
}

// routes mounts the portal, the icons, and the admin's icon uploads.
func (s *portalPages) routes(m *http.ServeMux) {
	m.HandleFunc("GET /{$}", s.handle(s.home))
	m.HandleFunc("GET /apps/icon/{kind}/{id}", s.handle(s.icon))
	for pattern, h := range map[string]http.HandlerFunc{
		"POST /admin/clients/{id}/icon":             s.handle(s.setIcon(store.ClientIcon)),
		"POST /admin/clients/{id}/icon/delete":      s.handle(s.removeIcon(store.ClientIcon)),
		"POST /admin/forward-auth/{id}/icon":        s.handle(s.setIcon(store.RuleIcon)),
		"POST /admin/forward-auth/{id}/icon/delete": s.handle(s.removeIcon(store.RuleIcon)),
	} {
		m.HandleFunc(pattern, s.admin(h))
	}
}

// home is the portal of a signed-in person, else the sign-in page.
func (s *portalPages) home(w http.ResponseWriter, r *http.Request) error {
	u, r, ok := s.personOrLogin(w, r, s.people)
	if !ok {
		return nil
	}
	tiles, err := s.portal.Tiles(r.Context(), u, s.cfg.PublicURL.Scheme)
	if err != nil {
		return err
	}
	s.render(w, http.StatusOK, "portal.html", &portalPage{Head: Head{Session: sessionOf(r)}, Name: host.NameOf(u.Name, u.Username), Tiles: tiles})
	return nil
}

// icon serves an app's icon to a signed-in person whose portal shows the app, or to the
// admin; anyone else, and an app without one, gets 404. It is served as the type its bytes
// were checked to be, never sniffed, cached privately (its address changes with it).
func (s *portalPages) icon(w http.ResponseWriter, r *http.Request) error {
	kind := store.IconKind(r.PathValue("kind"))
	if kind != store.ClientIcon && kind != store.RuleIcon {
		http.NotFound(w, r)
		return nil
	}
	sess, r, err := s.session(w, r, false)
	if err != nil || sess == nil || (sess.UserID == 0 && !sess.Admin) {
		http.NotFound(w, r)
		return nil
	}
	var viewer *store.User // the admin's: every app
	if !sess.Admin || !s.stillSourceAdmin(r, sess) {
		if sess.UserID == 0 {
			http.NotFound(w, r)
			return nil
		}
		if viewer, err = s.people.Get(r.Context(), sess.UserID); err != nil {
			http.NotFound(w, r)
			return nil
		}
	}
	ic, err := s.portal.Icon(r.Context(), viewer, kind, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return nil
	}
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", ic.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(ic.Data)))
	h.Set("Cache-Control", "private, max-age=86400")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	_, _ = w.Write(ic.Data)
	return nil
}

// appPage is where the admin edits the app of kind and id; appList the list of its kind.
func appPage(kind store.IconKind, id string) string { return appList(kind) + "/" + url.PathEscape(id) }

func appList(kind store.IconKind) string {
	if kind == store.ClientIcon {
		return "/admin/clients"
	}
	return "/admin/forward-auth"
}

// setIcon makes the uploaded file (field "icon") the app's icon, or says why not.
func (s *portalPages) setIcon(kind store.IconKind) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		back := appPage(kind, id)
		if r.MultipartForm == nil || len(r.MultipartForm.File["icon"]) != 1 {
			s.message(w, r, http.StatusBadRequest, "No icon", "Choose a PNG, JPEG or WebP picture to upload.", back)
			return nil
		}
		f, err := r.MultipartForm.File["icon"][0].Open()
		if err != nil {
			return err
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, host.MaxIconBytes+1))
		if err != nil {
			return err
		}
		err = s.portal.SetIcon(r.Context(), kind, id, data)
		if why, ok := host.IsIconRefused(err); ok {
			s.message(w, r, http.StatusUnprocessableEntity, "Icon refused", "The icon was not saved: "+why+".", back)
			return nil
		}
		if err != nil {
			return err
		}
		s.redirectFlash(w, r, appList(kind), "Saved the icon.", "info")
		return nil
	}
}

// removeIcon removes the app's icon.
func (s *portalPages) removeIcon(kind store.IconKind) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		if err := s.portal.RemoveIcon(r.Context(), kind, id); err != nil {
			return err
		}
		s.redirectFlash(w, r, appList(kind), "Removed the icon.", "info")
		return nil
	}
}

// iconForm is an app page's icon upload: where it posts, and the current icon ("": none).
type iconForm struct{ Action, Icon string }

// iconFormOf is the icon upload of the app kind/id.
func iconFormOf(ctx context.Context, p *host.Portal, kind store.IconKind, id string) iconForm {
	return iconForm{Action: appPage(kind, id) + "/icon", Icon: iconURL(kind, id, p.IconAt(ctx, kind, id))}
}

// iconURL is the address of an app's icon that changes with it ("" when it has none).
func iconURL(kind store.IconKind, id string, at time.Time) string {
	if at.IsZero() {
		return ""
	}
	return "/apps/icon/" + string(kind) + "/" + url.PathEscape(id) + "?v=" + strconv.FormatInt(at.Unix(), 10)
}
