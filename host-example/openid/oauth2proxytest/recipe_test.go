package oauth2proxytest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recipeHeading is the section of docs/oidc.md whose first sh block is the recipe.
const recipeHeading = "### oauth2-proxy (tested in CI)"

// recipeBlock is the sh block of docs/oidc.md's recipe.
func recipeBlock(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "oidc.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n"+recipeHeading+"\n")
	if !ok {
		t.Fatalf("docs/oidc.md has no %q", recipeHeading)
	}
	_, block, ok := strings.Cut(section, "```sh\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatalf("no sh block under %q", recipeHeading)
	}
	return block
}

// recipeAddition is the flag a comment line of the recipe says to add for a case
// ("# <about>: add --flag=value"), so the test runs what the page says.
func recipeAddition(t *testing.T, about string) string {
	t.Helper()
	for _, line := range strings.Split(recipeBlock(t), "\n") {
		if rest, ok := strings.CutPrefix(line, "# "+about+": add "); ok {
			flag, _, _ := strings.Cut(rest, " ")
			if !strings.HasPrefix(flag, "--") {
				t.Fatalf("the recipe's line for %s adds no flag: %q", about, line)
			}
			return flag
		}
	}
	t.Fatalf("the recipe has no line %q", "# "+about+": add …")
	return ""
}

// recipeFlags are the flags of the oauth2-proxy command in docs/oidc.md's recipe, with the
// values of the flags in local (addresses, client id) replaced by the test's; every one of
// local must be in the recipe, so the test runs what the page shows.
func recipeFlags(t *testing.T, local map[string]string) []string {
	t.Helper()
	block := recipeBlock(t)
	var command string
	for _, line := range strings.Split(strings.ReplaceAll(block, "\\\n", " "), "\n") {
		if strings.HasPrefix(line, "oauth2-proxy ") {
			command = line
		}
	}
	words := shellWords(t, command)
	if len(words) < 2 {
		t.Fatalf("no oauth2-proxy command in the recipe: %q", block)
	}
	var flags []string
	seen := map[string]bool{}
	for _, w := range words[1:] {
		name, _, _ := strings.Cut(w, "=")
		if !strings.HasPrefix(name, "--") {
			t.Fatalf("recipe word %q is not a --flag", w)
		}
		if v, ok := local[name]; ok {
			w, seen[name] = name+"="+v, true
		}
		flags = append(flags, w)
	}
	for name := range local {
		if !seen[name] {
			t.Fatalf("the recipe has no %s: %q", name, command)
		}
	}
	return flags
}

// shellWords splits a command line as sh would for plain words and single quotes (all the
// recipe uses); anything else a shell would expand fails the test.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var w strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case quoted && r == '\'':
			quoted = false
		case quoted:
			w.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == ' ' || r == '\t':
			if inWord {
				words, inWord = append(words, w.String()), false
				w.Reset()
			}
		case strings.ContainsRune(`"$*?[]\`+"`"+`;&|<>(){}~#`, r):
			t.Fatalf("the recipe's command needs more than plain words and single quotes: %q", line)
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unclosed quote in %q", line)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}
