package mappings

import "fmt"

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

// maxRawDepth is how deeply nested the raw document may be.
const maxRawDepth = 32

// CheckSizes reports the first value of in beyond the sizes the cost estimate assumes
// (strings of maxStringBytes, maxServers servers, raw lists and maps of maxRawList entries):
// with such an input the static bound would not hold.
func (in Input) CheckSizes() error {
	u := in.User
	for name, s := range map[string]string{"user.uuid": u.UUID, "user.username": u.Username, "user.title": u.Title,
		"user.email": u.Email, "user.thumb": u.Thumb, "user.locale": u.Locale, "source.id": in.Source.ID,
		"source.slug": in.Source.Slug, "source.name": in.Source.Name} {
		if len(s) > maxStringBytes {
			return fmt.Errorf("%s is %d bytes; at most %d", name, len(s), maxStringBytes)
		}
	}
	if len(u.Servers) > maxServers {
		return fmt.Errorf("user.servers has %d entries; at most %d", len(u.Servers), maxServers)
	}
	for i, s := range u.Servers {
		if len(s.MachineID) > maxStringBytes || len(s.Name) > maxStringBytes || len(s.Product) > maxStringBytes {
			return fmt.Errorf("user.servers[%d] has a value over %d bytes", i, maxStringBytes)
		}
	}
	return checkRaw("raw", in.Raw, 0)
}

func checkRaw(path string, v any, depth int) error {
	if depth > maxRawDepth {
		return fmt.Errorf("%s is nested deeper than %d", path, maxRawDepth)
	}
	switch t := v.(type) {
	case string:
		if len(t) > maxStringBytes {
			return fmt.Errorf("%s is %d bytes; at most %d", path, len(t), maxStringBytes)
		}
	case map[string]any:
		if len(t) > maxRawList {
			return fmt.Errorf("%s has %d entries; at most %d", path, len(t), maxRawList)
		}
		for k, x := range t {
			if len(k) > maxStringBytes {
				return fmt.Errorf("%s has a key over %d bytes", path, maxStringBytes)
			}
			if err := checkRaw(path+"."+k, x, depth+1); err != nil {
				return err
			}
		}
	case []any:
		if len(t) > maxRawList {
			return fmt.Errorf("%s has %d entries; at most %d", path, len(t), maxRawList)
		}
		for i, x := range t {
			if err := checkRaw(fmt.Sprintf("%s[%d]", path, i), x, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}
