package store

import (
	"slices"
	"testing"
)

// A login through a source replaces that source's groups only: groups of another origin (an
// admin's, another source's) stay, and a name given twice by one origin is kept once.
func TestLoginMembershipsReplaceOnlyTheirSource(t *testing.T) {
	kept := []Membership{{"admins", "src"}, {"admins", FromAdmin}, {"media", "other"}, {"old", "src"}}
	got := loginMemberships(kept, "src", []string{"new", "admins", "new"})
	want := []Membership{{"admins", FromAdmin}, {"media", "other"}, {"new", "src"}, {"admins", "src"}}
	if !slices.Equal(got, want) {
		t.Fatalf("memberships %+v, want %+v", got, want)
	}
	if names := groupNames(got); !slices.Equal(names, []string{"admins", "media", "new"}) {
		t.Fatalf("names %v", names)
	}
	if got := loginMemberships(nil, "src", nil); got == nil || len(got) != 0 {
		t.Fatalf("no groups: %#v (stored as [], not null)", got)
	}
}
