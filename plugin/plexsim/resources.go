package plexsim

import (
	"fmt"
	"net/http"
	"strings"
)

func (s *Sim) serverByID(mid string) *Server {
	for i := range s.world.Servers {
		if s.world.Servers[i].MachineID == mid {
			return &s.world.Servers[i]
		}
	}
	return nil
}

func (s *Sim) resources(w http.ResponseWriter, r *http.Request) {
	p, tok, ok := s.authed(w, r)
	if !ok {
		return
	}
	var out []map[string]any
	for _, e := range s.resourceList(p) {
		srv := e.srv
		owner := s.personas[srv.Owner]
		var ownerID, sourceTitle any
		if !e.owned && owner != nil {
			ownerID, sourceTitle = owner.ID, owner.Username
		}
		c := s.connectionOf(srv)
		out = append(out, map[string]any{
			"name": srv.Name, "product": srv.Product, "productVersion": "1.43.3.10828-00f62d37d", "platform": "Linux",
			"platformVersion": "6.17", "device": "Docker Container", "clientIdentifier": srv.MachineID,
			"createdAt": "2017-07-19T03:29:26Z", "lastSeenAt": "2026-11-20T19:47:43Z", "provides": "server",
			"ownerId": ownerID, "sourceTitle": sourceTitle, "publicAddress": nil, "accessToken": s.accessToken(p, tok, e),
			"owned": e.owned, "home": e.home, "synced": false, "relay": false, "presence": true, "httpsRequired": false,
			"publicAddressMatches": true, "dnsRebindingProtection": true, "natLoopbackSupported": true, "searchEnabled": true,
			"connections": []map[string]any{{"IPv6": false, "address": c.Address, "local": c.Local, "port": c.Port, "protocol": c.Protocol,
				"relay": false, "uri": c.URI}},
		})
	}
	// Every account has a player; players are owned too and provide no server.
	out = append(out, map[string]any{"name": "Chrome", "product": "Plex Web", "productVersion": "4.145", "platform": "Chrome",
		"clientIdentifier": "player-" + p.UUID, "provides": "client,player,pubsub-player", "owned": true, "home": false,
		"ownerId": nil, "sourceTitle": nil, "presence": false, "lastSeenAt": "2026-11-20T19:47:43Z", "connections": []any{}})
	if !wantsJSON(r) {
		writeXML(w, http.StatusOK, resourcesXML(out))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// resourcesXML renders v2 resources as python-plexapi reads them: <resource> with <connections>.
func resourcesXML(list []map[string]any) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<MediaContainer size="%d">`, len(list))
	for _, r := range list {
		b.WriteString("\n  <resource")
		for _, k := range []string{"name", "product", "productVersion", "platform", "clientIdentifier", "provides", "ownerId", "sourceTitle", "accessToken", "owned", "home", "presence", "lastSeenAt"} {
			v, ok := r[k]
			if !ok || v == nil {
				continue
			}
			if bv, isBool := v.(bool); isBool {
				v = b01(bv)
			}
			fmt.Fprintf(&b, ` %s="%s"`, k, xmlEsc(fmt.Sprint(v)))
		}
		b.WriteString("><connections>")
		if conns, ok := r["connections"].([]map[string]any); ok {
			for _, c := range conns {
				fmt.Fprintf(&b, `<connection protocol="%v" address="%s" port="%v" uri="%s" local="%s"/>`, c["protocol"], xmlEsc(fmt.Sprint(c["address"])), c["port"], xmlEsc(fmt.Sprint(c["uri"])), b01(c["local"] == true))
			}
		}
		b.WriteString("</connections></resource>")
	}
	b.WriteString("\n</MediaContainer>")
	return b.String()
}
func (s *Sim) sharedServers(w http.ResponseWriter, r *http.Request) {
	p, _, ok := s.authed(w, r)
	if !ok {
		return
	}
	srv := s.serverByID(r.PathValue("mid"))
	if srv == nil || srv.Owner != p.Key {
		writeError(w, r, http.StatusUnauthorized, 1001, "User could not be authenticated")
		return
	}
	var b strings.Builder
	b.WriteString(`<MediaContainer friendlyName="myPlex" identifier="com.plexapp.plugins.myplex">`)
	for i, sh := range s.shares() {
		if sh.MachineID != srv.MachineID {
			continue
		}
		q := s.personas[sh.User]
		accepted := "1700000000"
		if sh.Pending {
			accepted = ""
		}
		fmt.Fprintf(&b, "\n  "+`<SharedServer id="%d" username="%s" email="%s" userID="%d" accessToken="%s" name="%s" acceptedAt="%s" invitedAt="1690000000" allowSync="1" owned="1" allLibraries="%s">`,
			9000+i, xmlEsc(q.Username), xmlEsc(q.Email), q.ID, s.ServerToken(sh.User, srv.MachineID), xmlEsc(srv.Name), accepted, b01(sh.Sections == nil))
		for _, sec := range srv.libraries() {
			fmt.Fprintf(&b, `<Section id="%s" key="%s" title="%s" type="%s" shared="%s"/>`, sec.Key, sec.Key, xmlEsc(sec.Title), sec.Type, b01(sh.shares(sec.Title)))
		}
		b.WriteString("</SharedServer>")
	}
	b.WriteString("\n</MediaContainer>")
	writeXML(w, http.StatusOK, b.String())
}
