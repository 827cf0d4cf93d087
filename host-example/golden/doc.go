// Package golden holds what today's host made and must still read after a redesign: a data
// folder (testdata/v10: the SQLite database and the key file, schema version 10) and the
// tokens minted with it (testdata/v10/tokens.json): a host session cookie, a forward-auth
// cookie, a signed notice, an anonymous session's CSRF token, an OpenID Connect access,
// refresh and id token, all of one user, one client and one signing key. Its tests copy the
// folder and check that each still opens, resolves or verifies through its owner's code,
// and that a one-byte change is refused.
//
// The folder is made once, by the code of the version it is named for, with
//
//	go test ./host-example/golden -run TestMakeGolden -args -update
//
// and then never remade: a change that breaks these tests breaks every deployed host.
// The generator moves the expiry of every session and token it made to the year 2100, so
// the tests do not age; nothing else in the database is touched.
package golden
