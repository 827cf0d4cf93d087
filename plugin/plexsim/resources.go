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
	p, _, ok := s.authed(w, r)
	if !ok {
		return
	}
	var out []map[string]any
	add := func(srv Server, owned, home bool) {
		owner := s.personas[srv.Owner]
		var ownerID, sourceTitle any
		if !owned && owner != nil {
			ownerID, sourceTitle = owner.ID, owner.Username
		}
		out = append(out, map[string]any{
			"name": srv.Name, "product": srv.Product, "productVersion": "1.43.3.10828-00f62d37d", "platform": "Linux",
			"platformVersion": "6.17", "device": "Docker Container", "clientIdentifier": srv.MachineID,
			"createdAt": "2017-07-19T03:29:26Z", "lastSeenAt": "2026-11-20T19:47:43Z", "provides": "server",
			"ownerId": ownerID, "sourceTitle": sourceTitle, "publicAddress": nil, "accessToken": "srv" + srv.MachineID[:8],
			"owned": owned, "home": home, "synced": false, "relay": false, "presence": true, "httpsRequired": false,
			"publicAddressMatches": true, "dnsRebindingProtection": true, "natLoopbackSupported": true, "searchEnabled": true,
			"connections": []map[string]any{{"IPv6": false, "address": "10.0.0.10", "local": true, "port": 32400, "protocol": "https",
				"relay": false, "uri": "https://10-0-0-10." + srv.MachineID + ".plex.direct:32400"}},
		})
	}
	for _, e := range s.resourceList(p) {
		add(e.srv, e.owned, e.home)
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
		for _, k := range []string{"name", "product", "productVersion", "platform", "clientIdentifier", "provides", "ownerId", "sourceTitle", "owned", "home", "presence", "lastSeenAt"} {
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
				fmt.Fprintf(&b, `<connection protocol="%v" address="%v" port="%v" uri="%v" local="%s"/>`, c["protocol"], c["address"], c["port"], c["uri"], b01(c["local"] == true))
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
		fmt.Fprintf(&b, "\n  "+`<SharedServer id="%d" username="%s" email="%s" userID="%d" accessToken="shr%d" name="%s" acceptedAt="%s" invitedAt="1690000000" allowSync="1" owned="1" allLibraries="1"><Section id="1" key="1" title="Films" type="movie" shared="1"/></SharedServer>`,
			9000+i, xmlEsc(q.Username), xmlEsc(q.Email), q.ID, 9000+i, xmlEsc(srv.Name), accepted)
	}
	b.WriteString("\n</MediaContainer>")
	writeXML(w, http.StatusOK, b.String())
}
