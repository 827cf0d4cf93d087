package plexsource

import (
	"encoding/json"
	"strings"
	"testing"
)

func fieldMessages(t *testing.T, raw string) map[string]string {
	t.Helper()
	_, errs := decodeConfig(json.RawMessage(raw))
	out := map[string]string{}
	for _, e := range errs {
		out[e.Field] = e.Message
	}
	return out
}

// Unknown and mistyped settings are reported together, each at its own path.
func TestDecodeReportsUnknownAndMistypedTogether(t *testing.T) {
	got := fieldMessages(t, `{"acces_mode":"members","owner_cache_ttl_seconds":"300","password_login":"yes",
		"allowed_servers":[{"machine_id":"abcdefgh12"},{"machine_id":7,"nmae":"x"}],"additional_owner_tokens":"tok"}`)
	want := map[string]string{
		"acces_mode":                    "unknown setting",
		"owner_cache_ttl_seconds":       "must be a whole number",
		"password_login":                "must be true or false",
		"allowed_servers[1].machine_id": "must be text",
		"allowed_servers[1].nmae":       "unknown setting",
		"additional_owner_tokens":       "must be a list of text",
	}
	for f, msg := range want {
		if got[f] != msg {
			t.Errorf("%s: got %q, want %q", f, got[f], msg)
		}
	}
	if len(got) != len(want) {
		t.Errorf("errors %v, want exactly %v", got, want)
	}
}

// Numbers stay exact: a fraction or an out-of-range number for a whole-number setting is an error.
func TestDecodeNumbersStayExact(t *testing.T) {
	for _, v := range []string{"1.5", "1e30", "-9223372036854775809", "30.0"} {
		got := fieldMessages(t, `{"request_timeout_seconds":`+v+`}`)
		if got["request_timeout_seconds"] != "must be a whole number" {
			t.Errorf("%s: %v", v, got)
		}
	}
	c, errs := decodeConfig(json.RawMessage(`{"request_timeout_seconds":30,"owner_ids":[9007199254740993]}`))
	if len(errs) != 0 || c.RequestTimeout != 30 || c.OwnerIDs[0] != 9007199254740993 {
		t.Fatalf("exact numbers: %+v %v", c, errs)
	}
}

// No weak typing: "" is not 0, a number is not text, a bool is not text.
func TestDecodeIsNotWeaklyTyped(t *testing.T) {
	got := fieldMessages(t, `{"request_timeout_seconds":"","product":5,"mappings":true}`)
	if got["request_timeout_seconds"] != "must be a whole number" || got["product"] != "must be text" || got["mappings"] != "must be text" {
		t.Fatalf("weak typing: %v", got)
	}
}

func TestDecodeMigrationErrorsAndNulls(t *testing.T) {
	got := fieldMessages(t, `{"allowed_server_ids":"abc","bogus":1}`)
	if got["allowed_server_ids"] != "must be a list of machine IDs" || got["bogus"] != "unknown setting" {
		t.Fatalf("migration error: %v", got)
	}
	c, errs := decodeConfig(json.RawMessage(`{"product":null,"allowed_server_ids":["abcdefgh12"]}`))
	if len(errs) != 0 || len(c.AllowedServers) != 1 || c.AllowedServers[0].MachineID != "abcdefgh12" {
		t.Fatalf("null and migration: %+v %v", c, errs)
	}
	for _, raw := range []string{`[]`, `"x"`, `{} {}`, `{`} {
		if _, errs := decodeConfig(json.RawMessage(raw)); len(errs) != 1 || !strings.Contains(errs[0].Message, "JSON object") {
			t.Errorf("%s: %v", raw, errs)
		}
	}
}
