package plextv

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// PIN is a plex.tv login PIN.
type PIN struct {
	ID               Int    `json:"id" xml:"id,attr"`
	Code             String `json:"code" xml:"code,attr"`
	ClientIdentifier String `json:"clientIdentifier" xml:"clientIdentifier,attr"`
	ExpiresIn        Int    `json:"expiresIn" xml:"expiresIn,attr"`
	ExpiresAt        String `json:"expiresAt" xml:"expiresAt,attr"`
	AuthToken        String `json:"authToken" xml:"authToken,attr"`
	// AuthTokenSnake is the snake_case spelling some answers use.
	AuthTokenSnake String `json:"auth_token" xml:"-"`
}

// Token is the PIN's auth token once claimed, "" while pending.
func (p PIN) Token() string {
	if p.AuthToken != "" {
		return string(p.AuthToken)
	}
	return string(p.AuthTokenSnake)
}

// User is a plex.tv account as /api/v2/user describes it.
type User struct {
	ID               Int    `json:"id"`
	UUID             String `json:"uuid"`
	Username         String `json:"username"`
	Title            String `json:"title"`
	FriendlyName     String `json:"friendlyName"`
	Email            String `json:"email"`
	Thumb            String `json:"thumb"`
	Locale           String `json:"locale"`
	Confirmed        Bool   `json:"confirmed"`
	HasPassword      Bool   `json:"hasPassword"`
	Restricted       Bool   `json:"restricted"`
	Home             Bool   `json:"home"`
	HomeAdmin        Bool   `json:"homeAdmin"`
	Guest            Bool   `json:"guest"`
	Protected        Bool   `json:"protected"`
	TwoFactorEnabled Bool   `json:"twoFactorEnabled"`
	Roles            List   `json:"roles"`
	Subscription     struct {
		Active Bool   `json:"active"`
		Plan   String `json:"plan"`
		Status String `json:"status"`
	} `json:"subscription"`
	AuthToken String `json:"authToken"`

	// Raw is the whole document with secrets stripped.
	Raw map[string]any `json:"-"`
}

// PlexPass reports whether the account has an active Plex Pass.
func (u *User) PlexPass() bool { return bool(u.Subscription.Active) || u.Roles.Has("plexpass") }

// AdminName is the name an admin searches for: the username, else the display name.
func (u *User) AdminName() string {
	if n := strings.TrimSpace(string(u.Username)); n != "" {
		return n
	}
	return u.DisplayName()
}

// DisplayName is the best human name plex.tv gives for the account.
func (u *User) DisplayName() string {
	for _, s := range []String{u.Title, u.FriendlyName, u.Username} {
		if strings.TrimSpace(string(s)) != "" {
			return string(s)
		}
	}
	return ""
}

// Resource is a device the token can access, from /api/v2/resources.
type Resource struct {
	Name             String `json:"name"`
	Product          String `json:"product"`
	ProductVersion   String `json:"productVersion"`
	ClientIdentifier String `json:"clientIdentifier"`
	Provides         List   `json:"provides"`
	Owned            Bool   `json:"owned"`
	Home             Bool   `json:"home"`
	OwnerID          Int    `json:"ownerId"`
	SourceTitle      String `json:"sourceTitle"`
	LastSeenAt       String `json:"lastSeenAt"`
	Presence         Bool   `json:"presence"`
}

// IsServer reports whether the resource is a media server (players are never servers).
func (r Resource) IsServer() bool { return r.Provides.Has("server") }

// SharedUser is one <User> of the owner's /api/users list.
type SharedUser struct {
	ID         Int          `xml:"id,attr"`
	UUID       String       `xml:"uuid,attr"`
	Title      String       `xml:"title,attr"`
	Username   String       `xml:"username,attr"`
	Email      String       `xml:"email,attr"`
	Thumb      String       `xml:"thumb,attr"`
	Home       Bool         `xml:"home,attr"`
	Restricted Bool         `xml:"restricted,attr"`
	Protected  Bool         `xml:"protected,attr"`
	Servers    []SharedWith `xml:"Server"`
}

// SharedWith is one server shared with a SharedUser.
type SharedWith struct {
	ID                Int    `xml:"id,attr"`
	MachineIdentifier String `xml:"machineIdentifier,attr"`
	Name              String `xml:"name,attr"`
	Owned             Bool   `xml:"owned,attr"`
	Pending           Bool   `xml:"pending,attr"`
	AllLibraries      Bool   `xml:"allLibraries,attr"`
	NumLibraries      Int    `xml:"numLibraries,attr"`
}

// HomeUser is one <User> of /api/home/users.
type HomeUser struct {
	ID                 Int    `xml:"id,attr" json:"id"`
	UUID               String `xml:"uuid,attr" json:"uuid"`
	Title              String `xml:"title,attr" json:"title"`
	Username           String `xml:"username,attr" json:"username"`
	Email              String `xml:"email,attr" json:"email"`
	Thumb              String `xml:"thumb,attr" json:"thumb"`
	Admin              Bool   `xml:"admin,attr" json:"admin"`
	Guest              Bool   `xml:"guest,attr" json:"guest"`
	Restricted         Bool   `xml:"restricted,attr" json:"restricted"`
	Protected          Bool   `xml:"protected,attr" json:"protected"`
	RestrictionProfile String `xml:"restrictionProfile,attr" json:"restrictionProfile"`
}

// Managed reports whether the Home user is a managed profile (no own credentials).
func (h HomeUser) Managed() bool { return h.Username == "" && h.Email == "" }

// SharedServer is one <SharedServer> of /api/servers/{id}/shared_servers.
type SharedServer struct {
	ID         Int    `xml:"id,attr"`
	UserID     Int    `xml:"userID,attr"`
	Username   String `xml:"username,attr"`
	Email      String `xml:"email,attr"`
	Name       String `xml:"name,attr"`
	AcceptedAt Int    `xml:"acceptedAt,attr"`
	InvitedAt  Int    `xml:"invitedAt,attr"`
}

// Friend is one entry of the retired /api/v2/friends.
type Friend struct {
	ID       Int    `json:"id"`
	UUID     String `json:"uuid"`
	Username String `json:"username"`
	Email    String `json:"email"`
	Title    String `json:"title"`
	Status   String `json:"status"`
}

// DecodePIN decodes a PIN from JSON or XML.
func DecodePIN(data []byte) (PIN, error) {
	var p PIN
	if isXML(data) {
		if err := xml.Unmarshal(data, &p); err != nil {
			return p, fmt.Errorf("pin xml: %w", err)
		}
	} else if err := json.Unmarshal(data, &p); err != nil {
		return p, fmt.Errorf("pin json: %w", err)
	}
	if p.ID == 0 {
		return p, fmt.Errorf("pin has no id")
	}
	return p, nil
}

// DecodeUser decodes a /api/v2/user (or signin, or switch) JSON document; a legacy
// {"user": {...}} wrapper is accepted.
func DecodeUser(data []byte) (*User, error) {
	var generic map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("user json: %w", err)
	}
	if inner, ok := generic["user"].(map[string]any); ok && generic["id"] == nil {
		generic = inner
		data, _ = json.Marshal(inner)
	}
	var u User
	if err := json.Unmarshal(data, &u); err != nil {
		return nil, fmt.Errorf("user json: %w", err)
	}
	if u.ID == 0 {
		return nil, fmt.Errorf("user has no id")
	}
	u.Raw = StripSecrets(generic).(map[string]any)
	return &u, nil
}

// DecodeResources decodes a /api/v2/resources JSON array.
func DecodeResources(data []byte) ([]Resource, error) {
	var rs []Resource
	if err := json.Unmarshal(data, &rs); err != nil {
		return nil, fmt.Errorf("resources json: %w", err)
	}
	return rs, nil
}

type usersContainer struct {
	XMLName xml.Name     `xml:"MediaContainer"`
	Users   []SharedUser `xml:"User"`
}

// DecodeSharedUsers decodes the owner's /api/users XML.
func DecodeSharedUsers(data []byte) ([]SharedUser, error) {
	var c usersContainer
	if err := decodeXML(data, &c); err != nil {
		return nil, fmt.Errorf("users xml: %w", err)
	}
	return c.Users, nil
}

type homeContainer struct {
	XMLName xml.Name   `xml:"MediaContainer"`
	Users   []HomeUser `xml:"User"`
}

// DecodeHomeUsers decodes /api/home/users XML.
func DecodeHomeUsers(data []byte) ([]HomeUser, error) {
	var c homeContainer
	if err := decodeXML(data, &c); err != nil {
		return nil, fmt.Errorf("home users xml: %w", err)
	}
	return c.Users, nil
}

type sharedServersContainer struct {
	XMLName xml.Name       `xml:"MediaContainer"`
	Servers []SharedServer `xml:"SharedServer"`
}

// DecodeSharedServers decodes /api/servers/{id}/shared_servers XML.
func DecodeSharedServers(data []byte) ([]SharedServer, error) {
	var c sharedServersContainer
	if err := decodeXML(data, &c); err != nil {
		return nil, fmt.Errorf("shared servers xml: %w", err)
	}
	return c.Servers, nil
}

// DecodeFriends decodes the retired /api/v2/friends JSON array.
func DecodeFriends(data []byte) ([]Friend, error) {
	var fs []Friend
	if err := json.Unmarshal(data, &fs); err != nil {
		return nil, fmt.Errorf("friends json: %w", err)
	}
	return fs, nil
}

func decodeXML(data []byte, v any) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = false
	d.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	return d.Decode(v)
}

func isXML(data []byte) bool {
	t := bytes.TrimSpace(data)
	return len(t) > 0 && t[0] == '<'
}

// apiError is plex.tv's error envelope, JSON or XML.
type apiError struct {
	Code    int
	Message string
}

// decodeError reads {"errors":[{code,message}]}, <errors><error code message/></errors>,
// <errors><error>text</error></errors> and <Response code status/>.
func decodeError(data []byte) apiError {
	if isXML(data) {
		var x struct {
			XMLName xml.Name
			Code    Int    `xml:"code,attr"`
			Status  String `xml:"status,attr"`
			Errors  []struct {
				Code    Int    `xml:"code,attr"`
				Message String `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"error"`
		}
		if decodeXML(data, &x) != nil {
			return apiError{}
		}
		if x.XMLName.Local == "Response" {
			return apiError{Code: int(x.Code), Message: string(x.Status)}
		}
		if len(x.Errors) > 0 {
			e := x.Errors[0]
			msg := string(e.Message)
			if msg == "" {
				msg = strings.TrimSpace(e.Text)
			}
			return apiError{Code: int(e.Code), Message: msg}
		}
		return apiError{}
	}
	var j struct {
		Errors []struct {
			Code    Int    `json:"code"`
			Message String `json:"message"`
		} `json:"errors"`
		Error String `json:"error"`
	}
	if json.Unmarshal(data, &j) != nil {
		return apiError{}
	}
	if len(j.Errors) > 0 {
		return apiError{Code: int(j.Errors[0].Code), Message: string(j.Errors[0].Message)}
	}
	return apiError{Message: string(j.Error)}
}
