// Command stamp prints buildinfo.Get, for TestStampedByLdflags.
package main

import (
	"fmt"

	"github.com/plexlogin/plexlogin/host-example/buildinfo"
)

func main() { fmt.Print(buildinfo.Get()) }
