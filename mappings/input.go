package mappings

// Input types are exposed to CEL by their `cel` tags (the misspelled field is a
// compile error). They hold normalized facts only: no tokens, ever.

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

// Source is the configured source, as variable `source`.
type Source struct {
	ID   string `cel:"id" json:"id"`
	Slug string `cel:"slug" json:"slug"`
	Name string `cel:"name" json:"name"`
}

// Input is everything an expression sees.
type Input struct {
	User   User
	Source Source
	// Raw is the upstream user document with secrets already stripped (variable `raw`).
	Raw map[string]any
}
