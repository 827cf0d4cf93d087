package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

// envFlags binds each flag of a FlagSet to an environment variable: the variable sets the
// default, the command line wins. Usage lists both.
type envFlags struct {
	fs  *flag.FlagSet
	env map[string]string // flag name → variable
}

// newEnvFlags returns the binder of fs; usage is printed above the flags by -h.
func newEnvFlags(fs *flag.FlagSet, usage string) *envFlags {
	e := &envFlags{fs: fs, env: map[string]string{}}
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "%s\nFlags (each also set by the environment variable shown; the flag wins):\n", usage)
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		sort.Strings(names)
		for _, n := range names {
			f := fs.Lookup(n)
			fmt.Fprintf(out, "  -%s  (%s)\n    \t%s", n, e.env[n], f.Usage)
			if f.DefValue != "" && f.DefValue != "false" {
				fmt.Fprintf(out, " (default %q)", f.DefValue)
			}
			fmt.Fprintln(out)
		}
		fmt.Fprintf(out, "\nSecrets come only from the environment, or from a file named by the variable with _FILE:\n")
		for _, s := range secretVars {
			fmt.Fprintf(out, "  %s, %s_FILE\n", s, s)
		}
	}
	return e
}

// bind names the variable of a flag.
func (e *envFlags) bind(flagName, variable string) { e.env[flagName] = variable }

// parse applies the variables that are set, then the command line.
func (e *envFlags) parse(args []string) error {
	for name, v := range e.env {
		val, ok := os.LookupEnv(v)
		if !ok || val == "" {
			continue
		}
		if err := e.fs.Set(name, val); err != nil {
			return fmt.Errorf("%s: %w", v, err)
		}
	}
	for name := range e.env {
		if e.fs.Lookup(name) == nil {
			return fmt.Errorf("no flag -%s to bind", name)
		}
	}
	var unbound []string
	e.fs.VisitAll(func(f *flag.Flag) {
		if e.env[f.Name] == "" {
			unbound = append(unbound, f.Name)
		}
	})
	if len(unbound) > 0 {
		return fmt.Errorf("flags without an environment variable: %s", strings.Join(unbound, ", "))
	}
	return parseFlags(e.fs, args)
}

// secretVars are the secrets the host reads from its environment.
var secretVars = []string{"HOST_ADMIN_PASSWORD"}

// secret is a secret's value: the variable, else the content of the file named by
// variable_FILE without its trailing newline; "" when neither is set.
func secret(variable string) (string, error) {
	if v := os.Getenv(variable); v != "" {
		return v, nil
	}
	path := os.Getenv(variable + "_FILE")
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s_FILE: %w", variable, err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}
