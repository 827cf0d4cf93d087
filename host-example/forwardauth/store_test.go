package forwardauth

import "github.com/plexlogin/plexlogin/host-example/store"

// The host's store is forward-auth's Store.
var _ Store = (*store.Store)(nil)
