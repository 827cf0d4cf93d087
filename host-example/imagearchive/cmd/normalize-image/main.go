// Command normalize-image rewrites a docker-archive so that it depends on its source only
// (package imagearchive) and prints the image ID.
//
//	normalize-image -in built.tar -out image.tar
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/plexlogin/plexlogin/host-example/imagearchive"
)

func main() {
	in := flag.String("in", "", "the archive podman save wrote")
	out := flag.String("out", "", "the archive to write")
	flag.Parse()
	if *in == "" || *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: normalize-image -in FILE -out FILE")
		os.Exit(2)
	}
	id, err := imagearchive.Normalize(*in, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "normalize-image:", err)
		os.Exit(1)
	}
	fmt.Println(id)
}
