package openid_test

import (
	"github.com/plexlogin/plexlogin/host-example/openid"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// The host's store is the provider's Store.
var _ openid.Store = (*store.Store)(nil)
