//go:build !amd64 || purego

package machine

const haveClockLoop = false

func clockLoop(int) {}
