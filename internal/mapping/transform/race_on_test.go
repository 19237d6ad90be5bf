//go:build race

package transform_test

// raceEnabled tells timing tests that the race detector slows everything.
const raceEnabled = true
