package plexsource

import (
	"encoding/json"
	"fmt"

	"github.com/plexlogin/plexlogin/mappings"
	"github.com/plexlogin/plexlogin/plugin/access"
	"github.com/plexlogin/plexlogin/shared/source"
)

// subjectHelp tells an admin which id checks someone before their first login.
const subjectHelp = "Enter their id (for Plex, the number in their profile's address) to check them before their first login."

// configSchema returns the JSON Schema 2020-12 of Config, in the contract's vocabulary.
func configSchema() json.RawMessage {
	var modes []map[string]string
	for _, m := range access.Modes {
		modes = append(modes, map[string]string{"const": string(m.Mode), "title": m.Title})
	}
	type property struct {
		ext    source.FieldExtensions
		schema map[string]any
	}
	props := map[string]property{
		"schema_version": {source.FieldExtensions{Group: "advanced"}, map[string]any{"type": "integer", "title": "Schema version", "default": SchemaVersion, "readOnly": true}},
		"client_identifier": {source.FieldExtensions{Group: "advanced"}, map[string]any{"type": "string", "title": "Client identifier",
			"description": "Sent to plex.tv as X-Plex-Client-Identifier. Generated once; changing it cancels every login in progress.",
			"readOnly":    true}},
		"product": {source.FieldExtensions{Group: "signin"}, map[string]any{"type": "string", "title": "App name shown by Plex", "default": "", "maxLength": 64,
			"description": "Shown on the Plex sign-in page and in the user's Authorized Devices. Empty: this site's address, so a person approving a login at Plex sees which site asks (a link sent by someone else names that person's site)."}},
		"access_mode": {source.FieldExtensions{Group: "access"}, map[string]any{"type": "string", "title": "Who may log in", "default": string(access.ModeMembers), "oneOf": modes}},
		"allowed_servers": {source.FieldExtensions{Group: "servers"}, map[string]any{"type": "array", "title": "Allowed servers",
			"description": "Users must have access to one of these servers. Use Load servers, or paste a machine ID.",
			"items": map[string]any{"type": "object", "additionalProperties": false, "required": []string{"machine_id"},
				"properties": map[string]any{
					"machine_id": map[string]any{"type": "string", "title": "Machine ID", "pattern": "^[0-9A-Za-z]{8,64}$"},
					"name":       map[string]any{"type": "string", "title": "Name"},
				}}}},
		"allow_friends": {source.FieldExtensions{Group: "access"}, map[string]any{"type": "boolean", "title": "Also admit the owner's friends without a share", "default": false,
			"description": "Needs the owner's sign-in. Friends are read from the owner's share list."}},
		"owner_token": {source.FieldExtensions{Group: "servers"}, map[string]any{"type": "string", "title": "Owner token", "writeOnly": true,
			"description": "Set by Sign in to Plex; used to read the owner's share and Home lists."}},
		"additional_owner_tokens": {source.FieldExtensions{Group: "servers"}, map[string]any{"type": "array", "title": "Other owner accounts' tokens", "writeOnly": true,
			"items": map[string]any{"type": "string"}}},
		"owner_cache_ttl_seconds": {source.FieldExtensions{Group: "advanced"}, map[string]any{"type": "integer", "title": "Owner list cache (seconds)", "default": 300, "minimum": 10, "maximum": 86400}},
		"member_cache_freshness_seconds": {source.FieldExtensions{Group: "advanced"}, map[string]any{"type": "integer", "title": "Trust a fresh share list for (seconds)", "default": 0,
			"minimum": 0, "maximum": 3600,
			"description": "When the owner's share list is younger than this and shows the user's share, skip asking plex.tv for the user's servers. 0 always asks."}},
		"password_login": {source.FieldExtensions{Group: "signin", Capability: source.CapPasswordLogin},
			map[string]any{"type": "boolean", "title": "Allow plex.tv username and password", "default": false}},
		"home_profiles": {source.FieldExtensions{Group: "signin"}, map[string]any{"type": "boolean", "title": "Let Plex Home members pick a profile", "default": false,
			"description": "After the Plex login, a Home with managed profiles gets a \"Who is watching?\" step; a profile needs its PIN."}},
		SSOField: {source.FieldExtensions{Group: "signin"}, map[string]any{"type": "boolean", "title": "Sign users into Plex Web", "default": false,
			"description": ssoDescription}},
		"mappings": {source.FieldExtensions{Group: "mappings", Widget: source.WidgetCode, Language: "cel-mappings", Defaults: defaultMappingsText()},
			map[string]any{"type": "string", "title": "Attribute mappings", "default": "", "maxLength": 65536,
				"description": "Mapping sets in the mappings text format (CEL expressions per attribute). Applied after the defaults."}},
		"include_default_mappings": {source.FieldExtensions{Group: "mappings"}, map[string]any{"type": "boolean", "title": "Apply the default Plex mappings first", "default": true}},
		"request_timeout_seconds":  {source.FieldExtensions{Group: "advanced"}, map[string]any{"type": "integer", "title": "plex.tv request timeout (seconds)", "default": 10, "minimum": 1, "maximum": 60}},
		"state_key": {source.FieldExtensions{Group: "advanced"}, map[string]any{"type": "string", "title": "Login state key", "writeOnly": true, "readOnly": true,
			"description": "Seals the login states this source issues. Generated once; never shown."}},
		DeviceKeysField: {source.FieldExtensions{Group: "advanced"}, map[string]any{"type": "array", "title": "Owner device keys", "writeOnly": true, "readOnly": true,
			"description": "The device keys that renew the owner tokens upgraded to device-key tokens. Generated by Upgrade; never shown.",
			"items": map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{
				"for_token": map[string]any{"type": "string", "title": "Token fingerprint"}, "client_id": map[string]any{"type": "string", "title": "Client identifier"},
				"key": map[string]any{"type": "string", "title": "Key"}, "issued_at": map[string]any{"type": "integer", "title": "Issued at"},
				"expires_at": map[string]any{"type": "integer", "title": "Expires at"}, "renewed_at": map[string]any{"type": "integer", "title": "Renewed at"},
				"legacy_token": map[string]any{"type": "string", "title": "Legacy token"}, "account": map[string]any{"type": "string", "title": "Account"}}}}},
		"owner_ids": {source.FieldExtensions{Group: "advanced"}, map[string]any{"type": "array", "title": "Owner account ids", "readOnly": true, "items": map[string]any{"type": "integer"},
			"description": "The Plex account ids of the owner tokens, read when the settings are saved."}},
	}
	b := source.NewSchemaBuilder("Log in with Plex")
	for _, name := range propertyOrder {
		p, ok := props[name]
		if !ok {
			panic(fmt.Sprintf("plexsource: property %q is in propertyOrder but not in the schema", name))
		}
		b.Property(name, p.ext, p.schema)
	}
	if len(props) != len(propertyOrder) {
		panic("plexsource: a schema property is missing from propertyOrder")
	}
	b.Group(source.SchemaGroup{ID: "access", Title: "Who may log in"}).
		Group(source.SchemaGroup{ID: "servers", Title: "Servers and owner accounts",
			Description: "Members of these servers may log in. Use \"Sign in to Plex to load servers\" above to pick them."}).
		Group(source.SchemaGroup{ID: "mappings", Title: "What apps learn about people",
			Description: "Attribute mappings turn a Plex account into the name, e-mail and groups apps see (docs/mappings.md)."}).
		Group(source.SchemaGroup{ID: "signin", Title: "Sign-in options"}).
		Group(source.SchemaGroup{ID: "advanced", Title: "Advanced", Collapsed: true,
			Description: "Caches, timeouts and values the plugin keeps for itself."})
	b.Action(source.SchemaAction{ID: ActionLoadServers, Title: "Sign in to Plex to load servers", Kind: source.ActionKindRedirect,
		Description: "Sign in as the server owner; pick the servers whose members may log in."}).
		Action(source.SchemaAction{ID: ActionReauthorize, Title: "Re-authorise with Plex", Kind: source.ActionKindRedirect,
			Description: "Replace a dead owner token; every other setting is kept."}).
		Action(source.SchemaAction{ID: ActionReauthorizeKey, Title: "Re-authorise with Plex (device key)", Kind: source.ActionKindRedirect,
			Description: "Replace the owner token with a Plex token renewed by a device key of its own every few days; every other setting is kept."}).
		Action(source.SchemaAction{ID: ActionCheckMachineID, Title: "Check a machine ID", Kind: source.ActionKindMessage,
			Input: json.RawMessage(`{"type":"object","properties":{"machine_id":{"type":"string","title":"Machine ID"}}}`)}).
		Action(source.SchemaAction{ID: ActionOwnerTokenHealth, Title: "Check the owner token", Kind: source.ActionKindMessage, Health: true}).
		Action(source.SchemaAction{ID: ActionUpgrade, Title: "Upgrade to device-key tokens", Kind: source.ActionKindMessage,
			Description: "Replace each legacy owner token with a Plex token renewed by a device key of its own (no second sign-in); the legacy token is kept as a fallback until the first renewal."})
	b.SubjectHelp(subjectHelp)
	for _, a := range attributeWords {
		b.Attribute(a.Name, a.Title)
	}
	raw, err := b.Build()
	if err != nil {
		panic("plexsource: " + err.Error()) // a fixed schema: the tests catch this
	}
	return raw
}

// attributeWords name in words the attributes Plex logins usually return (the default
// mappings and docs/mappings.md): a host shows a person's attributes by these titles.
var attributeWords = []source.SchemaAttribute{
	{Name: "plex_pass", Title: "Plex Pass"}, {Name: "uuid", Title: "Plex account UUID"}, {Name: "two_factor", Title: "Two-step verification"},
	{Name: "locale", Title: "Language"}, {Name: "is_owner", Title: "Server owner"}, {Name: "is_home_member", Title: "Member of the owner's Plex Home"},
	{Name: "is_managed", Title: "Managed profile"}, {Name: "is_friend", Title: "Friend of the server"}, {Name: "confirmed", Title: "E-mail confirmed"},
	{Name: "email_verified", Title: "E-mail confirmed"}, {Name: "thumb", Title: "Picture"}, {Name: "servers", Title: "Servers"},
	{Name: "title", Title: "Name"}, {Name: "id", Title: "Plex account id"},
}

// propertyOrder is the order the settings appear in a rendered form.
var propertyOrder = []string{"access_mode", "allowed_servers", "allow_friends", "owner_token", "additional_owner_tokens",
	"mappings", "include_default_mappings", "password_login", "home_profiles", SSOField, "product", "owner_cache_ttl_seconds",
	"member_cache_freshness_seconds", "request_timeout_seconds", "client_identifier", "owner_ids", DeviceKeysField, "state_key", "schema_version"}

// defaultMappingsText is the default mapping file, shown read-only beside the editor.
func defaultMappingsText() string {
	t, _ := mappings.DefaultText("plex")
	return t
}
