package pipeline

import (
	"os"
	"syscall"
)

// Crash points: the steps of a night between which the crash tests kill a
// real run (CREDITRUN_CRASHPOINT=NAME makes the process SIGKILL itself
// there). The tests iterate over CrashPoints and require death by SIGKILL
// at each, so a point that is renamed or no longer reached fails them.
const (
	CrashOutputs   = "outputs"   // every table written, before the day's last files
	CrashFilled    = "filled"    // the night's directory complete but for _SUCCESS
	CrashSynced    = "synced"    // _SUCCESS written and everything durable, not yet in place
	CrashAside     = "aside"     // without atomic exchange: the earlier publication moved aside
	CrashRenamed   = "renamed"   // the new night in place, the earlier one not yet removed
	CrashPublished = "published" // done
)

// CrashPoints lists every crash point in the order a night reaches them.
// CrashAside is reached only on a filesystem without atomic exchange, or
// with CREDITRUN_PUBLISH_NO_EXCHANGE=1, and only when re-running a date.
var CrashPoints = []string{CrashOutputs, CrashFilled, CrashSynced, CrashAside, CrashRenamed, CrashPublished}

var (
	crashAt    = os.Getenv("CREDITRUN_CRASHPOINT")
	noExchange = os.Getenv("CREDITRUN_PUBLISH_NO_EXCHANGE") == "1"
)

func crashpoint(name string) {
	if crashAt == name {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
}
