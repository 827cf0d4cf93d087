package plexsource

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/plexlogin/plexlogin/mappings"
	"github.com/plexlogin/plexlogin/plugin/access"
	"github.com/plexlogin/plexlogin/shared/source"
)

// SchemaVersion is the current config schema version. Version 1 listed servers as
// "allowed_server_ids": ["<machine id>", …]; validation migrates it.
const SchemaVersion = 2

// ServerConfig is one allowed server.
type ServerConfig struct {
	MachineID string `json:"machine_id"`
	Name      string `json:"name,omitempty"`
}

// Config is a Plex source's settings.
type Config struct {
	SchemaVersion         int            `json:"schema_version"`
	ClientIdentifier      string         `json:"client_identifier"`
	Product               string         `json:"product"`
	AccessMode            string         `json:"access_mode"`
	AllowedServers        []ServerConfig `json:"allowed_servers"`
	AllowFriends          bool           `json:"allow_friends"`
	OwnerToken            string         `json:"owner_token"`
	AdditionalOwnerTokens []string       `json:"additional_owner_tokens"`
	OwnerCacheTTL         int            `json:"owner_cache_ttl_seconds"`
	MemberFreshness       int            `json:"member_cache_freshness_seconds"`
	PasswordLogin         bool           `json:"password_login"`
	HomeProfiles          bool           `json:"home_profiles"`
	// PlexWebSSO keeps each user's plex.tv token (sealed, by the host) for re-validation and
	// lets a login hand it over as TokenKind when the host asks; stored configs may still say
	// keep_user_token, read as this.
	PlexWebSSO     bool `json:"plex_web_sso"`
	RequestTimeout int  `json:"request_timeout_seconds"`
	// Mappings is the admin's mapping sets in the mappings text format.
	Mappings string `json:"mappings"`
	// IncludeDefaultMappings applies the default Plex mapping set before the admin's.
	IncludeDefaultMappings *bool `json:"include_default_mappings"`
	// StateKey seals the login and step states this instance issues (base64, 32 bytes).
	// Generated once by ValidateConfig; never rotated, never shown.
	StateKey string `json:"state_key"`
	// OwnerIDs are the Plex account ids of the owner tokens, in ownerTokens() order,
	// resolved when the config is validated so that no login pays for them.
	OwnerIDs []int64 `json:"owner_ids"`
	// DeviceKeys are the device keys of the owner tokens upgraded to device-key tokens.
	DeviceKeys []DeviceKey `json:"owner_device_keys"`
}

// includeDefaults reports whether the default mapping set applies (default yes).
func (c Config) includeDefaults() bool {
	return c.IncludeDefaultMappings == nil || *c.IncludeDefaultMappings
}

// legacyProduct was the product name before it defaulted to the site's own address; it
// reads as the default.
const legacyProduct = "Plex Login"

var (
	machineIDRE = regexp.MustCompile(`^[0-9A-Za-z]{8,64}$`)
	clientIDRE  = regexp.MustCompile(`^[0-9A-Za-z._-]{8,128}$`)
)

func newStateKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func newClientID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// normalize fills defaults and checks every rule, returning all field errors.
func normalize(c *Config) []source.FieldError {
	var errs []source.FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, source.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	c.SchemaVersion = SchemaVersion
	if c.AllowedServers == nil {
		c.AllowedServers = []ServerConfig{}
	}
	if c.AdditionalOwnerTokens == nil {
		c.AdditionalOwnerTokens = []string{}
	}
	if c.ClientIdentifier == "" {
		c.ClientIdentifier = newClientID()
	} else if !clientIDRE.MatchString(c.ClientIdentifier) {
		bad("client_identifier", "must be 8 to 128 letters, digits, dots, dashes or underscores")
	}
	c.Product = strings.TrimSpace(c.Product)
	if c.Product == legacyProduct {
		c.Product = "" // the site's own address (see productFor)
	} else if len(c.Product) > 64 {
		bad("product", "must be at most 64 characters")
	}
	if c.AccessMode == "" {
		c.AccessMode = string(access.ModeMembers)
	}
	validMode := false
	for _, m := range access.Modes {
		if string(m.Mode) == c.AccessMode {
			validMode = true
		}
	}
	if !validMode {
		bad("access_mode", "must be one of members, home, owner, any")
	}
	seen := map[string]bool{}
	for i := range c.AllowedServers {
		s := &c.AllowedServers[i]
		s.MachineID = strings.TrimSpace(s.MachineID)
		s.Name = strings.TrimSpace(s.Name)
		switch {
		case !machineIDRE.MatchString(s.MachineID):
			bad("allowed_servers", "server %d: %q is not a Plex machine ID (8 to 64 letters and digits; Load servers fills it in)", i+1, s.MachineID)
		case seen[strings.ToLower(s.MachineID)]:
			bad("allowed_servers", "server %d: machine ID %s is listed twice", i+1, s.MachineID)
		}
		seen[strings.ToLower(s.MachineID)] = true
	}
	switch access.Mode(c.AccessMode) {
	case access.ModeMembers, access.ModeHome:
		if len(c.AllowedServers) == 0 {
			bad("allowed_servers", "this access mode needs at least one allowed server (an empty list would admit no one)")
		}
	case access.ModeOwner:
		if len(c.AllowedServers) == 0 && c.OwnerToken == "" {
			bad("allowed_servers", "owner-only mode needs an allowed server or the owner's sign-in")
		}
	}
	if c.AllowFriends && c.OwnerToken == "" {
		bad("allow_friends", "needs the owner's sign-in (Sign in to Plex to load servers) to read the friend list")
	}
	if c.AllowFriends && c.AccessMode != string(access.ModeMembers) {
		bad("allow_friends", "only applies to the members access mode")
	}
	for i, t := range c.AdditionalOwnerTokens {
		if strings.TrimSpace(t) == "" {
			bad("additional_owner_tokens", "token %d is empty", i+1)
		}
	}
	if c.OwnerCacheTTL == 0 {
		c.OwnerCacheTTL = 300
	} else if c.OwnerCacheTTL < 10 || c.OwnerCacheTTL > 86400 {
		bad("owner_cache_ttl_seconds", "must be between 10 and 86400")
	}
	if c.MemberFreshness < 0 || c.MemberFreshness > 3600 {
		bad("member_cache_freshness_seconds", "must be between 0 and 3600")
	}
	if c.IncludeDefaultMappings == nil {
		yes := true
		c.IncludeDefaultMappings = &yes
	}
	if c.StateKey == "" {
		c.StateKey = newStateKey()
	} else if k, err := base64.StdEncoding.DecodeString(c.StateKey); err != nil || len(k) != 32 {
		bad("state_key", "must be 32 bytes in base64 (leave it out to generate one)")
	}
	if c.OwnerIDs == nil {
		c.OwnerIDs = []int64{}
	}
	errs = append(errs, normalizeDeviceKeys(c)...)
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 10
	} else if c.RequestTimeout < 1 || c.RequestTimeout > 60 {
		bad("request_timeout_seconds", "must be between 1 and 60")
	}
	return errs
}

// parseConfig decodes and normalizes raw and compiles its mappings, or returns an
// invalid-config error listing every problem.
func parseConfig(raw json.RawMessage) (Config, *mappings.Program, error) {
	c, errs := decodeConfig(raw)
	errs = append(errs, normalize(&c)...)
	prog, merrs := compileMappings(c.Mappings, c.includeDefaults())
	errs = append(errs, merrs...)
	if len(errs) > 0 {
		return c, nil, source.InvalidConfig(errs...)
	}
	return c, prog, nil
}

// compileMappings parses and compiles the default set (if included) and the admin's text.
func compileMappings(text string, defaults bool) (*mappings.Program, []source.FieldError) {
	var sets []mappings.Set
	if defaults {
		sets = mappings.MustDefault("plex")
	}
	admin, err := mappings.Parse(text)
	if err != nil {
		var pe *mappings.ParseError
		line := 1
		if errors.As(err, &pe) {
			line = pe.Line
		}
		return nil, []source.FieldError{{Field: "mappings", Line: line, Column: 1, Message: err.Error()}}
	}
	sets = append(sets, admin...)
	where := map[string]mappings.Attribute{}
	for _, s := range admin {
		for _, a := range s.Attributes {
			where["mappings."+s.Name+"."+a.Name] = a
		}
		if s.Condition != nil {
			where["mappings."+s.Name+".condition"] = *s.Condition
		}
	}
	prog, errs := mappingDecl.Compile(sets)
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var out []source.FieldError
	for _, e := range errs {
		msg := e.Message
		if a, ok := where[e.Field]; ok {
			msg = atLine(lines, a.Line+e.Line-1, a.Indent+e.Column, msg)
		}
		out = append(out, source.FieldError{Field: e.Field, Line: e.Line, Column: e.Column, Message: msg})
	}
	return prog, out
}

// atLine says where in the mappings text an error is, once, in words, followed by that
// line and a caret under the column.
func atLine(lines []string, line, col int, msg string) string {
	out := fmt.Sprintf("Line %d, column %d: %s", line, col, msg)
	if line < 1 || line > len(lines) {
		return out
	}
	text := strings.ReplaceAll(lines[line-1], "\t", " ")
	if len(text) > 200 {
		return out
	}
	return out + "\n" + text + "\n" + strings.Repeat(" ", max(col-1, 0)) + "^"
}

func (c Config) ownerTokens() []string {
	var out []string
	if c.OwnerToken != "" {
		out = append(out, c.OwnerToken)
	}
	for _, t := range c.AdditionalOwnerTokens {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func (c Config) policyServers() []access.Server {
	out := make([]access.Server, 0, len(c.AllowedServers))
	for _, s := range c.AllowedServers {
		out = append(out, access.Server{MachineID: s.MachineID, Name: s.Name})
	}
	return out
}
