package plexsource

import (
	"encoding/json"

	"github.com/plexlogin/plexlogin/mappings"
	"github.com/plexlogin/plexlogin/plugin/access"
)

// configSchema returns the JSON Schema 2020-12 of Config.
func configSchema() json.RawMessage {
	var modes []map[string]string
	for _, m := range access.Modes {
		modes = append(modes, map[string]string{"const": string(m.Mode), "title": m.Title})
	}
	s := map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"title":                "Log in with Plex",
		"type":                 "object",
		"additionalProperties": false,
		"properties": map[string]any{
			"schema_version": map[string]any{"x-group": "advanced", "type": "integer", "title": "Schema version", "default": SchemaVersion, "readOnly": true},
			"client_identifier": map[string]any{"x-group": "advanced", "type": "string", "title": "Client identifier",
				"description": "Sent to plex.tv as X-Plex-Client-Identifier. Generated once; changing it cancels every login in progress.",
				"readOnly":    true},
			"product": map[string]any{"x-group": "signin", "type": "string", "title": "App name shown by Plex", "default": "", "maxLength": 64,
				"description": "Shown on the Plex sign-in page and in the user's Authorized Devices. Empty: this site's address, so a person approving a login at Plex sees which site asks (a link sent by someone else names that person's site)."},
			"access_mode": map[string]any{"x-group": "access", "type": "string", "title": "Who may log in", "default": string(access.ModeMembers), "oneOf": modes},
			"allowed_servers": map[string]any{"x-group": "servers", "type": "array", "title": "Allowed servers",
				"description": "Users must have access to one of these servers. Use Load servers, or paste a machine ID.",
				"items": map[string]any{"type": "object", "additionalProperties": false, "required": []string{"machine_id"},
					"properties": map[string]any{
						"machine_id": map[string]any{"type": "string", "title": "Machine ID", "pattern": "^[0-9A-Za-z]{8,64}$"},
						"name":       map[string]any{"type": "string", "title": "Name"},
					}}},
			"allow_friends": map[string]any{"x-group": "access", "type": "boolean", "title": "Also admit the owner's friends without a share", "default": false,
				"description": "Needs the owner's sign-in. Friends are read from the owner's share list."},
			"owner_token": map[string]any{"x-group": "servers", "type": "string", "title": "Owner token", "writeOnly": true,
				"description": "Set by Sign in to Plex; used to read the owner's share and Home lists."},
			"additional_owner_tokens": map[string]any{"x-group": "servers", "type": "array", "title": "Other owner accounts' tokens", "writeOnly": true,
				"items": map[string]any{"type": "string"}},
			"owner_cache_ttl_seconds": map[string]any{"x-group": "advanced", "type": "integer", "title": "Owner list cache (seconds)", "default": 300, "minimum": 10, "maximum": 86400},
			"member_cache_freshness_seconds": map[string]any{"x-group": "advanced", "type": "integer", "title": "Trust a fresh share list for (seconds)", "default": 0,
				"minimum": 0, "maximum": 3600,
				"description": "When the owner's share list is younger than this and shows the user's share, skip asking plex.tv for the user's servers. 0 always asks."},
			"password_login": map[string]any{"x-group": "signin", "type": "boolean", "title": "Allow plex.tv username and password", "default": false,
				"x-capability": "login.password"},
			"home_profiles": map[string]any{"x-group": "signin", "type": "boolean", "title": "Let Plex Home members pick a profile", "default": false,
				"description": "After the Plex login, a Home with managed profiles gets a \"Who is watching?\" step; a profile needs its PIN."},
			"keep_user_token": map[string]any{"x-group": "advanced", "type": "boolean", "title": "Keep users' Plex tokens", "default": false,
				"description": "Lets re-validation use the user's own token. Off: tokens are dropped after login."},
			"mappings": map[string]any{"x-group": "mappings", "type": "string", "title": "Attribute mappings", "default": "", "maxLength": 65536,
				"x-widget": "code", "x-language": "cel-mappings", "x-defaults": defaultMappingsText(),
				"description": "Mapping sets in the mappings text format (CEL expressions per attribute). Applied after the defaults."},
			"include_default_mappings": map[string]any{"x-group": "mappings", "type": "boolean", "title": "Apply the default Plex mappings first", "default": true},
			"request_timeout_seconds":  map[string]any{"x-group": "advanced", "type": "integer", "title": "plex.tv request timeout (seconds)", "default": 10, "minimum": 1, "maximum": 60},
			"state_key": map[string]any{"x-group": "advanced", "type": "string", "title": "Login state key", "writeOnly": true, "readOnly": true,
				"description": "Seals the login states this source issues. Generated once; never shown."},
			"owner_ids": map[string]any{"x-group": "advanced", "type": "array", "title": "Owner account ids", "readOnly": true, "items": map[string]any{"type": "integer"},
				"description": "The Plex account ids of the owner tokens, read when the settings are saved."},
		},
		"x-groups": []map[string]any{
			{"id": "access", "title": "Who may log in"},
			{"id": "servers", "title": "Servers and owner accounts",
				"description": "Members of these servers may log in. Use \"Sign in to Plex to load servers\" above to pick them."},
			{"id": "mappings", "title": "What apps learn about people",
				"description": "Attribute mappings turn a Plex account into the name, e-mail and groups apps see (docs/mappings.md)."},
			{"id": "signin", "title": "Sign-in options"},
			{"id": "advanced", "title": "Advanced", "x-collapsed": true,
				"description": "Caches, timeouts and values the plugin keeps for itself."},
		},
		"x-actions": []map[string]any{
			{"id": ActionLoadServers, "title": "Sign in to Plex to load servers", "kind": "redirect",
				"description": "Sign in as the server owner; pick the servers whose members may log in."},
			{"id": ActionReauthorize, "title": "Re-authorise with Plex", "kind": "redirect",
				"description": "Replace a dead owner token; every other setting is kept."},
			{"id": ActionCheckMachineID, "title": "Check a machine ID", "kind": "message",
				"input": map[string]any{"type": "object", "properties": map[string]any{"machine_id": map[string]any{"type": "string", "title": "Machine ID"}}}},
			{"id": ActionOwnerTokenHealth, "title": "Check the owner token", "kind": "message", "x-health": true},
		},
	}
	return marshalOrdered(s, propertyOrder)
}

// propertyOrder is the order the settings appear in a rendered form.
var propertyOrder = []string{"access_mode", "allowed_servers", "allow_friends", "owner_token", "additional_owner_tokens",
	"mappings", "include_default_mappings", "password_login", "home_profiles", "keep_user_token", "product", "owner_cache_ttl_seconds",
	"member_cache_freshness_seconds", "request_timeout_seconds", "client_identifier", "owner_ids", "state_key", "schema_version"}

// marshalOrdered writes the schema with its properties in order (JSON objects from Go
// maps come out sorted by key, and a form rendered from them would be in that order).
func marshalOrdered(s map[string]any, order []string) json.RawMessage {
	props := s["properties"].(map[string]any)
	delete(s, "properties")
	rest, _ := json.Marshal(s)
	var b []byte
	b = append(b, `{"properties":{`...)
	for i, name := range order {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(name)
		v, _ := json.Marshal(props[name])
		b = append(append(append(b, k...), ':'), v...)
	}
	b = append(b, '}', ',')
	b = append(b, rest[1:]...)
	return b
}

// defaultMappingsText is the default mapping file, shown read-only beside the editor.
func defaultMappingsText() string {
	t, _ := mappings.DefaultText("plex")
	return t
}
