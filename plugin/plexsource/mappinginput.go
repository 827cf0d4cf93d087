package plexsource

import (
	"reflect"

	"github.com/plexlogin/plexlogin/mappings"
)

// The input this plugin declares to the mapping engine: variable `user`, the normalized
// Plex account and its relationship to the allowed servers (docs/mappings.md lists it).
// Normalized facts only: no tokens, ever.

// User is the normalized Plex account, as variable `user` of mappings.
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

// Server is one allowed server as the user relates to it (an entry of user.servers).
type Server struct {
	MachineID string `cel:"machine_id" json:"machine_id"`
	Name      string `cel:"name" json:"name"`
	Owned     bool   `cel:"owned" json:"owned"`
	Home      bool   `cel:"home" json:"home"`
	Product   string `cel:"product" json:"product"`
	Pending   bool   `cel:"pending" json:"pending"`
}

// maxMappedServers is the most servers user.servers may list (the cost estimate assumes it).
const maxMappedServers = 256

// mappingDecl declares the input to the mapping engine.
var mappingDecl = mappings.MustDeclare([]mappings.Variable{{Name: "user", Type: reflect.TypeOf(User{})}},
	[]mappings.ListBound{{Path: "user.servers", Max: maxMappedServers, Noun: "servers"}})

// mappedUser is the user variable of an input mappingInput made.
func mappedUser(in mappings.Input) User {
	u, _ := in.Vars["user"].(User)
	return u
}
