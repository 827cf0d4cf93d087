package forwardauth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/plexlogin/plexlogin/host-example/settings"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// RuleStore is what the rules' admin needs of the host's store (*store.Store is one).
type RuleStore interface {
	// ForwardRules lists the rules.
	ForwardRules(ctx context.Context) ([]store.ForwardRule, error)
	// PutForwardRule creates (empty ID) or replaces a rule and answers its id
	// (store.ErrDuplicateRule: another rule has its host and path).
	PutForwardRule(ctx context.Context, r store.ForwardRule) (string, error)
	// DeleteForwardRule removes a rule.
	DeleteForwardRule(ctx context.Context, id string) error
	// AddEvent records an event.
	AddEvent(ctx context.Context, e store.Event) error
}

// RuleAdmin is the admin's side of the rules: list, read, save and delete them, with the
// rule and hand-over checks and the events. The service sees a change as every store write
// of rules announces it (store.ForwardRules).
type RuleAdmin struct {
	st    RuleStore
	kinds Kinds
	// siteHost is this site's own host, which never receives a hand-over.
	siteHost string
}

// NewRuleAdmin returns the rules' admin over st; kinds are the credential kinds a rule may
// hand over (nil: none), siteHost the public URL's host.
func NewRuleAdmin(st RuleStore, kinds Kinds, siteHost string) *RuleAdmin {
	if kinds == nil {
		kinds = noKinds{}
	}
	return &RuleAdmin{st: st, kinds: kinds, siteHost: siteHost}
}

// RuleInput is what the admin typed for a rule.
type RuleInput struct {
	Name, Host, PathPrefix string
	// Groups and Bypass are texts of one entry a line.
	Groups, Bypass    string
	BypassOptions     bool
	AllowEncodedSlash bool
	// Handover is the credential kind handed to the app ("": none).
	Handover string
}

// InvalidRule is the error of a rule the checks refused: the rule as typed (normalised
// where it could be) and every problem in words.
type InvalidRule struct {
	Rule     *store.ForwardRule
	Problems []string
}

func (e *InvalidRule) Error() string {
	return "rule " + e.Rule.Host + e.Rule.PathPrefix + " refused: " + strings.Join(e.Problems, "; ")
}

// List is every rule.
func (a *RuleAdmin) List(ctx context.Context) ([]store.ForwardRule, error) {
	rules, err := a.st.ForwardRules(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the rules: %w", err)
	}
	return rules, nil
}

// Get is the rule of id (store.ErrNotFound: none).
func (a *RuleAdmin) Get(ctx context.Context, id string) (*store.ForwardRule, error) {
	rules, err := a.List(ctx)
	if err != nil {
		return nil, err
	}
	for i := range rules {
		if rules[i].ID == id {
			return &rules[i], nil
		}
	}
	return nil, fmt.Errorf("rule %s: %w", id, store.ErrNotFound)
}

// Save creates (id "") or changes the rule of id and records the event
// admin_forward_rule_saved; a rule the checks refuse (CheckRule, its hand-over, CheckHandover,
// another rule of its host and path) is an *InvalidRule.
func (a *RuleAdmin) Save(ctx context.Context, id string, in RuleInput) (*store.ForwardRule, error) {
	rule := &store.ForwardRule{}
	if id != "" {
		var err error
		if rule, err = a.Get(ctx, id); err != nil {
			return nil, err
		}
	}
	rule.Name, rule.Host, rule.PathPrefix = in.Name, in.Host, in.PathPrefix
	rule.Groups, rule.Bypass = settings.Lines(in.Groups), settings.Lines(in.Bypass)
	rule.BypassOptions, rule.AllowEncodedSlash, rule.Handover = in.BypassOptions, in.AllowEncodedSlash, in.Handover
	problems := CheckRule(rule)
	if rule.Handover != "" {
		if _, ok := a.kinds.CredentialKind(rule.Handover); !ok {
			problems = append(problems, "Sign-in hand-over: no login method offers "+rule.Handover+".")
		}
	}
	if len(problems) == 0 {
		all, err := a.List(ctx)
		if err != nil {
			return nil, err
		}
		problems = CheckHandover(rule, all, a.siteHost)
	}
	if len(problems) > 0 {
		return nil, &InvalidRule{Rule: rule, Problems: problems}
	}
	saved, err := a.st.PutForwardRule(ctx, *rule)
	switch {
	case errors.Is(err, store.ErrDuplicateRule):
		return nil, &InvalidRule{Rule: rule, Problems: []string{"Host and path: another rule already protects " + rule.Host + rule.PathPrefix + "; edit that one."}}
	case err != nil:
		return nil, fmt.Errorf("save rule %s%s: %w", rule.Host, rule.PathPrefix, err)
	}
	_ = a.st.AddEvent(ctx, store.Event{Kind: store.EventAdminForwardRuleSaved, Detail: "rule " + saved + " " + rule.Host + rule.PathPrefix})
	rule.ID = saved
	return rule, nil
}

// Delete removes the rule of id (store.ErrNotFound: none) and records the event
// admin_forward_rule_deleted; it answers the rule deleted.
func (a *RuleAdmin) Delete(ctx context.Context, id string) (*store.ForwardRule, error) {
	rule, err := a.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := a.st.DeleteForwardRule(ctx, rule.ID); err != nil {
		return nil, fmt.Errorf("delete rule %s: %w", rule.ID, err)
	}
	_ = a.st.AddEvent(ctx, store.Event{Kind: store.EventAdminForwardRuleDeleted, Detail: "rule " + rule.ID + " " + rule.Host + rule.PathPrefix})
	return rule, nil
}
