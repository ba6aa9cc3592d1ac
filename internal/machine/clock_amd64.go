//go:build amd64 && !purego

package machine

const haveClockLoop = true

// clockLoop runs n iterations of 8 dependent ADDQs (clock_amd64.s).
//
//go:noescape
func clockLoop(n int)
