package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The formats a target takes.
const (
	// Webhook is the generic webhook: the message as JSON, signed with HMAC-SHA256 over the
	// timestamp and the body when the target has a secret.
	Webhook = "webhook"
	// Ntfy is ntfy's publish API: a POST to the topic's URL, the text as the body and the
	// title, tags, priority and click link as headers; the target's secret, if any, is sent
	// as its access token (Authorization: Bearer).
	Ntfy = "ntfy"
	// Discord is Discord's execute-webhook API: JSON with content and one embed. Discord
	// checks no signature (its webhook URL is the secret), so none is sent.
	Discord = "discord"
)

// Formats are the formats a target may take, in the order the admin page lists them.
var Formats = []string{Webhook, Ntfy, Discord}

// The generic webhook's headers.
const (
	HeaderKind      = "X-HostExample-Kind"      // the message's kind
	HeaderID        = "X-HostExample-Delivery"  // the message's id (the same on a retry)
	HeaderTimestamp = "X-HostExample-Timestamp" // unix seconds when this request was signed
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256, under the target's secret, of the
	// timestamp, a dot and the body.
	HeaderSignature = "X-HostExample-Signature"
)

// Request is what a target is sent: a POST of Body with Header.
type Request struct {
	Header http.Header
	Body   []byte
}

// Render is the request that delivers m to a target of format, with names and e-mails only
// when names, signed (webhook) or authorised (ntfy) with secret when there is one, at now.
func Render(format string, m Message, names bool, secret []byte, now time.Time) (Request, error) {
	m = m.forTarget(names)
	switch format {
	case Webhook:
		return webhookRequest(m, secret, now)
	case Ntfy:
		return ntfyRequest(m, secret), nil
	case Discord:
		return discordRequest(m)
	}
	return Request{}, fmt.Errorf("unknown notification format %q", format)
}

// Sign is the generic webhook's signature of body sent at timestamp (unix seconds):
// "sha256=" and the hex HMAC-SHA256 of timestamp + "." + body under secret.
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp + "."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether sig is Sign's signature of body at timestamp under secret (a
// receiver in Go may use it; it should also refuse a timestamp far from its clock).
func Verify(secret []byte, timestamp string, body []byte, sig string) bool {
	return hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(sig))
}

func webhookRequest(m Message, secret []byte, now time.Time) (Request, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return Request{}, fmt.Errorf("encode the message: %w", err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(HeaderKind, string(m.Kind))
	h.Set(HeaderID, m.ID)
	ts := strconv.FormatInt(now.Unix(), 10)
	h.Set(HeaderTimestamp, ts)
	if len(secret) > 0 {
		h.Set(HeaderSignature, Sign(secret, ts, body))
	}
	return Request{Header: h, Body: body}, nil
}

// field is one line of a message in words: a name and its value.
type field struct{ Name, Value string }

// fields are what a message says beyond its title and text, as lines.
func fields(m Message) []field {
	var out []field
	if m.Source != nil {
		out = append(out, field{"Source", firstOf(m.Source.Name, m.Source.ID)})
	}
	if p := m.Person; p != nil {
		who := p.Name
		if p.Email != "" {
			who = strings.TrimSpace(who + " <" + p.Email + ">")
		}
		if p.ID != 0 {
			who = strings.TrimSpace(who + " (person " + strconv.FormatInt(p.ID, 10) + ")")
		}
		out = append(out, field{"Person", who})
	}
	if m.ReasonWords != "" {
		out = append(out, field{"Reason", m.ReasonWords})
	}
	if m.State != "" {
		out = append(out, field{"Check", m.Check + ": " + m.State})
	}
	if m.Detail != "" {
		out = append(out, field{"Detail", m.Detail})
	}
	return out
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ntfyTags are the tags (emoji names) ntfy shows beside each kind's title.
var ntfyTags = map[Kind]string{FirstSignIn: "wave", Refusal: "no_entry", AccessRemoved: "warning", HealthChanged: "stethoscope",
	AdminWays: "lock", Test: "test_tube"}

func ntfyRequest(m Message, secret []byte) Request {
	var b strings.Builder
	b.WriteString(m.Text)
	for _, f := range fields(m) {
		fmt.Fprintf(&b, "\n%s: %s", f.Name, f.Value)
	}
	h := http.Header{}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Title", mime.QEncoding.Encode("utf-8", m.Title)) // ntfy decodes RFC 2047 (a header is ASCII)
	h.Set("Tags", ntfyTags[m.Kind])
	priority := "default"
	if m.Kind == AdminWays || (m.Kind == HealthChanged && m.State != "valid") {
		priority = "high"
	}
	h.Set("Priority", priority)
	if m.Link != "" {
		h.Set("Click", m.Link)
	}
	if len(secret) > 0 {
		h.Set("Authorization", "Bearer "+string(secret))
	}
	return Request{Header: h, Body: []byte(b.String())}
}

// discordColors are the embed's colour of each kind (RGB as an integer).
var discordColors = map[Kind]int{FirstSignIn: 0x2e7d32, Refusal: 0xc62828, AccessRemoved: 0xef6c00, HealthChanged: 0x1565c0,
	AdminWays: 0x6a1b9a, Test: 0x616161}

// Discord's limits on a webhook's message.
const (
	discordContent    = 2000
	discordTitle      = 256
	discordText       = 4096
	discordFieldName  = 256
	discordFieldValue = 1024
)

type discordMessage struct {
	Content string         `json:"content"`
	Embeds  []discordEmbed `json:"embeds"`
	// AllowedMentions set to parse nothing keeps a name such as "@everyone" from pinging.
	AllowedMentions struct {
		Parse []string `json:"parse"`
	} `json:"allowed_mentions"`
}

type discordEmbed struct {
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	URL         string         `json:"url,omitempty"`
	Timestamp   string         `json:"timestamp"`
	Color       int            `json:"color"`
	Fields      []discordField `json:"fields,omitempty"`
}

type discordField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline"`
}

func discordRequest(m Message) (Request, error) {
	d := discordMessage{Content: cut(m.Title, discordContent)}
	d.AllowedMentions.Parse = []string{}
	e := discordEmbed{Title: cut(m.Title, discordTitle), Description: cut(m.Text, discordText), URL: m.Link,
		Timestamp: m.At.UTC().Format(time.RFC3339), Color: discordColors[m.Kind]}
	for _, f := range fields(m) {
		e.Fields = append(e.Fields, discordField{Name: cut(f.Name, discordFieldName), Value: cut(f.Value, discordFieldValue), Inline: f.Name != "Detail"})
	}
	d.Embeds = []discordEmbed{e}
	body, err := json.Marshal(d)
	if err != nil {
		return Request{}, fmt.Errorf("encode the message: %w", err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return Request{Header: h, Body: body}, nil
}

// cut is s in at most n characters (runes), with an ellipsis when it was longer.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
