package relyingparty

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// The page shows a time claim as a UTC date with its raw number, and other numbers as written.
func TestPageShowsTimesAsDates(t *testing.T) {
	w := httptest.NewRecorder()
	(&App{}).page(w, 200, "", map[string]any{"preferred_username": "frank", "auth_time": float64(1700000000),
		"exp": float64(1700003600), "max": float64(1234567890123), "groups": []any{"plex-friend"}})
	body := w.Body.String()
	for _, want := range []string{
		"<td>auth_time</td><td>2023-11-14 22:13:20 UTC (1700000000)</td>",
		"<td>exp</td><td>2023-11-14 23:13:20 UTC (1700003600)</td>",
		"<td>max</td><td>1234567890123</td>",
		"<td>groups</td><td>[plex-friend]</td>",
		`<span class="pill">plex-friend</span>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
}
