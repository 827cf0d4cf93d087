package web

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// When an admin form arrives without a live admin session (it expired, or the admin logged
// out in another tab), the edits are kept: a page asks for the password, carrying the form's
// fields, and after the login shows them again with a button that sends them on. They are
// never applied on their own: the same page is what a forged cross-site form would reach,
// and only the admin's own click sends it.

// resumeField is one field of a kept form.
type resumeField struct {
	Name, Value string
	// Shown is the value as displayed: secrets masked, long values cut.
	Shown string
}

// maxResumeFields bounds what a kept form carries.
const maxResumeFields = 200

// sessionEnded answers an admin POST without a live admin session or with a stale CSRF
// token: the admin login, with the form's fields kept.
func (s *adminKit) sessionEnded(w http.ResponseWriter, r *http.Request) {
	sess, r, err := s.session(w, r, true)
	if err != nil {
		http.Error(w, "session error", http.StatusInternalServerError)
		return
	}
	var fields []resumeField
	for name, values := range r.PostForm {
		if name == "csrf" {
			continue
		}
		for _, v := range values {
			if len(fields) < maxResumeFields {
				fields = append(fields, resumeField{Name: name, Value: v})
			}
		}
	}
	sort.SliceStable(fields, func(i, j int) bool { return fields[i].Name < fields[j].Name })
	data := s.adminLoginData(r, sess)
	data.Title, data.Resume, data.Fields = "Your admin session ended", resumeTarget(r.URL.Path), fields
	s.render(w, http.StatusUnauthorized, "adminlogin.html", data)
}

// resumeTarget is the kept form's action when it is an admin path (else "").
func resumeTarget(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.RawQuery != "" || !strings.HasPrefix(u.Path, "/admin/") ||
		strings.ContainsAny(raw, "\\\r\n\t") || strings.Contains(raw, "//") || strings.Contains(raw, "..") || strings.HasPrefix(raw, "/admin/login") {
		return ""
	}
	return u.Path
}

// keptFields reads the kept form's fields back from the login form.
func keptFields(r *http.Request) []resumeField {
	names, values := r.PostForm["resume_name"], r.PostForm["resume_value"]
	var out []resumeField
	for i := 0; i < len(names) && i < len(values) && i < maxResumeFields; i++ {
		f := resumeField{Name: names[i], Value: values[i], Shown: values[i]}
		if secretLike(f.Name) {
			f.Shown = "(hidden)"
		} else if len(f.Shown) > 300 {
			f.Shown = f.Shown[:300] + " …"
		}
		out = append(out, f)
	}
	return out
}

// secretLike reports whether a field name looks like a secret (masked when shown): its last
// word is token(s), secret, password, key or pin ("owner_token", not "password_login").
func secretLike(name string) bool {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') })
	if len(words) == 0 {
		return false
	}
	switch words[len(words)-1] {
	case "token", "tokens", "secret", "secrets", "password", "key", "pin":
		return true
	}
	return false
}
