package mappings

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// personas are the normalized facts of the simulator's personas as the plugin builds them.
var personas = map[string]User{
	"owner": {ID: 1001, UUID: "0a1b", Username: "owner", Title: "Olivia Owner", Email: "owner@example.com", Confirmed: true,
		Thumb: "https://plex.tv/users/0a1b/avatar", PlexPass: true, IsOwner: true, IsFriend: false,
		Servers: []Server{{MachineID: "m1", Name: "Living Room", Owned: true}, {MachineID: "m2", Name: "Cabin", Owned: true}}},
	"friend": {ID: 2001, UUID: "1b2c", Username: "frank", Title: "Frank Friend", Email: "frank@example.com", Confirmed: true,
		Thumb: "https://plex.tv/users/1b2c/avatar", IsFriend: true, Servers: []Server{{MachineID: "m1", Name: "Living Room"}}},
	"pending": {ID: 2002, Username: "paula", Title: "Paula Pending", Email: "paula@example.com", Confirmed: false, IsFriend: true,
		Servers: []Server{{MachineID: "m1", Name: "Living Room", Pending: true}}},
	"homemember": {ID: 3001, Username: "hilda", Title: "Hilda Home", Email: "hilda@example.com", Confirmed: true, IsHomeMember: true,
		IsFriend: true, Servers: []Server{{MachineID: "m1", Name: "Living Room", Home: true}}},
	"kid": {ID: 3002, Username: "", Title: "Kid", Email: "", IsHomeMember: true, IsManaged: true,
		Servers: []Server{{MachineID: "m1", Name: "Living Room", Home: true}}},
}

func mustCompile(t testing.TB, text string) *Program {
	t.Helper()
	sets, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	p, errs := decl.Compile(sets)
	if errs != nil {
		t.Fatalf("compile: %v", errs)
	}
	return p
}

func TestDefaultsOnPersonas(t *testing.T) {
	p, errs := decl.Compile(MustDefault("plex"))
	if errs != nil {
		t.Fatal(errs)
	}
	want := map[string]map[string]any{
		"owner": {"preferred_username": "owner", "email": "owner@example.com", "email_verified": true, "name": "Olivia Owner",
			"picture": "https://plex.tv/users/0a1b/avatar", "groups": []string{"plex-owner", "plex-server:Cabin", "plex-server:Living Room"},
			"uuid": "0a1b", "plex_pass": true},
		"friend": {"preferred_username": "frank", "email": "frank@example.com", "email_verified": true, "name": "Frank Friend",
			"picture": "https://plex.tv/users/1b2c/avatar", "groups": []string{"plex-friend", "plex-server:Living Room"}, "uuid": "1b2c", "plex_pass": false},
		"pending": {"preferred_username": "paula", "email": "paula@example.com", "email_verified": false, "name": "Paula Pending",
			"groups": []string{"plex-friend"}, "uuid": "", "plex_pass": false},
		"homemember": {"preferred_username": "hilda", "email": "hilda@example.com", "email_verified": true, "name": "Hilda Home",
			"groups": []string{"plex-home", "plex-server:Living Room"}, "uuid": "", "plex_pass": false},
		"kid": {"preferred_username": "Kid", "email_verified": false, "name": "Kid",
			"groups": []string{"plex-home", "plex-managed", "plex-server:Living Room"}, "uuid": "", "plex_pass": false},
	}
	for name, u := range personas {
		t.Run(name, func(t *testing.T) {
			res, err := p.Eval(context.Background(), Input{Vars: map[string]any{"user": u}, Source: Source{ID: "s", Slug: "plex", Name: "Plex"}})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Attributes, want[name]) {
				t.Fatalf("got  %#v\nwant %#v", res.Attributes, want[name])
			}
		})
	}
}

func TestAdminsExample(t *testing.T) {
	sets := append(MustDefault("plex"), MustDefault("admins.example")...)
	p, errs := decl.Compile(sets)
	if errs != nil {
		t.Fatal(errs)
	}
	res, _ := p.Eval(context.Background(), Input{Vars: map[string]any{"user": personas["owner"]}})
	if g := res.Attributes["groups"].([]string); !contains(g, "admins") || !contains(g, "plex-owner") {
		t.Fatalf("owner groups %v (lists must union)", g)
	}
	res, _ = p.Eval(context.Background(), Input{Vars: map[string]any{"user": personas["friend"]}})
	if contains(res.Attributes["groups"].([]string), "admins") {
		t.Fatal("friend became admin")
	}
	// Keyed on the Plex account id, never on a username a person can change and another take.
	for _, c := range []struct {
		user  User
		admin bool
	}{
		{User{ID: 12345678, Username: "alice"}, true},
		{User{ID: 12345678, Username: "alice-renamed"}, true},
		{User{ID: 99999999, Username: "alice"}, false}, // someone who took the name
		{User{ID: 99999998, Username: "bob"}, false},
	} {
		res, err := p.Eval(context.Background(), Input{Vars: map[string]any{"user": c.user}})
		if err != nil {
			t.Fatal(err)
		}
		if got := contains(res.Attributes["groups"].([]string), "admins"); got != c.admin {
			t.Errorf("account %d named %q: admin %v, want %v", c.user.ID, c.user.Username, got, c.admin)
		}
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func TestRejectedAtCompile(t *testing.T) {
	cases := []struct {
		name, text, field string
		line, col         int
		msg               string
	}{
		{"misspelled field", "[s]\nname: user.usernme", "mappings.s.name", 1, 5, "usernme"},
		{"wrong output type", "[s]\nemail_verified: user.email", "mappings.s.email_verified", 1, 1, "needs bool"},
		{"groups not a list", "[s]\ngroups: user.username", "mappings.s.groups", 1, 1, "list"},
		{"unterminated string", "[s]\nname: |\n  user.title +\n    \"abc", "mappings.s.name", 2, 3, ""},
		{"over-long", "[s]\nname: \"" + strings.Repeat("é", MaxExpressionLength) + "\"", "mappings.s.name", 1, MaxExpressionLength + 1, "limit"},
		{"too costly", "[s]\ngroups: user.servers.map(a, user.servers.map(b, user.servers.map(c, a.name + b.name + c.name))).flatten().flatten()",
			"mappings.s.groups", 1, 1, "estimated cost"},
		{"sub is not mappable", "[s]\nsub: user.uuid", "mappings.s.sub", 1, 1, "immutable"},
		{"condition not bool", "[s]\ncondition: user.title", "mappings.s.condition", 1, 1, "bool"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sets, err := Parse(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			_, errs := decl.Compile(sets)
			if len(errs) == 0 {
				t.Fatal("compiled")
			}
			e := errs[0]
			if e.Field != tc.field || e.Line != tc.line || e.Column != tc.col || !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("got %v, want %s:%d:%d …%s…", e, tc.field, tc.line, tc.col, tc.msg)
			}
		})
	}
}

func TestRuntimeCostBlowUpStops(t *testing.T) {
	// Statically cheap over the declared bounds of servers, but raw lists are dynamic:
	// the runtime limit must stop it.
	p := mustCompile(t, "[s]\nx: raw.items.map(a, a + 1).size()")
	big := make([]any, 500_000)
	for i := range big {
		big[i] = int64(i)
	}
	start := time.Now()
	_, err := p.Eval(context.Background(), Input{Raw: map[string]any{"items": big}})
	// Whichever bound hits first (the cost limit, or the deadline under -race) stops it.
	if err == nil || !errors.Is(err, ErrEval) || !(strings.Contains(err.Error(), "cost limit") || strings.Contains(err.Error(), "interrupted")) {
		t.Fatalf("got %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("took %v", time.Since(start))
	}
}

func TestConditionCanOnlyDeny(t *testing.T) {
	p := mustCompile(t, "[gate]\ncondition: user.plex_pass\ndeny_message: Plex Pass required.\n")
	res, err := p.Eval(context.Background(), Input{Vars: map[string]any{"user": personas["friend"]}})
	if err != nil || !res.Denied || res.DenyReason != "Plex Pass required." {
		t.Fatalf("%+v %v", res, err)
	}
	res, _ = p.Eval(context.Background(), Input{Vars: map[string]any{"user": personas["owner"]}})
	if res.Denied {
		t.Fatal("owner denied")
	}
	// A condition that is always true has no admit semantics: Result carries no "allowed".
	if _, ok := reflect.TypeOf(Result{}).FieldByName("Allowed"); ok {
		t.Fatal("Result must not be able to admit")
	}
}

func TestSetsOrderRemovalAndOptionals(t *testing.T) {
	p := mustCompile(t, `[a]
name: "first"
email: user.email
groups: ["x"]
[b]
name: "second"
email: optional.none()
groups: ["y", "x"]
[c]
email: "back?"
`)
	res, err := p.Eval(context.Background(), Input{Vars: map[string]any{"user": personas["friend"]}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Attributes["name"] != "second" {
		t.Errorf("later scalar should win: %v", res.Attributes["name"])
	}
	if _, ok := res.Attributes["email"]; ok {
		t.Errorf("removed attribute came back: %v", res.Attributes["email"])
	}
	if !reflect.DeepEqual(res.Attributes["groups"], []string{"x", "y"}) {
		t.Errorf("lists should union: %v", res.Attributes["groups"])
	}
}

func TestExtraAttributesAndRaw(t *testing.T) {
	p := mustCompile(t, `[x]
country: raw.?country.orValue("unknown")
servers: user.servers.map(s, {"id": s.machine_id, "owned": s.owned})
source_slug: source.slug
`)
	res, err := p.Eval(context.Background(), Input{Vars: map[string]any{"user": personas["owner"]}, Source: Source{Slug: "plex"}, Raw: map[string]any{"country": "GB"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Attributes["country"] != "GB" || res.Attributes["source_slug"] != "plex" || len(res.Attributes["servers"].([]any)) != 2 {
		t.Fatalf("%#v", res.Attributes)
	}
}

func TestParseErrors(t *testing.T) {
	for _, text := range []string{"Name: x", "  indented: x", "[a]\n[a]", "name:", "[s]\nname: a\nname: b"} {
		if _, err := Parse(text); err == nil {
			t.Errorf("%q parsed", text)
		}
	}
}

// The examples of docs/mappings.md compile as written.
func TestDocExamplesCompile(t *testing.T) {
	mustCompile(t, `[ex]
preferred_username: user.username != "" ? user.username : user.title
email: user.email != "" ? optional.of(user.email) : optional.none()
groups: |
  user.servers.map(s, !s.pending, "media-" + s.name)
  + (user.plex_pass ? ["plex-pass"] : [])
[admins]
groups: user.is_owner || user.id in [12345678, 23456789] ? ["admins"] : []
[gate]
condition: user.plex_pass || user.is_owner
deny_message: This service is for Plex Pass members.
`)
}

func TestCheckSizes(t *testing.T) {
	ok := Input{Vars: map[string]any{"user": User{Username: "frank", Servers: make([]Server, maxServers)}}, Raw: map[string]any{"l": make([]any, maxRawList)}}
	if err := decl.CheckSizes(ok); err != nil {
		t.Fatalf("within the sizes: %v", err)
	}
	deep := map[string]any{}
	cur := deep
	for i := 0; i < maxRawDepth+2; i++ {
		next := map[string]any{}
		cur["x"] = next
		cur = next
	}
	for name, in := range map[string]Input{
		"string":  userInput(User{Title: strings.Repeat("a", maxStringBytes+1)}),
		"servers": userInput(User{Servers: make([]Server, maxServers+1)}),
		"list":    {Raw: map[string]any{"l": make([]any, maxRawList+1)}},
		"raw str": {Raw: map[string]any{"a": []any{strings.Repeat("b", maxStringBytes+1)}}},
		"deep":    {Raw: deep},
	} {
		if err := decl.CheckSizes(in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A variable of another type than declared is an error, not a panic.
func TestCheckSizesRefusesAMistypedVariable(t *testing.T) {
	err := decl.CheckSizes(Input{Vars: map[string]any{"user": "frank"}})
	if err == nil || !strings.Contains(err.Error(), "variable user is a string, want mappings.User") {
		t.Fatalf("got %v", err)
	}
	if err := decl.CheckSizes(Input{}); err != nil {
		t.Fatalf("a missing variable is its zero value: %v", err)
	}
}
