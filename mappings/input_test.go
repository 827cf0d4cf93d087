package mappings

import (
	"reflect"
	"strings"
	"testing"
)

// The tests' declared input is the Plex plugin's: its user shape, as the plugin declares it.

// User is the normalized upstream user, as variable `user`.
type User struct {
	ID           int64    `cel:"id" json:"id"`
	UUID         string   `cel:"uuid" json:"uuid"`
	Username     string   `cel:"username" json:"username"`
	Title        string   `cel:"title" json:"title"`
	Email        string   `cel:"email" json:"email"`
	Confirmed    bool     `cel:"confirmed" json:"confirmed"`
	Thumb        string   `cel:"thumb" json:"thumb"`
	Locale       string   `cel:"locale" json:"locale"`
	PlexPass     bool     `cel:"plex_pass" json:"plex_pass"`
	TwoFactor    bool     `cel:"two_factor" json:"two_factor"`
	IsOwner      bool     `cel:"is_owner" json:"is_owner"`
	IsHomeMember bool     `cel:"is_home_member" json:"is_home_member"`
	IsManaged    bool     `cel:"is_managed" json:"is_managed"`
	IsFriend     bool     `cel:"is_friend" json:"is_friend"`
	Servers      []Server `cel:"servers" json:"servers"`
}

// Server is one allowed server as the user relates to it.
type Server struct {
	MachineID string `cel:"machine_id" json:"machine_id"`
	Name      string `cel:"name" json:"name"`
	Owned     bool   `cel:"owned" json:"owned"`
	Home      bool   `cel:"home" json:"home"`
	Product   string `cel:"product" json:"product"`
	Pending   bool   `cel:"pending" json:"pending"`
}

// maxServers is the declared bound of user.servers.
const maxServers = 256

var decl = MustDeclare([]Variable{{Name: "user", Type: reflect.TypeOf(User{})}},
	[]ListBound{{Path: "user.servers", Max: maxServers, Noun: "servers"}})

// userInput is the input of one user with no source and no raw document.
func userInput(u User) Input { return Input{Vars: map[string]any{"user": u}} }

func TestDeclarationChecked(t *testing.T) {
	for _, tc := range []struct {
		vars  []Variable
		lists []ListBound
		want  string
	}{
		{[]Variable{{Name: "user", Type: reflect.TypeOf("")}}, nil, `variable "user" must be a Go struct type`},
		{[]Variable{{Name: "raw", Type: reflect.TypeOf(User{})}}, nil, `variable name "raw" is taken`},
		{[]Variable{{Name: "user", Type: reflect.TypeOf(User{})}, {Name: "user", Type: reflect.TypeOf(Server{})}}, nil, `variable name "user" is taken`},
		{nil, []ListBound{{Path: "servers", Max: 1, Noun: "servers"}}, `needs a variable.field path`},
		{[]Variable{{Name: "user", Type: reflect.TypeOf(User{})}}, []ListBound{{Path: "user.server", Max: 1, Noun: "servers"}},
			`list bound path "user.server" names no list`},
		{[]Variable{{Name: "user", Type: reflect.TypeOf(User{})}}, []ListBound{{Path: "user.username", Max: 1, Noun: "names"}},
			`list bound path "user.username" names no list`},
		{[]Variable{{Name: "user", Type: reflect.TypeOf(User{})}}, []ListBound{{Path: "who.servers", Max: 1, Noun: "servers"}},
			`list bound path "who.servers" names no list`},
	} {
		if _, err := Declare(tc.vars, tc.lists); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %s", err, tc.want)
		}
	}
}

// The cost message names the declared list bounds as it always did.
func TestCostMessageNamesTheDeclaredSizes(t *testing.T) {
	sets, _ := Parse("[s]\ngroups: user.servers.map(a, user.servers.map(b, user.servers.map(c, a.name + b.name + c.name))).flatten().flatten()")
	_, errs := decl.Compile(sets)
	if len(errs) != 1 || !strings.HasSuffix(errs[0].Message, "(with up to 256 servers, strings of 4096 bytes, lists of 1000 in raw)") {
		t.Fatalf("errors %v", errs)
	}
}
