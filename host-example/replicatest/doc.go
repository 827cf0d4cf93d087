// Package replicatest proves host-example's replicas with real processes: three
// `host-example serve` processes (each with its own plugin process) on one PostgreSQL, behind
// a real nginx upstream (round-robin, no stickiness), driven by Chromium and HTTP clients.
// Everything is in its tests; the package itself exports nothing.
package replicatest
