package plexsim

import (
	"crypto/hmac"
	"fmt"
	"net/http"
	"strings"
)

// PMSPrefix is the path under which the sim serves each simulated Plex Media Server:
// PMSPrefix + machineID + "/identity", PMSPrefix + machineID + "/library/sections".
const PMSPrefix = "/pms/"

// pmsVersion is the version the simulated servers report, as resources do.
const pmsVersion = "1.43.3.10828-00f62d37d"

// pmsIdentity is a PMS's GET /identity: answered without a token, as the real one does.
func (s *Sim) pmsIdentity(w http.ResponseWriter, r *http.Request) {
	srv := s.serverByID(r.PathValue("mid"))
	if srv == nil {
		http.NotFound(w, r)
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]any{"MediaContainer": map[string]any{"size": 0, "claimed": true,
			"machineIdentifier": srv.MachineID, "version": pmsVersion}})
		return
	}
	writeXML(w, http.StatusOK, fmt.Sprintf(`<MediaContainer size="0" claimed="1" machineIdentifier="%s" version="%s"/>`, srv.MachineID, pmsVersion))
}

// pmsSections is a PMS's GET /library/sections: the libraries the X-Plex-Token may see.
func (s *Sim) pmsSections(w http.ResponseWriter, r *http.Request) {
	srv := s.serverByID(r.PathValue("mid"))
	if srv == nil {
		http.NotFound(w, r)
		return
	}
	share, ok := s.pmsViewer(srv, plexParam(r, "X-Plex-Token"))
	if !ok {
		// The real server answers a bare HTML page, not plex.tv's error envelope.
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>"))
		return
	}
	var secs []Section
	for _, sec := range srv.libraries() {
		if share == nil || share.shares(sec.Title) {
			secs = append(secs, sec)
		}
	}
	if wantsJSON(r) {
		dirs := []map[string]any{}
		for _, sec := range secs {
			d := map[string]any{}
			for k, v := range directoryAttrs(srv, sec) {
				d[k] = v
			}
			d["Location"] = []map[string]any{{"id": sec.Key, "path": "/data/" + sec.Type}}
			dirs = append(dirs, d)
		}
		writeJSON(w, http.StatusOK, map[string]any{"MediaContainer": map[string]any{"size": len(secs), "allowSync": false,
			"title1": "Plex Library", "Directory": dirs}})
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<MediaContainer size="%d" allowSync="0" title1="Plex Library">`, len(secs))
	for _, sec := range secs {
		a := directoryAttrs(srv, sec)
		b.WriteString("\n  <Directory")
		for _, k := range []string{"allowSync", "art", "composite", "filters", "refreshing", "thumb", "key", "type", "title", "agent", "scanner",
			"language", "uuid", "updatedAt", "createdAt", "scannedAt", "content", "directory", "hidden"} {
			v := a[k]
			if bv, isBool := v.(bool); isBool {
				v = b01(bv)
			}
			fmt.Fprintf(&b, ` %s="%s"`, k, xmlEsc(fmt.Sprint(v)))
		}
		fmt.Fprintf(&b, `><Location id="%s" path="/data/%s"/></Directory>`, sec.Key, sec.Type)
	}
	b.WriteString("\n</MediaContainer>")
	writeXML(w, http.StatusOK, b.String())
}

// agents is the metadata agent and scanner of each library type.
var agents = map[string][2]string{
	"movie":  {"tv.plex.agents.movie", "Plex Movie"},
	"show":   {"tv.plex.agents.series", "Plex TV Series"},
	"artist": {"tv.plex.agents.music", "Plex Music"},
	"photo":  {"com.plexapp.agents.none", "Plex Photo Scanner"},
}

// directoryAttrs is a library section's <Directory> attributes, as python-plexapi's LibrarySection reads them.
func directoryAttrs(srv *Server, sec Section) map[string]any {
	ag := agents[sec.Type]
	return map[string]any{"allowSync": true, "art": "/:/resources/" + sec.Type + "-fanart.jpg",
		"composite": "/library/sections/" + sec.Key + "/composite/1700000000", "filters": true, "refreshing": false,
		"thumb": "/:/resources/" + sec.Type + ".png", "key": sec.Key, "type": sec.Type, "title": sec.Title, "agent": ag[0],
		"scanner": ag[1], "language": "en-US", "uuid": srv.MachineID + "-" + sec.Key,
		"updatedAt": 1700000000, "createdAt": 1600000000, "scannedAt": 1700000000, "content": true, "directory": true, "hidden": 0}
}

// pmsViewer decides whether tok may read server srv, and through which share: the owner's
// live account tokens and those of his Home's members (a switched-to managed profile's too)
// see everything (share nil); anyone else only with his own per-server token of a live,
// accepted share. A friend's plex.tv account token is refused: a shared server takes only
// the token plex.tv handed out for it.
func (s *Sim) pmsViewer(srv *Server, tok string) (share *Share, ok bool) {
	if tok == "" {
		return nil, false
	}
	s.mu.Lock()
	key, live := s.tokens[tok]
	s.mu.Unlock()
	if live {
		p := s.personas[key]
		return nil, p != nil && !p.Revoked && (key == srv.Owner || p.HomeOf == srv.Owner)
	}
	for i := range s.world.Personas {
		p := &s.world.Personas[i]
		if p.Revoked || !hmac.Equal([]byte(s.ServerToken(p.Key, srv.MachineID)), []byte(tok)) {
			continue
		}
		for _, e := range s.resourceList(p) {
			if e.srv.MachineID != srv.MachineID || e.owned {
				continue
			}
			if e.home {
				return nil, true
			}
			for _, sh := range s.shares() {
				if sh.User == p.Key && sh.MachineID == srv.MachineID && !sh.Pending {
					return &sh, true
				}
			}
		}
	}
	return nil, false
}
