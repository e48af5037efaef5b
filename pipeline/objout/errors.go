package objout

import "errors"

var (
	// ErrNotPublished is a partition with no commit pointer.
	ErrNotPublished = errors.New("not published")
	// ErrConcurrent is a commit that lost the race for its pointer's
	// number to another writer of the same partition: that writer's
	// publication stands; running again commits the next number.
	ErrConcurrent = errors.New("another run committed the partition first")
	// ErrCorrupt is a pointer, manifest or object that does not match
	// what names it: another size or SHA-256, or not the format written.
	ErrCorrupt = errors.New("does not match its commit")
)
