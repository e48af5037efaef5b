package pipeline

import (
	"fmt"
	"runtime/debug"
)

// guard runs fn and turns a panic into an error naming the task, so that
// no panic reaches the user: a run that hits a bug fails cleanly (exit 1,
// nothing published) with the stack at debug level in the error's text.
func guard(task string, fn func() error) func() error {
	return func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%w in %s: %v\n%s", ErrInternal, task, r, debug.Stack())
			}
		}()
		return fn()
	}
}
