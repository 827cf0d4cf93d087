package web_test

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// Probe of issue 32's notifications against a running host: what a target without names gets.

// A health check's message to a target without names names nobody: the owner's account
// name the plugin's words hold ("account Olivia Owner") stays out of it.
func TestProbeHealthMessageWithoutNamesNamesNoOne(t *testing.T) {
	h := newHarness(t, nil)
	h.addSource(membersConfig)
	r := newHookReceiver(t)
	admin := h.browser()
	admin.AdminLogin(adminPassword)
	addTarget(t, admin, "Home Assistant", "webhook", r.URL+"/hook", "suggested", "health_changed")
	addTarget(t, admin, "Phone", "ntfy", r.URL+"/ntfy", "", "health_changed")
	ctx := context.Background()
	_ = h.srv.Jobs.CheckHealth(ctx)
	if _, err := h.srv.Notify.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	got := r.requests()
	if !slices.ContainsFunc(got, func(g hookRequest) bool { return g.path == "/hook" }) {
		t.Fatalf("no health message: %d requests", len(got))
	}
	for _, g := range got {
		for _, name := range []string{"Olivia", "owner@example.com"} {
			if strings.Contains(string(g.body), name) {
				t.Errorf("%s: a target without names got %q: %s", g.path, name, g.body)
			}
		}
	}
}
