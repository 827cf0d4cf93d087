package sourcetest

import (
	"context"
	"testing"

	"github.com/plexlogin/plexlogin/shared/source"
)

// testGuessGuards (contract 1.3): the guards of a step are ones a host can keep, and a wrong
// answer to a guarded choice says it was a wrong guess, so the host keeps it counted.
func testGuessGuards(t *testing.T, ctx context.Context, f Fixtures, inst source.Instance) {
	if f.GuardedStep == nil {
		t.Skip("the fixtures give no GuardedStep (the plugin's steps guard no guesses)")
	}
	inst, step, wrong, err := f.GuardedStep(ctx, f.Source, inst)
	if err != nil || step == nil {
		t.Fatalf("GuardedStep: no step: %v", err)
	}
	checkGuards(t, step)
	if step.WrongGuess {
		t.Error("a step no guess led to says a guess was wrong")
	}
	if step.GuardOf(wrong.Choice) == nil {
		t.Fatalf("the wrong answer's choice %q has no guard", wrong.Choice)
	}
	wrong.State = step.State
	id, err := f.Source.ContinueLogin(ctx, inst, wrong)
	if !source.WrongGuess(id, err) {
		t.Fatalf("a wrong answer to a guarded choice was not reported as a wrong guess: %+v %v", id, err)
	}
	if id.Step != nil {
		checkGuards(t, id.Step)
	}
}

// checkGuards fails for each guard of step a host could not keep.
func checkGuards(t *testing.T, step *source.LoginStep) {
	t.Helper()
	for _, c := range step.Choices {
		if c.Guard == nil {
			continue
		}
		if err := c.Guard.Check(); err != nil {
			t.Errorf("choice %q: %v", c.Value, err)
		}
		if c.Guard.UserText == "" {
			t.Errorf("choice %q: a guard's refusal needs the person's words (UserText)", c.Value)
		}
	}
}
