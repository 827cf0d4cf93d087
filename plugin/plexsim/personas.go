package plexsim

// Persona is a simulated plex.tv account.
type Persona struct {
	Key         string
	Label       string
	ID          int64
	UUID        string
	Username    string
	Title       string
	Email       string
	Confirmed   bool
	Password    string // "" = no password (Google/Apple sign-up)
	TOTP        string // verification code when two-factor is on
	PlexPass    bool
	HomeAdmin   bool // admin of its own Plex Home
	HomeSize    int
	Managed     bool   // managed Home profile: no username, no email, no credentials
	HomePIN     string // profile PIN for switching
	HomeOf      string // key of the Home admin whose Home this account belongs to
	Revoked     bool   // its token answers 401
	Locale      string
	ClaimsToken bool
}

// Server is a simulated Plex Media Server.
type Server struct {
	MachineID string
	Name      string
	Owner     string
	Product   string
	Sections  []Section // its libraries; nil = DefaultSections
}

// Section is a library of a simulated Plex Media Server.
type Section struct {
	Key   string // library section id, as in /library/sections/{key}
	Title string
	Type  string // movie, show, artist or photo
}

// Share is a server shared with a user.
type Share struct {
	User      string
	MachineID string
	Pending   bool
	Sections  []string // titles of the shared libraries; nil = all of the server's
}

// DefaultSections is the libraries of a server that names none: Films, TV Shows and Music.
func DefaultSections() []Section {
	return []Section{{Key: "1", Title: "Films", Type: "movie"}, {Key: "2", Title: "TV Shows", Type: "show"}, {Key: "3", Title: "Music", Type: "artist"}}
}

// libraries is the server's sections, DefaultSections when it names none.
func (srv Server) libraries() []Section {
	if srv.Sections == nil {
		return DefaultSections()
	}
	return srv.Sections
}

// shares reports whether the share includes the library titled title.
func (sh Share) shares(title string) bool {
	if sh.Sections == nil {
		return true
	}
	for _, t := range sh.Sections {
		if t == title {
			return true
		}
	}
	return false
}

// World is the simulated plex.tv's data.
type World struct {
	Personas []Persona
	Servers  []Server
	Shares   []Share
	// Friends are friendships without a share (owner key → friend keys).
	Friends map[string][]string
}

// Machine identifiers of the default world's servers.
const (
	ServerLivingRoom = "5c1e3f0a9b7d4e21a8f60c3b2d9e7f41"
	ServerCabin      = "a7d2c9e84f1b4c6da0e3b5f7182c6d90"
	ServerElsewhere  = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
)

// DefaultWorld is the personas of the tests and the demo:
//
//   - owner: owns Living Room and Cabin, Plex Pass, Home admin, two-factor off, password "owner-pass"
//   - friend: a share on Living Room with its Films and TV Shows (not Music)
//   - pending: a share on Living Room not yet accepted
//   - noshare: a friend of the owner with no share
//   - otherhome: a share on Cabin, and admin of his own Plex Home with his own server
//   - homemember: a member of the owner's Home with her own account
//   - kid: a managed profile in the owner's Home, profile PIN 1234
//   - twofactor: a share on Living Room, password "tf-pass", code 123456
//   - google: signed up with Google (no password), a share on Cabin
//   - revoked: a share on Living Room, but every token it gets is refused
func DefaultWorld() World {
	return World{
		Personas: []Persona{
			{Key: "owner", Label: "Server owner (two servers, Plex Pass)", ID: 1001, UUID: "0a1b2c3d4e5f6071", Username: "owner", Title: "Olivia Owner",
				Email: "owner@example.com", Confirmed: true, Password: "owner-pass", PlexPass: true, HomeAdmin: true, HomeSize: 3, Locale: "en", HomePIN: "4321"},
			{Key: "friend", Label: "Friend with a share on Living Room", ID: 2001, UUID: "1b2c3d4e5f607182", Username: "frank", Title: "Frank Friend",
				Email: "frank@example.com", Confirmed: true, Password: "frank-pass"},
			{Key: "pending", Label: "Friend whose share is still pending", ID: 2002, UUID: "2c3d4e5f60718293", Username: "paula", Title: "Paula Pending",
				Email: "paula@example.com", Confirmed: false, Password: "paula-pass"},
			{Key: "noshare", Label: "Friend of the owner without a share", ID: 2003, UUID: "3d4e5f60718293a4", Username: "nora", Title: "Nora Noshare",
				Email: "nora@example.com", Confirmed: true, Password: "nora-pass"},
			{Key: "otherhome", Label: "Friend who runs his own Plex Home", ID: 2004, UUID: "4e5f60718293a4b5", Username: "hank", Title: "Hank Otherhome",
				Email: "hank@example.com", Confirmed: true, Password: "hank-pass", HomeAdmin: true, HomeSize: 2, PlexPass: true},
			{Key: "homemember", Label: "Member of the owner's Plex Home", ID: 3001, UUID: "5f60718293a4b5c6", Username: "hilda", Title: "Hilda Home",
				Email: "hilda@example.com", Confirmed: true, Password: "hilda-pass", HomeOf: "owner"},
			{Key: "kid", Label: "Managed profile in the owner's Home", ID: 3002, UUID: "60718293a4b5c6d7", Username: "", Title: "Kid",
				Email: "", Managed: true, HomePIN: "1234", HomeOf: "owner"},
			{Key: "twofactor", Label: "Friend with two-factor sign-in", ID: 4001, UUID: "718293a4b5c6d7e8", Username: "tess", Title: "Tess Twofactor",
				Email: "tess@example.com", Confirmed: true, Password: "tf-pass", TOTP: "123456"},
			{Key: "google", Label: "Friend who signed up with Google (no password)", ID: 4002, UUID: "8293a4b5c6d7e8f9", Username: "gus", Title: "Gus Google",
				Email: "gus@example.com", Confirmed: true},
			{Key: "revoked", Label: "Account whose tokens are revoked", ID: 4003, UUID: "93a4b5c6d7e8f90a", Username: "rita", Title: "Rita Revoked",
				Email: "rita@example.com", Confirmed: true, Password: "rita-pass", Revoked: true},
		},
		Servers: []Server{
			{MachineID: ServerLivingRoom, Name: "Living Room", Owner: "owner", Product: "Plex Media Server"},
			{MachineID: ServerCabin, Name: "Cabin", Owner: "owner", Product: "Plex Media Server"},
			{MachineID: ServerElsewhere, Name: "Hank's Place", Owner: "otherhome", Product: "Plex Media Server"},
		},
		Shares: []Share{
			{User: "friend", MachineID: ServerLivingRoom, Sections: []string{"Films", "TV Shows"}},
			{User: "pending", MachineID: ServerLivingRoom, Pending: true},
			{User: "otherhome", MachineID: ServerCabin},
			{User: "twofactor", MachineID: ServerLivingRoom},
			{User: "google", MachineID: ServerCabin},
			{User: "revoked", MachineID: ServerLivingRoom},
		},
		Friends: map[string][]string{"owner": {"noshare"}},
	}
}
