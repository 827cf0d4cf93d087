// Command firstanswer measures how long a server takes from exec to its first HTTP answer
// (any status, or with -ok the first 2xx): it starts the command n times, polls url every millisecond, stops the
// server after the first answer and prints the minimum, median and maximum.
//
//	firstanswer -url http://127.0.0.1:8080/healthz -n 20 -- ./host-example -data /tmp/d
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"time"
)

func main() {
	target := flag.String("url", "", "the URL to poll")
	n := flag.Int("n", 20, "runs")
	limit := flag.Duration("timeout", 30*time.Second, "longest wait for an answer")
	ok := flag.Bool("ok", false, "count only a 2xx answer (ready), not any answer")
	flag.Parse()
	if *target == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: firstanswer -url URL [-n N] -- command [args]")
		os.Exit(2)
	}
	var runs []time.Duration
	client := &http.Client{Timeout: 100 * time.Millisecond}
	for i := 0; i < *n; i++ {
		d, err := once(client, *target, *limit, *ok, flag.Args())
		if err != nil {
			fmt.Fprintln(os.Stderr, "firstanswer:", err)
			os.Exit(1)
		}
		runs = append(runs, d)
	}
	slices.Sort(runs)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Printf("first answer after exec, %d runs: min %.1f ms, median %.1f ms, max %.1f ms\n",
		len(runs), ms(runs[0]), ms(runs[len(runs)/2]), ms(runs[len(runs)-1]))
}

// once starts the command, waits for its first answer and stops it.
func once(client *http.Client, target string, limit time.Duration, okOnly bool, argv []string) (time.Duration, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", argv[0], err)
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	for time.Since(start) < limit {
		if resp, err := client.Get(target); err == nil {
			resp.Body.Close()
			if !okOnly || resp.StatusCode/100 == 2 {
				return time.Since(start), nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return 0, fmt.Errorf("no answer from %s within %s", target, limit)
}
