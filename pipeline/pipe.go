package pipeline

import (
	"fmt"
	"io"
	"sync"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/state"
	"github.com/creditrun/creditrun/scoring"
)

// bookWriter receives a day's new book, bucket by bucket in account
// order: the published state (a *state.Writer), the next date of a
// backfill (a *pipe), both, or nothing at all.
type bookWriter interface {
	Write(accounts []billing.Account) error
	Close() error
	Abort()
	// Finish completes the book once its tables are closed.
	Finish(info state.Info, dist *scoring.Distribution) error
}

// noBook is the book of a day whose state is not kept and whose book no
// later date reads.
type noBook struct{}

func (noBook) Write([]billing.Account) error                  { return nil }
func (noBook) Close() error                                   { return nil }
func (noBook) Abort()                                         {}
func (noBook) Finish(state.Info, *scoring.Distribution) error { return nil }

// A pipe hands a backfill's book from one date to the next while both
// run: the next date reads each bucket of accounts as the date before
// writes it, so the book between two dates is never stored, whether or
// not the first publishes its state. A bucket is sent as a shallow copy:
// the writer gives up the accounts' rows once it has sent them (the state
// is written before, tee), and the reader owns them from then on.
type pipe struct {
	e   *engine
	day billing.Date // the date writing
	ch  chan []billing.Account
	// dead is closed when the writer stops without writing the whole
	// book; gone when the reader stops reading (it failed, or it will
	// never run), from when on the writer's buckets are dropped.
	dead, gone chan struct{}
	mu         sync.Mutex
	ended      bool // Close or Abort was called
	goneOnce   sync.Once
}

// pipeDepth is how many buckets a pipe holds: one, so that the dates in
// flight keep in step and memory stays set by the bucket size.
const pipeDepth = 1

func newPipe(e *engine, day billing.Date) *pipe {
	return &pipe{e: e, day: day, ch: make(chan []billing.Account, pipeDepth), dead: make(chan struct{}), gone: make(chan struct{})}
}

// Write sends a copy of accounts (the caller's array is recycled once
// written) to the reader; it returns at once when the reader is gone.
func (p *pipe) Write(accounts []billing.Account) error {
	buf := p.e.accountBuf()
	if cap(buf) < len(accounts) {
		buf = make([]billing.Account, len(accounts))
	}
	buf = buf[:copy(buf[:len(accounts)], accounts)]
	select {
	case p.ch <- buf:
	case <-p.gone:
	}
	return nil
}

// Close ends the book: the reader reads to the end and then io.EOF.
func (p *pipe) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.ended {
		p.ended = true
		close(p.ch)
	}
	return nil
}

// Abort ends the book short: the reader fails. After Close it does
// nothing, the book being whole.
func (p *pipe) Abort() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.ended {
		p.ended = true
		close(p.dead)
	}
}

func (p *pipe) Finish(state.Info, *scoring.Distribution) error { return nil }

// stop says the reader reads no more: the writer's buckets are dropped.
func (p *pipe) stop() { p.goneOnce.Do(func() { close(p.gone) }) }

// pipeStream is the reading end of a pipe, an accountStream.
type pipeStream struct {
	p    *pipe
	held []billing.Account // the bucket received, handed back once read
	cur  []billing.Account // what of it is still to read
}

func (s *pipeStream) Read(buf []billing.Account) (int, error) {
	for len(s.cur) == 0 {
		if s.held != nil {
			full := s.held[:cap(s.held)]
			s.p.e.bufs.Put(&full)
			s.held = nil
		}
		select {
		case b, ok := <-s.p.ch:
			if !ok {
				return 0, io.EOF
			}
			s.held, s.cur = b, b
		case <-s.p.dead:
			return 0, fmt.Errorf("the book as of %s was not written to its end: that date failed", s.p.day)
		}
	}
	n := copy(buf, s.cur)
	s.cur = s.cur[n:]
	return n, nil
}

// teeBook writes a date's book to its published state and then hands it
// to the next date: the state encodes the accounts before the next date
// may change them.
type teeBook struct {
	state bookWriter
	next  *pipe
}

func (t teeBook) Write(accounts []billing.Account) error {
	if err := t.state.Write(accounts); err != nil {
		return err
	}
	return t.next.Write(accounts)
}

func (t teeBook) Close() error {
	if err := t.state.Close(); err != nil {
		t.next.Abort()
		return err
	}
	return t.next.Close()
}

func (t teeBook) Abort() {
	t.state.Abort()
	t.next.Abort()
}

func (t teeBook) Finish(info state.Info, dist *scoring.Distribution) error {
	return t.state.Finish(info, dist)
}
