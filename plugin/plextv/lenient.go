package plextv

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strconv"
	"strings"
)

// Bool decodes true/false, "0"/"1", "true"/"false", 0/1 and null (false).
type Bool bool

// UnmarshalJSON accepts booleans, numbers, strings and null.
func (b *Bool) UnmarshalJSON(data []byte) error {
	*b = Bool(parseBool(strings.Trim(string(bytes.TrimSpace(data)), `"`)))
	return nil
}

// UnmarshalXMLAttr accepts "0", "1", "true" and "false".
func (b *Bool) UnmarshalXMLAttr(a xml.Attr) error {
	*b = Bool(parseBool(a.Value))
	return nil
}

func parseBool(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// Int decodes numbers, numeric strings and null (0).
type Int int64

// UnmarshalJSON accepts numbers, numeric strings and null.
func (i *Int) UnmarshalJSON(data []byte) error {
	*i = Int(parseInt(strings.Trim(string(bytes.TrimSpace(data)), `"`)))
	return nil
}

// UnmarshalXMLAttr accepts a decimal attribute; anything else is 0.
func (i *Int) UnmarshalXMLAttr(a xml.Attr) error {
	*i = Int(parseInt(a.Value))
	return nil
}

func parseInt(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if ferr != nil {
			return 0
		}
		return int64(f)
	}
	return n
}

// String decodes strings, numbers (as their text) and null ("").
type String string

// UnmarshalJSON accepts strings, numbers, booleans and null.
func (s *String) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		var v string
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		*s = String(v)
		return nil
	}
	if string(data) == "null" {
		*s = ""
		return nil
	}
	if len(data) > 0 && (data[0] == '{' || data[0] == '[') {
		*s = ""
		return nil
	}
	*s = String(data)
	return nil
}

// List decodes a comma-separated list ("server,player") or a JSON array of strings.
type List []string

// UnmarshalJSON accepts "a,b", ["a","b"] and null.
func (l *List) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		var v []String
		if err := json.Unmarshal(data, &v); err != nil {
			return nil
		}
		*l = nil
		for _, x := range v {
			*l = append(*l, strings.TrimSpace(string(x)))
		}
		return nil
	}
	var s String
	if err := s.UnmarshalJSON(data); err != nil {
		return nil
	}
	*l = splitList(string(s))
	return nil
}

// UnmarshalXMLAttr splits a comma list.
func (l *List) UnmarshalXMLAttr(a xml.Attr) error {
	*l = splitList(a.Value)
	return nil
}

func splitList(s string) List {
	var out List
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Has reports whether the list contains v, ignoring case.
func (l List) Has(v string) bool {
	for _, x := range l {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// secretNames and secretSuffixes name fields removed from every plex.tv document before it
// leaves this package's callers; names are compared lowercased, without - _ . and spaces.
var (
	secretNames    = map[string]bool{"pin": true, "code": true, "otp": true, "verificationcode": true, "cookie": true, "session": true}
	secretSuffixes = []string{"token", "secret", "password", "passwd", "jwt", "apikey", "privatekey", "credential", "credentials", "signature"}
	secretFold     = strings.NewReplacer("-", "", "_", "", ".", "", " ", "")
)

// IsSecretName reports whether a document field of this name may hold a secret.
func IsSecretName(name string) bool {
	n := secretFold.Replace(strings.ToLower(name))
	if secretNames[n] {
		return true
	}
	for _, s := range secretSuffixes {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}

// StripSecrets removes secret-looking fields (IsSecretName) at any depth of a decoded JSON document.
func StripSecrets(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if IsSecretName(k) {
				delete(t, k)
				continue
			}
			t[k] = StripSecrets(x)
		}
	case []any:
		for i, x := range t {
			t[i] = StripSecrets(x)
		}
	}
	return v
}
