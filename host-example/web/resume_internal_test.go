package web

import "testing"

func TestResumeTargetOnlyAdminPaths(t *testing.T) {
	for raw, want := range map[string]string{
		"/admin/sources/ab12":          "/admin/sources/ab12",
		"/admin/users/3/disabled":      "/admin/users/3/disabled",
		"/admin/login":                 "",
		"/logout":                      "",
		"https://evil.example/admin/x": "",
		"//evil.example/admin/x":       "",
		"/admin/../logout":             "",
		"/admin//x":                    "",
		"/admin/x?next=y":              "",
		"/admin/x\\y":                  "",
		"javascript:alert(1)":          "",
		"":                             "",
	} {
		if got := resumeTarget(raw); got != want {
			t.Errorf("resumeTarget(%q) = %q, want %q", raw, got, want)
		}
	}
	for name, secret := range map[string]bool{"f.owner_token": true, "f.additional_owner_tokens": true, "f.password_login": false,
		"f.mappings": false, "client_secret": true, "f.profile_pin": true, "name": false} {
		if secretLike(name) != secret {
			t.Errorf("secretLike(%q) = %v", name, !secret)
		}
	}
}
