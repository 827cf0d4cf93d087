package openid

import (
	"net/http"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Offered is what this provider serves and its discovery document advertises: the code
// flow (with refresh), no implicit or hybrid response types, no JWT or device grants.
var (
	OfferedResponseTypes = []string{string(oidc.ResponseTypeCode)}
	OfferedGrantTypes    = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
	OfferedResponseModes = []string{string(oidc.ResponseModeQuery), string(oidc.ResponseModeFormPost)}
)

// discovery serves the library's discovery document, corrected to what is served: the
// library hard-codes implicit grants, id_token response types and a device endpoint.
func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	ctx := op.ContextWithIssuer(r.Context(), strings.TrimRight(p.opts.Issuer.String(), "/"))
	d := op.CreateDiscoveryConfig(ctx, p.op, p.storage)
	d.ResponseTypesSupported = OfferedResponseTypes
	d.GrantTypesSupported = OfferedGrantTypes
	d.ResponseModesSupported = OfferedResponseModes
	d.DeviceAuthorizationEndpoint = ""
	d.RequestParameterSupported = false
	d.RequestURIParameterSupported = false
	op.Discover(w, d)
}
