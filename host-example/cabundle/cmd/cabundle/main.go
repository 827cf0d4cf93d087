// Command cabundle writes the container image's CA bundle (package cabundle) to -o.
//
//	cabundle -o build/ca-certificates.crt
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/plexlogin/plexlogin/host-example/cabundle"
)

func main() {
	out := flag.String("o", "ca-certificates.crt", "the file to write")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: cabundle [-o file]")
		os.Exit(2)
	}
	if err := os.WriteFile(*out, cabundle.PEM(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "cabundle:", err)
		os.Exit(1)
	}
}
