package web

import (
	"fmt"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// A detail reads as a list of sentences: split at the joined user text and " | ", keys in
// words, long hexadecimal ids shortened with the whole id kept for hover.
func TestFactsOf(t *testing.T) {
	id := plexsim.ServerLivingRoom
	got := factsOf("You have no access. — mode=members | allowed servers seen: Living Room (" + id + ") | in owner share list: no")
	var lines []string
	for _, f := range got {
		var b strings.Builder
		for _, p := range f {
			if p.ID != "" {
				fmt.Fprintf(&b, "[%s=%s]", p.Text, p.ID)
			} else {
				b.WriteString(p.Text)
			}
		}
		lines = append(lines, b.String())
	}
	want := []string{"You have no access.", "Mode: members", "Allowed servers seen: Living Room ([" + id[:8] + "…=" + id + "])", "In owner share list: no"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("facts\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if factsOf("") != nil || reasonWords("member_of_allowed_server") != "Member of allowed server" || reasonWords("") != "" {
		t.Fatal("empty detail or reason words")
	}
}

// Every kind the page names is in a group of the kind filter, and every kind of a group has words.
func TestEventGroupsCoverTheKinds(t *testing.T) {
	grouped := map[store.EventKind]bool{}
	for _, g := range eventGroups {
		for _, k := range g.Kinds {
			if _, ok := eventWords[string(k)]; !ok || grouped[k] {
				t.Errorf("kind %s: without words, or in two groups", k)
			}
			grouped[k] = true
		}
	}
	for k := range eventWords {
		if !grouped[store.EventKind(k)] {
			t.Errorf("kind %s is in no group", k)
		}
	}
}
