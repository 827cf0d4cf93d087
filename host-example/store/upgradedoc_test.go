package store

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// docs/upgrade.md says what each schema step does: one row per step, numbered 1 to this
// binary's schema version, so a new migration without its line fails here.
func TestUpgradeDocListsEverySchemaStep(t *testing.T) {
	doc, err := os.ReadFile("../../docs/upgrade.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile(`(?m)^\| (\d+) \|`).FindAllSubmatch(doc, -1)
	var steps []int
	for _, r := range rows {
		n, _ := strconv.Atoi(string(r[1]))
		steps = append(steps, n)
	}
	if len(steps) != schemaVersion() {
		t.Fatalf("docs/upgrade.md lists %d schema steps, this binary has %d", len(steps), schemaVersion())
	}
	for i, n := range steps {
		if n != i+1 {
			t.Fatalf("docs/upgrade.md's step rows are %v: want 1 to %d in order", steps, schemaVersion())
		}
	}
}
