package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/store"
	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// eventItems are the events listed on an events page (their <li class="ev-…"> openings).
var eventItems = regexp.MustCompile(`<li class="ev-[a-z]*">`)

// The events page filters by kind, source and person, pages with the filters kept, shows
// the why as facts and offers to check a refused person again.
func TestEventsPageFiltersAndPages(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	h.browser().Login("plex", "noshare")
	h.browser().Login("plex", "friend")
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	get := func(q url.Values) string { return admin.Do("GET", "/admin/events?"+q.Encode(), nil).Body }

	refusals := get(url.Values{"kind": {"refusals"}})
	if n := len(eventItems.FindAllString(refusals, -1)); n != 1 || !strings.Contains(refusals, `<li class="ev-refused">`) ||
		!strings.Contains(refusals, `<option value="refusals" selected>`) {
		t.Fatalf("refusals: %d events: %s", n, refusals)
	}
	// The why: facts, not a pipe-joined line; the reason in words, its code only on hover.
	if !strings.Contains(refusals, "<li>Mode: members</li>") || strings.Contains(refusals, " | ") ||
		!strings.Contains(refusals, "Reason: Not a member") || strings.Contains(refusals, ">not_a_member<") {
		t.Fatalf("the refusal's why: %s", refusals)
	}
	check := "/admin/sources/" + src.ID + "/dryrun?who=2003#dryrun-card"
	if !strings.Contains(html.UnescapeString(refusals), `href="`+check+`"`) {
		t.Fatalf("no Check again link %s: %s", check, refusals)
	}
	// Frank's sign-in lists the server he was seen on with its id shortened.
	frank := get(url.Values{"person": {"2001"}})
	if !strings.Contains(frank, `<li class="ev-ok">`) || strings.Contains(frank, `<li class="ev-refused">`) ||
		!strings.Contains(frank, `<code class="id" title="`+plexsim.ServerLivingRoom+`">`+plexsim.ServerLivingRoom[:8]+"…</code>") ||
		strings.Contains(frank, "("+plexsim.ServerLivingRoom+")") {
		t.Fatalf("frank's events: %s", frank)
	}
	if p := get(url.Values{"person": {"NORA"}, "source": {src.ID}}); len(eventItems.FindAllString(p, -1)) != 1 || !strings.Contains(p, "id 2003") {
		t.Fatalf("nora's events at the source: %s", p)
	}
	if p := get(url.Values{"source": {"elsewhere"}}); !strings.Contains(p, "No event matches these filters.") {
		t.Fatalf("another source: %s", p)
	}

	// Pages of 50, newest first, the kind filter kept going older and back newer.
	ctx := context.Background()
	const runCount = 120 // more than two pages
	for i := 0; i < runCount; i++ {
		_ = h.store.AddEvent(ctx, store.Event{Kind: store.EventAdminAction, Reason: "check", Detail: fmt.Sprintf("run %d", i)})
	}
	older := regexp.MustCompile(`id="events-older" href="([^"]*)"|href="([^"]*)" id="events-older"`)
	newer := regexp.MustCompile(`href="([^"]*)" id="events-newer"`)
	p := get(url.Values{"kind": {"admin"}})
	var runs []int
	size, pageCount := 0, 0
	for pages := 0; ; pages++ {
		items := eventItems.FindAllString(p, -1)
		for _, m := range regexp.MustCompile(`<li>Run (\d+)</li>`).FindAllStringSubmatch(p, -1) {
			var n int
			fmt.Sscan(m[1], &n)
			runs = append(runs, n)
		}
		if pages == 0 {
			size = len(items)
		}
		if len(items) > size || strings.Contains(p, `<li class="ev-ok">`) {
			t.Fatalf("page %d: %d events, or another kind", pages, len(items))
		}
		pageCount++
		m := older.FindStringSubmatch(p)
		if m == nil {
			break
		}
		next := html.UnescapeString(m[1] + m[2])
		if !strings.Contains(next, "kind=admin") {
			t.Fatalf("the older page lost the filter: %s", next)
		}
		p = admin.Do("GET", next, nil).Body
		if !newer.MatchString(p) {
			t.Fatal("an older page has no way back")
		}
	}
	if pageCount < 3 || len(runs) != runCount || runs[0] != runCount-1 || runs[len(runs)-1] != 0 {
		t.Fatalf("runs over %d pages: %d, first %v", pageCount, len(runs), runs[:min(3, len(runs))])
	}
	for i := 1; i < len(runs); i++ {
		if runs[i] != runs[i-1]-1 {
			t.Fatalf("runs out of order at %d: %v", i, runs[i-1:i+1])
		}
	}
	back := admin.Do("GET", html.UnescapeString(newer.FindStringSubmatch(p)[1]), nil).Body
	if n := len(eventItems.FindAllString(back, -1)); n != size || !older.MatchString(back) {
		t.Fatalf("back a page: %d events", n)
	}
}

// "Check again" opens the dry run filled in with the refused person's id; a name the events
// know (a person refused before any login) is checked by that id, and the name typed stays.
func TestDryRunFromARefusalEvent(t *testing.T) {
	h := newHarness(t, nil)
	src := h.addSource(membersConfig)
	h.browser().Login("plex", "noshare")
	b := h.browser()
	b.AdminLogin(adminPassword)
	p := b.Do("GET", "/admin/sources/"+src.ID+"/dryrun?who=2003", nil)
	if !strings.Contains(p.Body, `id="dryrun-sub" autocomplete="off" value="2003"`) || strings.Contains(p.Body, `id="dryrun-result"`) {
		t.Fatalf("the dry run from an event: %s", p.Body)
	}
	csrf := p.CSRF()
	p = b.Do("POST", "/admin/sources/"+src.ID+"/dryrun", url.Values{"csrf": {csrf}, "who": {"Nora"}})
	if !strings.Contains(p.Body, "nora (id 2003): Would not get in.") || !strings.Contains(p.Body, `value="Nora"`) ||
		!strings.Contains(p.Body, "Reason: Not a member") || strings.Contains(p.Body, ">not_a_member<") {
		t.Fatalf("the dry run by a refused person's name: %s", p.Body)
	}
	// The mapping editor's preview finds them by that name too.
	req, _ := http.NewRequest("POST", h.host.URL+"/admin/sources/"+src.ID+"/preview",
		strings.NewReader(`{"field":"mappings","text":"[x]\nname: user.username + \"!\"\n","person":"nora"}`))
	req.Header = b.Header.Clone()
	req.Header.Set("X-CSRF-Token", csrf)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Error    string
		Identity struct{ Name string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Error != "" || out.Identity.Name != "nora!" {
		t.Fatalf("preview of nora: %+v (%v)", out, err)
	}
}
