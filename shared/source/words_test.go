package source_test

import (
	"encoding/json"
	"testing"

	"github.com/plexlogin/plexlogin/shared/source"
)

// A credential kind of contract 1.5 names itself and where it is signed out; one of an older
// plugin, without those words, still makes a readable sentence.
func TestCredentialKindWords(t *testing.T) {
	for _, tc := range []struct {
		kind             source.CredentialKind
		title, signedOut string
	}{
		{source.CredentialKind{Kind: "acme.token", Name: "Acme token", Upstream: "acme.example"}, "Acme token", "at acme.example"},
		{source.CredentialKind{Kind: "acme.token"}, "credential acme.token", "upstream"},
	} {
		if got := tc.kind.Title(); got != tc.title {
			t.Errorf("%+v: Title %q, want %q", tc.kind, got, tc.title)
		}
		if got := tc.kind.SignedOut(); got != tc.signedOut {
			t.Errorf("%+v: SignedOut %q, want %q", tc.kind, got, tc.signedOut)
		}
	}
}

// A schema of a plugin older than contract 1.5 declares no attribute words: none are read.
func TestAttributeTitlesOfAnOlderSchema(t *testing.T) {
	p, err := source.ParseSchema(json.RawMessage(`{"type":"object","properties":{},"x-subject-help":"Their id."}`))
	if err != nil {
		t.Fatal(err)
	}
	if titles := p.AttributeTitles(); len(titles) != 0 {
		t.Fatalf("titles from nowhere: %v", titles)
	}
}
