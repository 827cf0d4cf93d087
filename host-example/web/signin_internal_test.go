package web

import (
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/shared/source"
)

// A doc file named in help text links to the docs; everything else stays escaped text.
func TestDocLinks(t *testing.T) {
	got := string(docLinks("https://docs.example.test/v1/", `See docs/mappings.md & <b>docs/oidc.md</b>, not docs/../x.md.`))
	for _, want := range []string{`<a class="doc" href="https://docs.example.test/v1/mappings.md" target="_blank" rel="noopener">docs/mappings.md</a>`,
		`&amp; &lt;b&gt;<a class="doc" href="https://docs.example.test/v1/oidc.md"`, "not docs/../x.md."} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %s: %s", want, got)
		}
	}
}

// A field some choices mark required is asked only with those; a field no choice names is always asked.
func TestStepViewPerChoiceFields(t *testing.T) {
	st := &source.LoginStep{Choices: []source.Choice{{Value: "self", Details: map[string]string{"thumb": "https://plex.tv/a"}},
		{Value: "kid", Details: map[string]string{"pin": "required"}}},
		Fields: []source.StepField{{Name: "pin"}, {Name: "note"}}}
	choices, fields := stepView(st)
	if choices[0].Needs || !choices[1].Needs || choices[0].Thumb != "https://plex.tv/a" || choices[1].Thumb != "" {
		t.Errorf("choices: %+v", choices)
	}
	if !fields[0].PerChoice || fields[1].PerChoice {
		t.Errorf("fields: %+v", fields)
	}
}
