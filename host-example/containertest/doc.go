// Package containertest holds the system tests of host-example's container image
// (scripts/image): what the image holds, and the image run by podman, read-only, with the
// simulated plex.tv outside and a person signing in through its pages.
package containertest
