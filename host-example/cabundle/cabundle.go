// Package cabundle is the CA bundle of the container image: the root certificates pinned in
// the module graph (golang.org/x/crypto/x509roots/fallback, Mozilla's NSS store at the
// version go.sum names) as one PEM file, so the image's roots do not depend on the machine
// that builds it.
package cabundle

import (
	"bytes"
	"encoding/pem"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// Path is where the image holds the bundle: the first file Go's crypto/x509 reads for the
// system roots on Linux, so the host and the plugin (whose plex.tv client uses the system
// roots) both trust it without a variable.
const Path = "/etc/ssl/certs/ca-certificates.crt"

// PEM is the bundle: every unconstrained root, in the order of the pinned store. A root the
// store trusts only with a constraint a PEM file cannot carry (a distrust-after date) is
// left out: trusting it without the constraint would trust more than NSS does.
func PEM() []byte {
	var b bytes.Buffer
	for r := range bundle.Roots() {
		if r.Constraint != nil {
			continue
		}
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: r.Certificate}) // a bytes.Buffer does not fail
	}
	return b.Bytes()
}
