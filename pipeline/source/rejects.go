package source

import (
	"cmp"
	"slices"
	"sync"
)

// RejectWriter takes the rows a reader refuses as it finds them, a batch
// at a time, so that a file of a million bad rows costs the reader a batch,
// not a million rejects. Calls come from one goroutine at a time, in no
// particular order of file or row: the writer orders them if it needs to.
// The batch is the reader's again once WriteRejects returns. An error stops
// the read, which returns it.
type RejectWriter interface {
	WriteRejects(rs []Reject) error
}

// rejectBatch is how many rejects a reader gathers before handing them on.
const rejectBatch = 1024

// rejectAt is a reject with the position of its file in the reader's list.
type rejectAt struct {
	pos int
	Reject
}

// rejectSink is where a read's rejects go: its RejectWriter, one call at
// a time, or, without one, a slice the read returns.
type rejectSink struct {
	mu   sync.Mutex
	w    RejectWriter // nil: keep them
	kept []rejectAt
	buf  []Reject
}

// write hands rs on; rs is the caller's again when it returns.
func (s *rejectSink) write(rs []rejectAt) error {
	if len(rs) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w == nil {
		s.kept = append(s.kept, rs...)
		return nil
	}
	s.buf = s.buf[:0]
	for i := range rs {
		s.buf = append(s.buf, rs[i].Reject)
	}
	err := s.w.WriteRejects(s.buf)
	clear(s.buf) // the strings are the writer's now
	return err
}

// sorted returns the rejects kept, in file then row order; nil when there
// are none.
func (s *rejectSink) sorted() []Reject {
	if len(s.kept) == 0 {
		return nil
	}
	slices.SortStableFunc(s.kept, func(a, b rejectAt) int {
		return cmp.Or(cmp.Compare(a.pos, b.pos), cmp.Compare(a.Row, b.Row))
	})
	out := make([]Reject, len(s.kept))
	for i := range s.kept {
		out[i] = s.kept[i].Reject
	}
	return out
}
