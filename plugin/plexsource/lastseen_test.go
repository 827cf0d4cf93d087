package plexsource

import (
	"strings"
	"testing"
	"time"
)

func TestLastSeenInWords(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]string{
		"2026-11-23T11:59:30Z": "just now", "2026-11-23T11:20:00Z": "40 minutes ago", "2026-11-22T19:00:00Z": "17 hours ago",
		"2026-11-20T19:47:43Z": "2 days ago", "1795000000": "days ago", "": "unknown", "soon": "unknown",
	} {
		if got := lastSeen(v, now); !strings.HasSuffix(got, want) {
			t.Errorf("lastSeen(%q) = %q, want …%q", v, got, want)
		}
	}
}
