package plexsim

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

func (s *Sim) userDoc(p *Persona, token string) map[string]any {
	home := p.HomeAdmin || p.HomeOf != ""
	homeSize := p.HomeSize
	if p.HomeOf != "" {
		if a := s.personas[p.HomeOf]; a != nil {
			homeSize = a.HomeSize
		}
	}
	if homeSize == 0 {
		homeSize = 1
	}
	var roles []string
	var status, plan any = "Inactive", nil
	if p.PlexPass {
		roles = []string{"plexpass"}
		status, plan = "Active", "lifetime"
	}
	var locale any
	if p.Locale != "" {
		locale = p.Locale
	}
	doc := map[string]any{
		"id": p.ID, "uuid": p.UUID, "username": p.Username, "title": p.Title, "email": p.Email, "friendlyName": p.Title,
		"locale": locale, "confirmed": p.Confirmed, "emailOnlyAuth": false, "hasPassword": p.Password != "", "protected": p.HomePIN != "",
		"thumb": avatarURL(s.publicURL, p.UUID) + "?c=1700000000", "authToken": token,
		"mailingListStatus": nil, "mailingListActive": false, "scrobbleTypes": "", "country": "GB",
		"subscription": map[string]any{"active": p.PlexPass, "subscribedAt": nil, "status": status, "paymentService": nil, "plan": plan,
			"features": []string{"home", "adaptive_bitrate"}},
		"subscriptionDescription": nil, "restricted": p.Managed, "anonymous": nil, "home": home, "guest": false,
		"homeSize": homeSize, "homeAdmin": p.HomeAdmin, "maxHomeSize": 15, "rememberExpiresAt": nil,
		"profile":      map[string]any{"autoSelectAudio": true, "defaultAudioLanguage": nil},
		"entitlements": []string{}, "services": []map[string]any{{"identifier": "epg", "endpoint": "https://epg.provider.plex.tv", "token": token, "status": "online"}},
		"twoFactorEnabled": p.TOTP != "", "backupCodesCreated": p.TOTP != "", "joinedAt": 1339124759,
	}
	if roles != nil {
		doc["roles"] = roles
	}
	if p.HomePIN != "" {
		doc["pin"] = "5f4dcc3b5aa765d61d8327deb882cf99"
	}
	return doc
}

func (s *Sim) user(w http.ResponseWriter, r *http.Request) {
	p, tok, ok := s.authed(w, r)
	if !ok {
		return
	}
	if !wantsJSON(r) {
		writeXML(w, http.StatusOK, fmt.Sprintf(`<user id="%d" uuid="%s" username="%s" title="%s" email="%s" confirmed="%s" restricted="%s" home="%s" homeAdmin="%s" thumb="%s"/>`,
			p.ID, p.UUID, xmlEsc(p.Username), xmlEsc(p.Title), xmlEsc(p.Email), b01(p.Confirmed), b01(p.Managed), b01(p.HomeAdmin || p.HomeOf != ""), b01(p.HomeAdmin),
			avatarURL(s.PublicURL(), p.UUID)))
		return
	}
	s.mu.Lock()
	doc := s.userDoc(p, tok)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, doc)
}

func (s *Sim) sharedUsers(w http.ResponseWriter, r *http.Request) {
	p, _, ok := s.authed(w, r)
	if !ok {
		return
	}
	type entry struct {
		p      *Persona
		shares []Share
	}
	users := map[string]*entry{}
	get := func(key string) *entry {
		if users[key] == nil {
			users[key] = &entry{p: s.personas[key]}
		}
		return users[key]
	}
	for _, sh := range s.shares() {
		if srv := s.serverByID(sh.MachineID); srv != nil && srv.Owner == p.Key {
			e := get(sh.User)
			e.shares = append(e.shares, sh)
		}
	}
	for _, f := range s.world.Friends[p.Key] {
		get(f)
	}
	for _, q := range s.world.Personas {
		if q.HomeOf == p.Key {
			get(q.Key)
		}
	}
	keys := make([]string, 0, len(users))
	for k := range users {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, `<MediaContainer friendlyName="myPlex" identifier="com.plexapp.plugins.myplex" machineIdentifier="%s" totalSize="%d" size="%d">`, ServerLivingRoom, len(keys), len(keys))
	for _, k := range keys {
		e := users[k]
		q := e.p
		fmt.Fprintf(&b, "\n  "+`<User id="%d" title="%s" username="%s" email="%s" recommendationsPlaylistId="" thumb="https://plex.tv/users/%s/avatar?c=1700000000" protected="%s" home="%s" allowTuners="0" allowSync="1" allowCameraUpload="0" allowChannels="0" allowSubtitleAdmin="0" filterAll="" filterMovies="" filterMusic="" filterPhotos="" filterTelevision="" restricted="%s">`,
			q.ID, xmlEsc(q.Title), xmlEsc(q.Username), xmlEsc(q.Email), q.UUID, b01(q.HomePIN != ""), b01(q.HomeOf == p.Key), b01(q.Managed))
		for i, sh := range e.shares {
			srv := s.serverByID(sh.MachineID)
			n := 0
			for _, sec := range srv.libraries() {
				if sh.shares(sec.Title) {
					n++
				}
			}
			fmt.Fprintf(&b, "\n    "+`<Server id="%d" serverId="%d" machineIdentifier="%s" name="%s" lastSeenAt="1763600000" numLibraries="%d" allLibraries="%s" owned="1" pending="%s"/>`,
				5558590+i, 8035120+i, srv.MachineID, xmlEsc(srv.Name), n, b01(sh.Sections == nil), b01(sh.Pending))
		}
		b.WriteString("\n  </User>")
	}
	b.WriteString("\n</MediaContainer>")
	writeXML(w, http.StatusOK, b.String())
}

func (s *Sim) homeUsers(w http.ResponseWriter, r *http.Request) {
	p, _, ok := s.authed(w, r)
	if !ok {
		return
	}
	a, members := s.home(p)
	if a == nil {
		writeXML(w, http.StatusOK, `<MediaContainer size="0" friendlyName="myPlex" identifier="com.plexapp.plugins.myplex"/>`)
		return
	}
	admin, base := a.Key, s.PublicURL()
	var b strings.Builder
	fmt.Fprintf(&b, `<MediaContainer size="%d" friendlyName="%s's Home" identifier="com.plexapp.plugins.myplex">`, len(members), xmlEsc(a.Title))
	for _, m := range members {
		rp := ""
		if m.Managed {
			rp = ` restrictionProfile="little_kid"`
		}
		fmt.Fprintf(&b, "\n  "+`<User id="%d" uuid="%s" admin="%s" guest="0" restricted="%s"%s protected="%s" title="%s" username="%s" email="%s" thumb="%s"/>`,
			m.ID, m.UUID, b01(m.Key == admin), b01(m.Managed), rp, b01(m.HomePIN != "" || m.Key == admin), xmlEsc(m.Title), xmlEsc(m.Username), xmlEsc(m.Email),
			xmlEsc(avatarURL(base, m.UUID)))
	}
	b.WriteString("\n</MediaContainer>")
	writeXML(w, http.StatusOK, b.String())
}

func (s *Sim) friends(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	legacy := s.friendsOK
	s.mu.Unlock()
	if !legacy {
		w.WriteHeader(http.StatusGone)
		return
	}
	p, _, ok := s.authed(w, r)
	if !ok {
		return
	}
	out := []map[string]any{}
	for _, k := range s.world.Friends[p.Key] {
		q := s.personas[k]
		out = append(out, map[string]any{"id": q.ID, "uuid": q.UUID, "username": q.Username, "email": q.Email, "title": q.Title, "status": "accepted"})
	}
	writeJSON(w, http.StatusOK, out)
}
