package notify_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/notify"
)

// sample is a message about a named person, as a target with names receives it.
func sample() notify.Message {
	return notify.Message{ID: "m1", Kind: notify.Refusal, At: time.Unix(1700000000, 0).UTC(), Title: "A sign-in was refused",
		Text: "A sign-in through Friends was refused. Reason: Not a member.", Source: &notify.Source{ID: "s1", Name: "Friends"},
		Person: &notify.Person{ID: 7, URL: "https://id.example.test/admin/users/7", Name: "Zoë", Email: "zoe@example.test"},
		Reason: "not_a_member", ReasonWords: "Not a member", Detail: "zoe is not a member", Link: "https://id.example.test/admin/users/7"}
}

// The generic webhook's signature is HMAC-SHA256 over the timestamp, a dot and the body,
// as a receiver computes it from the documented headers.
func TestWebhookSignature(t *testing.T) {
	now := time.Unix(1700000100, 0)
	req, err := notify.Render(notify.Webhook, sample(), false, []byte(hookSecret), now)
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte(hookSecret))
	mac.Write([]byte("1700000100." + string(req.Body)))
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); req.Header.Get(notify.HeaderSignature) != want ||
		req.Header.Get(notify.HeaderTimestamp) != "1700000100" || req.Header.Get(notify.HeaderKind) != "refusal" ||
		req.Header.Get(notify.HeaderID) != "m1" {
		t.Fatalf("headers %v, want signature %s", req.Header, want)
	}
	var m notify.Message
	if err := json.Unmarshal(req.Body, &m); err != nil || m.Person.ID != 7 || m.Person.Name != "" || m.Person.Email != "" || m.Detail != "" {
		t.Fatalf("without names: %+v %v", m.Person, err)
	}
	if req, _ := notify.Render(notify.Webhook, sample(), false, nil, now); req.Header.Get(notify.HeaderSignature) != "" {
		t.Fatal("signed without a secret")
	}
	if _, err := notify.Render("carrier-pigeon", sample(), false, nil, now); err == nil {
		t.Fatal("an unknown format rendered")
	}
}

// ntfy gets the text as the body and the title (RFC 2047 when not ASCII), tags, priority
// and click link as headers; Discord gets content and an embed within its limits.
func TestNtfyAndDiscordFormats(t *testing.T) {
	m := sample()
	m.Title = "Refusé: " + strings.Repeat("x", 300)
	req, err := notify.Render(notify.Ntfy, m, true, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	body := string(req.Body)
	if !strings.HasPrefix(body, m.Text) || !strings.Contains(body, "Person: Zoë <zoe@example.test> (person 7)") ||
		!strings.HasPrefix(req.Header.Get("Title"), "=?utf-8?q?") || req.Header.Get("Tags") != "no_entry" ||
		req.Header.Get("Click") != m.Link || req.Header.Get("Authorization") != "" {
		t.Fatalf("ntfy: %v %q", req.Header, body)
	}
	req, err = notify.Render(notify.Discord, m, false, []byte("ignored-secret"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Content string
		Embeds  []struct {
			Title, Description, URL, Timestamp string
			Fields                             []struct{ Name, Value string }
		}
	}
	if err := json.Unmarshal(req.Body, &d); err != nil || len(d.Embeds) != 1 {
		t.Fatalf("discord: %s %v", req.Body, err)
	}
	e := d.Embeds[0]
	if len([]rune(e.Title)) != 256 || !strings.HasSuffix(e.Title, "…") || e.URL != m.Link || e.Timestamp != "2023-11-14T22:13:20Z" ||
		strings.Contains(string(req.Body), "Zoë") || strings.Contains(string(req.Body), "ignored-secret") {
		t.Fatalf("discord embed: %+v", e)
	}
}
