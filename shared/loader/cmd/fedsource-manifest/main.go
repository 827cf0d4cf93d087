// Command fedsource-manifest writes a plugin manifest with the sha256 of each built
// executable and the capabilities the plugin's Describe lists.
//
//	fedsource-manifest -in plugin.json -dir bin
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/plexlogin/plexlogin/shared/loader"
)

func main() {
	in := flag.String("in", "plugin.json", "the manifest without checksums")
	dir := flag.String("dir", "bin", "the folder holding the executables; the signed manifest is written there")
	flag.Parse()
	b, err := os.ReadFile(*in)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var m loader.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", *in, err)
		os.Exit(1)
	}
	path, err := loader.Sign(&m, *dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(path)
}
