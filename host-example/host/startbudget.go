package host

import (
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/plexlogin/plexlogin/host-example/ratelimit"
)

// A login start that calls the source (the plugin asks its upstream for something, such as
// a sign-in code) is spent from a budget of this host process, so that a flood from very many
// addresses cannot make the host hammer the upstream, which would then refuse everyone. A
// share of the budget is kept for clients that are not flooding: a person signed in in the
// browser or who signed in there before (one share per person, however many browsers), and a
// network that has not started more than its share lately.

// Default start limits (StartLimits).
const (
	// DefaultStartsPerMinute is the budget of login starts that call a source, per minute and
	// per host process; the bucket holds as many (a burst of a minute's worth).
	DefaultStartsPerMinute = 300
	// DefaultStartsPerNetwork is how many starts a minute a network (an IPv4 /24, an IPv6
	// /48), a signed-in person or a known browser may make and still count as quiet.
	DefaultStartsPerNetwork = 30
	// DefaultMaxOpenStarts bounds the login starts stored (each a few hundred bytes); past it
	// the busiest clients lose their oldest.
	DefaultMaxOpenStarts = 20000
	// DefaultOpenStartsPerClient is how many login starts one client address keeps; a new
	// one drops its oldest.
	DefaultOpenStartsPerClient = 20
)

// StartLimits tune the budget of login starts that call a source and the bound on the ones
// stored; zero values take the defaults.
type StartLimits struct {
	// PerMinute is the budget per minute, per host process (DefaultStartsPerMinute).
	PerMinute int
	// Reserve is the part of the budget that only quiet clients may take (a third of PerMinute).
	Reserve int
	// PerNetwork is a quiet network's, signed-in person's or known browser's starts a minute
	// (DefaultStartsPerNetwork).
	PerNetwork int
	// MaxOpen bounds the login starts stored (DefaultMaxOpenStarts).
	MaxOpen int
	// OpenPerClient bounds the login starts one client keeps (DefaultOpenStartsPerClient).
	OpenPerClient int
}

// withDefaults is l with each zero value replaced by its default.
func (l StartLimits) withDefaults() StartLimits {
	if l.PerMinute <= 0 {
		l.PerMinute = DefaultStartsPerMinute
	}
	if l.Reserve <= 0 || l.Reserve >= l.PerMinute {
		l.Reserve = l.PerMinute / 3
	}
	if l.PerNetwork <= 0 {
		l.PerNetwork = DefaultStartsPerNetwork
	}
	if l.MaxOpen <= 0 {
		l.MaxOpen = DefaultMaxOpenStarts
	}
	if l.OpenPerClient <= 0 {
		l.OpenPerClient = DefaultOpenStartsPerClient
	}
	return l
}

// startBudget is the budget: one token bucket, whose last Reserve tokens only quiet clients
// take, and a bucket per network or person that tells quiet ones from busy ones.
type startBudget struct {
	mu      sync.Mutex
	all     *rate.Limiter
	reserve float64
	quiet   *ratelimit.Buckets
}

func newStartBudget(l StartLimits) *startBudget {
	return &startBudget{all: rate.NewLimiter(rate.Limit(float64(l.PerMinute)/60), l.PerMinute), reserve: float64(l.Reserve),
		quiet: ratelimit.New(float64(l.PerNetwork), l.PerNetwork, 100000)}
}

// quietKey is whose share a start counts against: the person behind the browser (browser,
// an opaque id of the person, the same in all their browsers; "" for none), else the
// signed-in person (person, 0 for none), else the client address's network.
func quietKey(client string, person int64, browser string) string {
	switch {
	case browser != "":
		return "browser " + browser
	case person != 0:
		return "person " + strconv.FormatInt(person, 10)
	}
	return "network " + ratelimit.NetworkOf(client)
}

// take spends one start for key. A busy key (past its share) takes only from the shared part
// of the budget, and none while shared is false (the upstream asked to slow down); a quiet
// key takes from the reserve too.
func (b *startBudget) take(key string, shared bool) bool {
	quiet := b.quiet.Take(key) // counted at every start, so a flooding network is known as one
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	left := b.all.TokensAt(now)
	if left < 1 || (!quiet && (!shared || left-1 < b.reserve)) {
		return false
	}
	return b.all.AllowN(now, 1)
}
