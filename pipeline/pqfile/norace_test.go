//go:build !race

package pqfile_test

const raceEnabled = false
