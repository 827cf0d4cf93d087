package openid

import "context"

// The library's Storage.SigningKey gets no client, yet a client may have an algorithm of its
// own (id_token_signed_response_alg). So a token request carries a slot in its context
// (withSigningSlot, put there by the token endpoint), and the storage fills it with the client
// of the grant the library hands it to exchange: a code's authorization request
// (AuthRequestByCode) or a refresh token (TokenRequestByRefreshToken). The library signs only
// after it matched that grant's client with the authenticated one, so the slot names the
// client the id_token is for. No slot or an empty one: the default algorithm.

// signingKeyFor keys a token request's *signingSlot in its context.
type signingKeyFor struct{}

// signingSlot is the client a token request signs for ("": none known yet).
type signingSlot struct{ clientID string }

// withSigningSlot is ctx with an empty slot.
func withSigningSlot(ctx context.Context) context.Context {
	return context.WithValue(ctx, signingKeyFor{}, &signingSlot{})
}

// signFor names clientID as the client the token request of ctx signs for.
func signFor(ctx context.Context, clientID string) {
	if slot, ok := ctx.Value(signingKeyFor{}).(*signingSlot); ok {
		slot.clientID = clientID
	}
}

// signingClient is the client the token request of ctx signs for ("": the default's).
func signingClient(ctx context.Context) string {
	if slot, ok := ctx.Value(signingKeyFor{}).(*signingSlot); ok {
		return slot.clientID
	}
	return ""
}
