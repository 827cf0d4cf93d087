package plexsim

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// wrap counts the request, applies latency and injected faults.
func (s *Sim) wrap(endpoint string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.counts[endpoint]++
		lat := s.latency
		var mode string
		if f := s.faults[endpoint]; f != nil {
			mode = f.mode
			if f.count > 0 {
				f.count--
				if f.count == 0 {
					delete(s.faults, endpoint)
				}
			}
		}
		s.mu.Unlock()
		if lat > 0 {
			select {
			case <-time.After(lat):
			case <-r.Context().Done():
				return
			}
		}
		switch mode {
		case "":
			h(w, r)
		case FaultRateLimit:
			// plex.tv sends no Retry-After.
			writeError(w, r, http.StatusTooManyRequests, 1003, "API rate limit exceeded")
		case Fault500, Fault503:
			code, _ := strconv.Atoi(mode)
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(code)
			_, _ = w.Write([]byte("<html><body><h1>Server Error</h1></body></html>"))
		case FaultTimeout:
			select {
			case <-r.Context().Done():
			case <-time.After(60 * time.Second):
			}
		case FaultMalformed:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"id": 12, "uuid": "abc", "username": "trunc`))
		case FaultOversized:
			w.Header().Set("Content-Type", "application/json")
			chunk := []byte(strings.Repeat(" ", 1<<16))
			_, _ = w.Write([]byte("["))
			for i := 0; i < 256; i++ { // 16 MiB
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
			_, _ = w.Write([]byte("]"))
		case FaultGone:
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusGone)
			_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Response code="410" status="This endpoint was deprecated and removed"/>`))
		case FaultInvalid:
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<errors> <error>Invalid token</error> </errors>`))
		}
	}
}

// plexParam reads an X-Plex-* value from the header, the query or a urlencoded form.
func plexParam(r *http.Request, name string) string {
	if v := r.Header.Get(name); v != "" {
		return v
	}
	if v := r.URL.Query().Get(name); v != "" {
		return v
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		_ = r.ParseForm()
		return r.PostForm.Get(name)
	}
	return ""
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json") || strings.HasSuffix(r.URL.Path, ".json")
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeXML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + body))
}

// writeError writes plex.tv's error envelope, JSON or XML as the request asks.
func writeError(w http.ResponseWriter, r *http.Request, status, code int, msg string) {
	if wantsJSON(r) {
		writeJSON(w, status, map[string]any{"errors": []map[string]any{{"code": code, "message": msg, "status": status}}})
		return
	}
	writeXML(w, status, fmt.Sprintf(`<errors>  <error code="%d" message="%s" status="%d"/></errors>`, code, xmlEsc(msg), status))
}

func xmlEsc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func b01(v bool) string {
	if v {
		return "1"
	}
	return "0"
}

// authed returns the persona of the request's token, or writes 401. Both kinds of token are
// taken ("servers accept both kinds", Plex's documentation; plex.tv the same): a legacy
// token the sim issued, or a Plex JWT it signed, which answers 498 "Token Expired" once
// expired (Plex's documentation) and 401 once its device is revoked.
func (s *Sim) authed(w http.ResponseWriter, r *http.Request) (*Persona, string, bool) {
	tok := plexParam(r, "X-Plex-Token")
	s.mu.Lock()
	key, ok := s.tokens[tok]
	p := s.personas[key]
	if !ok && isJWT(tok) {
		var err error
		p, err = s.plexJWTPersonaLocked(tok)
		ok = err == nil
		if errors.Is(err, errJWTExpired) {
			s.mu.Unlock()
			writeJWTError(w, r, 498, errJWTExpired.Error())
			return nil, "", false
		}
	}
	s.mu.Unlock()
	if !ok || p == nil {
		writeError(w, r, http.StatusUnauthorized, 1001, "User could not be authenticated")
		return nil, "", false
	}
	return p, tok, true
}
