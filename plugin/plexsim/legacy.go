package plexsim

import (
	"fmt"
	"net/http"
	"strings"
)

// resourceList is what /api/v2/resources and /api/resources show a persona: servers it owns,
// servers of its Home (home), servers shared with it, and its player.
type resourceEntry struct {
	srv   Server
	owned bool
	home  bool
}

func (s *Sim) resourceList(p *Persona) []resourceEntry {
	var out []resourceEntry
	shares := s.shares()
	for _, srv := range s.world.Servers {
		switch {
		case srv.Owner == p.Key:
			out = append(out, resourceEntry{srv, true, false})
		case p.HomeOf != "" && srv.Owner == p.HomeOf:
			out = append(out, resourceEntry{srv, false, true})
		default:
			for _, sh := range shares {
				if sh.User == p.Key && sh.MachineID == srv.MachineID && !sh.Pending {
					out = append(out, resourceEntry{srv, false, false})
				}
			}
		}
	}
	return out
}

// legacyResources is GET /api/resources: XML <Device> elements, always XML.
func (s *Sim) legacyResources(w http.ResponseWriter, r *http.Request) {
	p, tok, ok := s.authed(w, r)
	if !ok {
		return
	}
	list := s.resourceList(p)
	var b strings.Builder
	fmt.Fprintf(&b, `<MediaContainer size="%d">`, len(list)+1)
	for _, e := range list {
		owner := ""
		if !e.owned {
			if o := s.personas[e.srv.Owner]; o != nil {
				owner = fmt.Sprintf(` ownerID="%d" sourceTitle="%s"`, o.ID, xmlEsc(o.Username))
			}
		}
		fmt.Fprintf(&b, "\n  "+`<Device name="%s" product="%s" productVersion="1.43.3.10828" platform="Linux" platformVersion="6.17" device="Docker Container" clientIdentifier="%s" createdAt="1628211599" lastSeenAt="1763600000" provides="server" owned="%s" home="%s"%s accessToken="%s" publicAddress="203.0.113.10" httpsRequired="0" synced="0" relay="1" dnsRebindingProtection="0" natLoopbackSupported="0" publicAddressMatches="0" presence="1">`,
			xmlEsc(e.srv.Name), xmlEsc(e.srv.Product), e.srv.MachineID, b01(e.owned), b01(e.home), owner, xmlEsc(s.accessToken(p, tok, e)))
		c := s.connectionOf(e.srv)
		fmt.Fprintf(&b, "\n    "+`<Connection protocol="%s" address="%s" port="%d" uri="%s" local="%s"/>`+"\n  </Device>", c.Protocol, xmlEsc(c.Address), c.Port, xmlEsc(c.URI), b01(c.Local))
	}
	fmt.Fprintf(&b, "\n  "+`<Device name="Chrome" product="Plex Web" productVersion="4.145" platform="Chrome" clientIdentifier="player-%s" createdAt="1628211599" lastSeenAt="1763600000" provides="client,player,pubsub-player" owned="1" presence="0"/>`, p.UUID)
	b.WriteString("\n</MediaContainer>")
	writeXML(w, http.StatusOK, b.String())
}

// legacyAccount is GET /users/account (XML) and /users/account.json ({"user": {…}}).
func (s *Sim) legacyAccount(w http.ResponseWriter, r *http.Request) {
	p, tok, ok := s.authed(w, r)
	if !ok {
		return
	}
	if strings.HasSuffix(r.URL.Path, ".json") {
		s.mu.Lock()
		doc := s.userDoc(p, tok)
		s.mu.Unlock()
		doc["authentication_token"] = tok
		writeJSON(w, http.StatusOK, map[string]any{"user": doc})
		return
	}
	writeXML(w, http.StatusOK, fmt.Sprintf(`<user email="%s" id="%d" uuid="%s" username="%s" title="%s" thumb="https://plex.tv/users/%s/avatar" authenticationToken="%s" authToken="%s" restricted="%s" home="%s" hasPassword="%s"><username>%s</username><email>%s</email><authentication-token>%s</authentication-token></user>`,
		xmlEsc(p.Email), p.ID, p.UUID, xmlEsc(p.Username), xmlEsc(p.Title), p.UUID, tok, tok, b01(p.Managed), b01(p.HomeAdmin || p.HomeOf != ""),
		b01(p.Password != ""), xmlEsc(p.Username), xmlEsc(p.Email), tok))
}

// legacySignIn is POST /users/sign_in.json with user[login] and user[password]: 201 {"user": {…}}.
func (s *Sim) legacySignIn(w http.ResponseWriter, r *http.Request) {
	if plexParam(r, "X-Plex-Client-Identifier") == "" {
		writeError(w, r, http.StatusBadRequest, 1000, "X-Plex-Client-Identifier is missing")
		return
	}
	_ = r.ParseForm()
	login, password := r.PostForm.Get("user[login]"), r.PostForm.Get("user[password]")
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.world.Personas {
		q := &s.world.Personas[i]
		if login != "" && (strings.EqualFold(q.Username, login) || strings.EqualFold(q.Email, login)) && q.Password != "" && q.Password == password {
			tok := s.issueLocked(q.Key)
			doc := s.userDoc(q, tok)
			doc["authentication_token"] = tok
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusCreated)
			_, _ = fmt.Fprint(w, toJSON(map[string]any{"user": doc}))
			return
		}
	}
	writeError(w, r, http.StatusUnauthorized, 1001, "User could not be authenticated")
}

// homeUsersV2 is GET /api/v2/home/users (JSON): the Home with its users; managed users have null username and email.
func (s *Sim) homeUsersV2(w http.ResponseWriter, r *http.Request) {
	p, _, ok := s.authed(w, r)
	if !ok {
		return
	}
	a, members := s.home(p)
	if a == nil {
		writeError(w, r, http.StatusNotFound, 1002, "Home not found")
		return
	}
	users, base := []map[string]any{}, s.PublicURL()
	for _, m := range members {
		var username, email any = m.Username, m.Email
		if m.Managed {
			username, email = nil, nil
		}
		var profile any
		if m.Managed {
			profile = "little_kid"
		}
		users = append(users, map[string]any{"id": m.ID, "uuid": m.UUID, "title": m.Title, "username": username, "email": email,
			"thumb": avatarURL(base, m.UUID), "hasPassword": m.Password != "", "restricted": m.Managed,
			"restrictionProfile": profile, "admin": m.Key == a.Key, "guest": false, "protected": m.HomePIN != ""})
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": a.ID + 100000, "name": a.Title + "'s Home", "guestUserID": nil, "guestEnabled": false,
		"subscription": a.PlexPass, "users": users})
}

// home returns the admin of p's Plex Home and its members, admin first (nil when p has no Home).
func (s *Sim) home(p *Persona) (*Persona, []*Persona) {
	admin := p.Key
	if p.HomeOf != "" {
		admin = p.HomeOf
	}
	a := s.personas[admin]
	if a == nil || !a.HomeAdmin {
		return nil, nil
	}
	members := []*Persona{a}
	for i := range s.world.Personas {
		if s.world.Personas[i].HomeOf == admin {
			members = append(members, &s.world.Personas[i])
		}
	}
	return a, members
}

// linkPIN is PUT /api/v2/pins/link with form code=<code> and the linking user's token: 204.
func (s *Sim) linkPIN(w http.ResponseWriter, r *http.Request) {
	p, _, ok := s.authed(w, r)
	if !ok {
		return
	}
	_ = r.ParseForm()
	code := r.PostForm.Get("code")
	if code == "" {
		code = r.URL.Query().Get("code")
	}
	if err := s.Claim(code, p.Key); err != nil {
		writeError(w, r, http.StatusNotFound, 1020, "Code not found or expired")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
