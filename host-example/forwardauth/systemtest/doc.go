// Package systemtest tests forward-auth as a whole: through the host's handler with a real
// store, and end to end with a real nginx, the real plugin process and Chromium. It is apart
// from package forwardauth so that fuzzing the rule matcher runs in a small binary.
package systemtest
