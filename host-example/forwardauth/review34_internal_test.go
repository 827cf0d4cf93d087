package forwardauth

import (
	"net/http"
	"slices"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Review 34 (security review of issue 34's commits, 1ed6fde..): ParsePath resolves its first
// reading into arrays inside the Path, NormalizeHost skips SplitHostPort without a colon, and
// the Remote-* values are slices shared by every answer of a cached session. These probes fail
// if one Path's readings can change another's, or one answer's values can reach another's.
// (The review also compared ParsePath and NormalizeHost with the parent commit's, on these
// paths, 200,000 random ones and two fuzz runs: the same answers. That copy of the parent's
// code is not kept.)

// review34Paths are paths that exercise every reading: more than 8 segments (the Path's
// array), dot segments that pop across the array's end, encoded slashes, ";" parameters,
// decoded "?" and "#", non-ASCII and compatibility forms, case.
var review34Paths = []string{
	"/", "", "?a=b", "/a", "/a/b/c/d/e/f/g/h", "/a/b/c/d/e/f/g/h/i", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q",
	"/1/2/3/4/5/6/7/8/../../../../../../../../../admin", "/1/2/3/4/5/6/7/8/9/../../x", "/a/./b/../../../admin/x",
	"/a/b/c/d/e/f/g/h/i/..", "/app/%2e%2e/admin", "/app/%2F../admin", "/app%2Fx/y", "/app%2fadmin", "/a;x/b;y/../admin",
	"/public;/../admin", "/public/..;/admin", "/public;jsessionid=1/x", "/a/b%3Fc/d", "/a/b%23c/d", "/a/%3F/../admin",
	"/ADMIN", "/Admin/x", "/ﬁle", "/ａｄｍｉｎ", "/public／..／admin", "/public/％2e％2e/admin", "/caf%C3%A9/x", "/café",
	"/a//b///c", "/a/b/", "/%61dmin", "/public/..%2Fadmin", "/k/1/2/3/4/5/6/7/8/9;x/..;y/z", "/İ/ı/K", "/a b", "/a\\b",
	"/1/2/3/4/5/6/7/8/9/10/11/12;p/13%2F14/..", "/ａ/ｂ/ｃ/ｄ/ｅ/ｆ/ｇ/ｈ/ｉ/ｊ", "/a/b/c/d/e/f/g/h/%2e%2e/%2e%2e/x",
}

// Two Paths never share segments: parsing one path does not change another's readings.
func TestReview34PathsDoNotShare(t *testing.T) {
	a, err := ParsePath("/1/2/3/4/5/6/7/public")
	if err != nil {
		t.Fatal(err)
	}
	before := a.Readings()
	for _, raw := range review34Paths {
		_, _ = ParsePath(raw)
	}
	if after := a.Readings(); !slices.Equal(before, after) {
		t.Fatalf("HOLE: a Path's readings changed from %q to %q", before, after)
	}
}

// The Remote-* values: each person's own, none with spare capacity (an append by a later
// writer copies rather than writing into the shared array), an answer's map changed after it
// is written leaves the cached values and the next answer alone, and an anonymous answer
// carries empty values whatever the client sent.
func TestReview34RemoteHeadersNotShared(t *testing.T) {
	frank := identityOf(&store.User{ID: 1, PublicID: "u_frank", Username: "frank", Name: "Frank", Email: "f@example.test", Groups: []string{"friends"}})
	gus := identityOf(&store.User{ID: 2, PublicID: "u_gus", Username: "gus", Name: "Gus", Email: "g@example.test", Groups: []string{"owners"}})
	names := []string{HeaderID, HeaderUser, HeaderName, HeaderEmail, HeaderGroups}
	for _, id := range []*identity{frank, gus} {
		for _, v := range [][]string{id.headers.id, id.headers.user, id.headers.name, id.headers.email, id.headers.groups} {
			if len(v) != 1 || cap(v) != 1 {
				t.Fatalf("HOLE: a shared value %q with len %d cap %d: an append writes into it", v, len(v), cap(v))
			}
		}
	}
	for _, v := range [][]string{anonymousHeaders.id, anonymousHeaders.user, anonymousHeaders.name, anonymousHeaders.email, anonymousHeaders.groups} {
		if len(v) != 1 || cap(v) != 1 || v[0] != "" {
			t.Fatalf("HOLE: the anonymous value %q (cap %d)", v, cap(v))
		}
	}
	answer := func(id *identity, client http.Header) http.Header {
		h := http.Header{}
		for k, v := range client { // what a careless middleware might copy in first
			h[k] = v
		}
		if id != nil {
			id.headers.set(h)
		} else {
			anonymousHeaders.set(h)
		}
		return h
	}
	forged := http.Header{HeaderUser: {"admin"}, HeaderGroups: {"owners"}, HeaderID: {"u_admin"}}
	a := answer(frank, forged)
	if a.Get(HeaderUser) != "frank" || a.Get(HeaderGroups) != "friends" || len(a.Values(HeaderUser)) != 1 {
		t.Fatalf("HOLE: frank's answer %v", a)
	}
	// A later writer appends to and sets frank's answer: neither reaches the cache or gus.
	a.Add(HeaderGroups, "owners")
	a.Set(HeaderUser, "gus")
	g := answer(gus, nil)
	again := answer(frank, nil)
	if again.Get(HeaderUser) != "frank" || !slices.Equal(again.Values(HeaderGroups), []string{"friends"}) || g.Get(HeaderUser) != "gus" ||
		!slices.Equal(g.Values(HeaderGroups), []string{"owners"}) {
		t.Fatalf("HOLE: after one answer was changed, frank's next %v, gus's %v", again, g)
	}
	anon := answer(nil, forged)
	for _, n := range names {
		if v := anon.Values(n); len(v) != 1 || v[0] != "" {
			t.Fatalf("HOLE: an anonymous answer carries %s: %q", n, v)
		}
	}
	anon.Add(HeaderUser, "x")
	if v := answer(nil, nil).Values(HeaderUser); len(v) != 1 || v[0] != "" {
		t.Fatalf("HOLE: an append to one anonymous answer reached the next: %q", v)
	}
}
