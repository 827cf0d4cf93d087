package plexsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/url"
	"strconv"
)

// ServerToken is the access token plex.tv hands the persona with this key for the server
// with this machine identifier when it is shared with him or in his Home: stable for the
// sim's life, distinct per user and per server, and unguessable without the sim's key.
// A server's owner gets his own account token instead (see accessToken).
func (s *Sim) ServerToken(user, machineID string) string {
	m := hmac.New(sha256.New, s.serverKey) // serverKey is set once by New
	m.Write([]byte(user))
	m.Write([]byte{0})
	m.Write([]byte(machineID))
	// 20 characters of the base64url alphabet, like the opaque tokens of real shares.
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:15])
}

// accessToken is a resource's accessToken for persona p, who called with token tok: the
// owner's own account token on an owned server, else his per-server token.
func (s *Sim) accessToken(p *Persona, tok string, e resourceEntry) string {
	if e.owned {
		return tok
	}
	return s.ServerToken(p.Key, e.srv.MachineID)
}

// connection is a server's connection in resources: its simulated PMS when the sim knows
// its public URL, else a LAN plex.direct address as real plex.tv lists.
type connection struct {
	Protocol string
	Address  string
	Port     int
	URI      string
	Local    bool
}

func (s *Sim) connectionOf(srv Server) connection {
	if base := s.PMSURL(srv.MachineID); base != "" {
		if u, err := url.Parse(base); err == nil {
			port, _ := strconv.Atoi(u.Port())
			if port == 0 {
				port = 80
				if u.Scheme == "https" {
					port = 443
				}
			}
			local := false
			if ip := net.ParseIP(u.Hostname()); u.Hostname() == "localhost" || (ip != nil && (ip.IsLoopback() || ip.IsPrivate())) {
				local = true
			}
			return connection{Protocol: u.Scheme, Address: u.Hostname(), Port: port, URI: base, Local: local}
		}
	}
	return connection{Protocol: "https", Address: "10.0.0.10", Port: 32400, URI: "https://10-0-0-10." + srv.MachineID + ".plex.direct:32400", Local: true}
}
