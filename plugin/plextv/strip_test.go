package plextv_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/plugin/plextv"
)

// Secret fields are stripped whatever their case or spelling, at any depth.
func TestStripSecretsCaseInsensitive(t *testing.T) {
	doc := `{"id":1,"username":"frank","AuthToken":"s1","Token":"s2","X-Plex-Token":"s3","refreshToken":"s4","jwt":"s5",
		"password":"s6","services":[{"identifier":"metadata","secret":"s7","endpoint":"https://x"}],
		"profile":{"auth_token":"s8","PIN":"s9","apiKey":"s10","client_secret":"s11","privateKey":"s12"},"thumb":"https://t"}`
	u, err := plextv.DecodeUser([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(u.Raw)
	for i := 1; i <= 12; i++ {
		if strings.Contains(string(out), `"s`+itoa(i)+`"`) {
			t.Errorf("secret s%d survived: %s", i, out)
		}
	}
	for _, keep := range []string{`"username":"frank"`, `"identifier":"metadata"`, `"thumb":"https://t"`} {
		if !strings.Contains(string(out), keep) {
			t.Errorf("%s was stripped: %s", keep, out)
		}
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
