package store

// Session liveness, written once. A session — a host session (sessions) or a forward-auth
// session (forward_sessions) — is live while it has not expired and its person and the
// person's source are turned on. Every statement that reads a live session composes its
// joins and its condition from here, in the SQL both engines read (rebind adapts the
// placeholders for PostgreSQL).

// personOn is the condition that the person (alias u) and their source (alias src) are turned on.
const personOn = `u.disabled = 0 AND src.enabled = 1`

// sessionPerson joins the person (u) and their source (src) of the session row alias a.
// outer keeps a session without a person (an admin signed in by password): its u and src are NULL.
func sessionPerson(a string, outer bool) string {
	join := `JOIN`
	if outer {
		join = `LEFT JOIN`
	}
	return join + ` users u ON u.id = ` + a + `.user_id ` + join + ` sources src ON src.id = u.source_id`
}

// sessionLive is the condition that the session row alias a, joined by sessionPerson with the
// same outer, is live. It takes one argument, the time now in Unix seconds.
func sessionLive(a string, outer bool) string {
	if outer {
		return a + `.expires_at > ? AND (` + a + `.user_id IS NULL OR (` + personOn + `))`
	}
	return a + `.expires_at > ? AND ` + personOn
}
