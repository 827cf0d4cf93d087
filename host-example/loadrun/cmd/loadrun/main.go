// Command loadrun runs a bounded load or fault run of full logins on loopback.
//
//	loadrun -plugins bin -logins 1000 -concurrency 1000 -latency 100ms
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/plexlogin/plexlogin/host-example/loadrun"
)

func main() {
	o := loadrun.Options{}
	flag.StringVar(&o.PluginDir, "plugins", "bin", "folder with the signed plugin manifest")
	flag.IntVar(&o.Logins, "logins", 200, "logins in all")
	flag.IntVar(&o.Concurrency, "concurrency", 50, "logins at once")
	flag.DurationVar(&o.Latency, "latency", 100*time.Millisecond, "latency added to every plex.tv answer")
	flag.DurationVar(&o.MaxDuration, "max", 120*time.Second, "stop after this long")
	flag.BoolVar(&o.Faults, "faults", false, "inject plex.tv faults and kill the plugin at random")
	flag.StringVar(&o.Database, "database", "", "postgres://… of an empty database for the host (default: SQLite in a temporary folder)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the host, simulator and generator here")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	rep, err := loadrun.Run(context.Background(), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadrun:", err)
		os.Exit(1)
	}
	fmt.Print(rep)
	if rep.WrongAdmits > 0 || rep.DuplicateUsers > 0 || rep.UntypedErrors > 0 {
		pprof.StopCPUProfile()
		os.Exit(2)
	}
}
