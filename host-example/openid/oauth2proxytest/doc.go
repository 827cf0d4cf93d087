// Package oauth2proxytest tests the oauth2-proxy recipe of docs/oidc.md end to end: a real
// oauth2-proxy (scripts/oauth2-proxy installs it; OAUTH2_PROXY names it) signs people in
// through host-example's OpenID Connect provider, with the real plugin process, its simulated
// upstream and Chromium. The package has only this test, so its binary stays small.
package oauth2proxytest
