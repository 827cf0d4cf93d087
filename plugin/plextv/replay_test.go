package plextv

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// fixtures is the team kit's recorded plex.tv samples beside the checkout (CI has it).
func fixtures(t *testing.T) string {
	dir := filepath.Join("..", "..", "..", "shared", "fixtures")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("../shared/fixtures not present")
	}
	return dir
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReplayRecordedFixtures(t *testing.T) {
	dir := fixtures(t)
	rs := filepath.Join(dir, "plex-api.rs")
	decoded := 0

	for _, name := range []string{"api_v2_pins_new.json", "api_v2_pins_linked.json"} {
		p, err := DecodePIN(read(t, filepath.Join(rs, name)))
		if err != nil || p.ID == 0 || p.Code == "" {
			t.Errorf("%s: %+v %v", name, p, err)
		}
		if strings.Contains(name, "linked") != (p.Token() != "") {
			t.Errorf("%s: token %q", name, p.Token())
		}
		decoded++
	}
	users, _ := filepath.Glob(filepath.Join(rs, "api_v2_user_user_info_*.json"))
	for _, f := range users {
		u, err := DecodeUser(read(t, f))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		guest := strings.Contains(f, "guest")
		if guest != (u.Username == "" && u.Email == "") {
			t.Errorf("%s: username %q email %q", f, u.Username, u.Email)
		}
		for _, k := range []string{"authToken", "pin"} {
			if _, ok := u.Raw[k]; ok {
				t.Errorf("%s: %s survived stripping", f, k)
			}
		}
		if strings.Contains(f, "plexpass") && !strings.Contains(f, "guest") && !u.PlexPass() {
			t.Errorf("%s: Plex Pass not seen", f)
		}
		decoded++
	}
	res, err := DecodeResources(read(t, filepath.Join(rs, "api_v2_resources.json")))
	if err != nil {
		t.Errorf("resources: %v", err)
	}
	servers := 0
	for _, r := range res {
		if r.IsServer() {
			servers++
		}
	}
	if servers == 0 {
		t.Errorf("resources: no server among %d", len(res))
	}
	decoded++
	friends, _ := filepath.Glob(filepath.Join(rs, "api_v2_friends_*.json"))
	for _, f := range friends {
		base := filepath.Base(f)
		if !strings.Contains(base, "accepted") && !strings.Contains(base, "empty") && !strings.Contains(base, "pending") {
			continue
		}
		if _, err := DecodeFriends(read(t, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		decoded++
	}

	// XML of /api/users embedded in the 2019 Rust test.
	src := string(read(t, filepath.Join(dir, "plex-api.rs-2019", "users.rs")))
	m := regexp.MustCompile(`(?s)r##"(.*?)"##`).FindStringSubmatch(src)
	if m == nil {
		t.Fatal("no XML in users.rs")
	}
	su, err := DecodeSharedUsers([]byte(strings.TrimSpace(m[1])))
	if err != nil || len(su) == 0 || len(su[0].Servers) == 0 || su[0].Servers[0].MachineIdentifier == "" {
		t.Errorf("users.rs: %+v %v", su, err)
	}
	decoded++

	// Error bodies quoted from issue logs.
	body := string(read(t, filepath.Join(dir, "misc-captures", "error_bodies.md")))
	want := map[string]int{"1000": 1000, "1029": 1029, "1031": 1031, "1041": 1041}
	for _, row := range strings.Split(body, "\n") {
		cells := strings.Split(row, "|")
		if len(cells) < 4 {
			continue
		}
		b := strings.Trim(strings.TrimSpace(cells[2]), "`")
		if !strings.HasPrefix(b, "{") && !strings.HasPrefix(b, "<") {
			continue
		}
		e := decodeError([]byte(b))
		for code, n := range want {
			if strings.Contains(b, `"code":`+code) || strings.Contains(b, `code="`+code+`"`) {
				if e.Code != n {
					t.Errorf("error body %s: code %d", b, e.Code)
				}
			}
		}
		if strings.Contains(b, "Invalid token") && e.Message != "Invalid token" {
			t.Errorf("422 body: %+v", e)
		}
		if strings.Contains(b, `<Response code="410"`) && e.Code != 410 {
			t.Errorf("410 body: %+v", e)
		}
		decoded++
	}
	t.Logf("decoded %d recorded documents", decoded)
	if decoded < 10 {
		t.Errorf("only %d documents decoded", decoded)
	}
}
