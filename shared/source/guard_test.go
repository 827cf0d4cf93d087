package source_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/shared/source"
)

// A guard a host keeps has a key of at most MaxGuardKey bytes, a limit of at least one and
// a window of at least a second.
func TestGuessGuardCheck(t *testing.T) {
	ok := source.GuessGuard{Key: "pin/x", Max: 1, Window: source.MinGuardWindow}
	if err := ok.Check(); err != nil {
		t.Fatalf("a usable guard: %v", err)
	}
	long := ok
	long.Key = strings.Repeat("k", source.MaxGuardKey)
	if err := long.Check(); err != nil {
		t.Fatalf("a key of %d bytes: %v", source.MaxGuardKey, err)
	}
	bad := map[string]func(*source.GuessGuard){
		"no key":           func(g *source.GuessGuard) { g.Key = "" },
		"a key too long":   func(g *source.GuessGuard) { g.Key = strings.Repeat("k", source.MaxGuardKey+1) },
		"no guess allowed": func(g *source.GuessGuard) { g.Max = 0 },
		"a short window":   func(g *source.GuessGuard) { g.Window = source.MinGuardWindow - time.Millisecond },
	}
	for name, edit := range bad {
		g := ok
		edit(&g)
		if g.Check() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// An answer is a wrong guess when the step it returns or the error it ends with says so.
func TestWrongGuess(t *testing.T) {
	wrongErr := &source.Error{Kind: source.KindInvalidCredentials, WrongGuess: true}
	cases := []struct {
		name string
		id   source.Identity
		err  error
		want bool
	}{
		{"an identity", source.Identity{Subject: "1"}, nil, false},
		{"a step asking again", source.Identity{Step: &source.LoginStep{WrongGuess: true}}, nil, true},
		{"another step", source.Identity{Step: &source.LoginStep{}}, nil, false},
		{"an error saying so, wrapped", source.Identity{}, fmt.Errorf("call: %w", wrongErr), true},
		{"another error", source.Identity{}, &source.Error{Kind: source.KindUpstreamUnavailable}, false},
		{"a transport error", source.Identity{}, errors.New("connection lost"), false},
	}
	for _, c := range cases {
		if got := source.WrongGuess(c.id, c.err); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	step := &source.LoginStep{Choices: []source.Choice{{Value: "a"}, {Value: "b", Guard: &source.GuessGuard{Key: "b"}}}}
	if step.GuardOf("a") != nil || step.GuardOf("b") == nil || step.GuardOf("c") != nil {
		t.Fatal("GuardOf")
	}
}
