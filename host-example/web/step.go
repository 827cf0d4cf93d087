package web

import (
	"github.com/plexlogin/plexlogin/shared/source"
)

// stepChoice is one answer of a login step as its page shows it.
type stepChoice struct {
	source.Choice
	// Thumb is its picture (Details["thumb"]), "" for none.
	Thumb string
	// Needs says it asks for the step's per-choice fields.
	Needs bool
}

// stepField is one value a login step asks for.
type stepField struct {
	source.StepField
	// PerChoice fields are asked only with a choice that needs them (Details[name] =
	// "required"): the page hides them until such a choice is picked.
	PerChoice bool
}

// stepView is a login step as its page shows it: the choices with their pictures, and which
// fields only some choices ask for.
func stepView(st *source.LoginStep) ([]stepChoice, []stepField) {
	perChoice := map[string]bool{}
	for _, c := range st.Choices {
		for _, f := range st.Fields {
			if c.Details[f.Name] == "required" {
				perChoice[f.Name] = true
			}
		}
	}
	choices := make([]stepChoice, 0, len(st.Choices))
	for _, c := range st.Choices {
		sc := stepChoice{Choice: c, Thumb: c.Details["thumb"]}
		for name := range perChoice {
			if c.Details[name] == "required" {
				sc.Needs = true
			}
		}
		choices = append(choices, sc)
	}
	fields := make([]stepField, 0, len(st.Fields))
	for _, f := range st.Fields {
		fields = append(fields, stepField{StepField: f, PerChoice: perChoice[f.Name]})
	}
	return choices, fields
}
