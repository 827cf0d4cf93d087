package notify

import (
	"sync"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// RepeatWindow is how long a refusal of one person for one reason is told once: a friend
// reloading an app that refuses him is one message, not one per reload.
const RepeatWindow = 10 * time.Minute

// maxRepeats bounds the refusals remembered (per replica); past it the expired ones go, and
// if none has expired the memory starts again (a repeat is then told once more, never lost).
const maxRepeats = 4096

// repeats remembers the refusals told lately, by person and reason, on this replica.
type repeats struct {
	mu   sync.Mutex
	told map[string]time.Time
}

// fresh reports whether e is worth telling at now: any event but a refusal, or a refusal of
// its person for its reason not told within RepeatWindow.
func (r *repeats) fresh(kind Kind, e store.Event, now time.Time) bool {
	if kind != Refusal {
		return true
	}
	who := e.Subject
	if who == "" {
		who = "name:" + e.Name
	}
	key := e.SourceID + "\x00" + who + "\x00" + string(e.Kind) + "\x00" + e.Reason
	r.mu.Lock()
	defer r.mu.Unlock()
	if at, ok := r.told[key]; ok && now.Sub(at) < RepeatWindow {
		return false
	}
	if r.told == nil || len(r.told) >= maxRepeats {
		r.told = r.sweep(now)
	}
	r.told[key] = now
	return true
}

// sweep is the remembered refusals still within RepeatWindow (a new memory when all are).
func (r *repeats) sweep(now time.Time) map[string]time.Time {
	kept := map[string]time.Time{}
	for k, at := range r.told {
		if now.Sub(at) < RepeatWindow {
			kept[k] = at
		}
	}
	if len(kept) >= maxRepeats {
		return map[string]time.Time{}
	}
	return kept
}
