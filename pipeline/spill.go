package pipeline

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"unsafe"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/state"
	"github.com/creditrun/creditrun/scoring"
)

// A spill is the book as of a day a backfill does not publish the state
// of, kept for the next day under OUT/_work/, where no reader looks: one
// file of frames, one frame a bucket. The process that writes a spill is
// the only one that reads it, so its encoding is private: varints, in the
// order of billing.Account's fields, nothing fsynced (a crash leaves it to
// the next run's cleanup, like any night being written).
//
// A backfill's windows spill into two files in turn, each written over
// the book it held two windows before (read by then), and cut to its new
// length when closed: the file's pages stay in the page cache from one
// use to the next instead of being freed and found again for a new file
// every window, which a virtual machine's host may have to back anew
// (bench/results/2026-12-02-pagecache.txt).
//
// A frame is its header, uvarints: the number of accounts, the number of
// each kind of child row (spillKinds of them, so that the reader
// allocates each kind once a frame) and the payload's length; then the
// payload.

// spillWriter writes a spill.
type spillWriter struct {
	path   string
	f      *os.File
	w      *bufio.Writer
	enc    spillEncoder
	header []byte
	n      int
	size   int64 // the bytes written
}

// createSpill opens the spill at path for a new book, written from its
// start over whatever book it held, which Close cuts off.
func createSpill(path string) (*spillWriter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644) // not truncated: its pages are reused
	if err != nil {
		return nil, err
	}
	return &spillWriter{path: path, f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

func (s *spillWriter) Write(accounts []billing.Account) error {
	e := &s.enc
	e.frame(accounts)
	h := binary.AppendUvarint(s.header[:0], uint64(len(accounts)))
	for _, k := range e.kinds {
		h = binary.AppendUvarint(h, uint64(k))
	}
	s.header = binary.AppendUvarint(h, uint64(len(e.b)))
	if _, err := s.w.Write(s.header); err != nil {
		return fmt.Errorf("spill %s: %w", s.path, err)
	}
	if _, err := s.w.Write(e.b); err != nil {
		return fmt.Errorf("spill %s: %w", s.path, err)
	}
	s.n += len(accounts)
	s.size += int64(len(s.header) + len(e.b))
	return nil
}

// Close ends the book: what an earlier, longer book left past its end is
// cut off.
func (s *spillWriter) Close() error {
	err := s.w.Flush()
	if err == nil {
		err = s.f.Truncate(s.size)
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("spill %s: %w", s.path, err)
	}
	return nil
}

func (s *spillWriter) Abort() {
	s.f.Close()
	os.Remove(s.path)
}

func (s *spillWriter) Finish(state.Info, *scoring.Distribution) error { return nil }

// spillReader reads a spill back, in the book's order (an accountStream).
type spillReader struct {
	path    string
	f       *os.File
	r       *bufio.Reader
	payload []byte
	dec     spillDecoder
	left    int // accounts of the current frame not read yet
}

func openSpill(path string) (*spillReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &spillReader{path: path, f: f, r: bufio.NewReaderSize(f, 1<<20)}, nil
}

func (s *spillReader) Read(buf []billing.Account) (int, error) {
	if s.left == 0 {
		if err := s.frame(); err != nil {
			return 0, err
		}
	}
	n := min(len(buf), s.left)
	for i := range buf[:n] {
		s.dec.account(&buf[i])
	}
	if s.dec.err != nil {
		return 0, fmt.Errorf("%w: spill %s: %w", ErrInternal, s.path, s.dec.err)
	}
	s.left -= n
	return n, nil
}

// frame loads the next frame; io.EOF at the end of the spill.
func (s *spillReader) frame() error {
	n, err := binary.ReadUvarint(s.r)
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	var kinds [spillKinds]uint64
	for i := range kinds {
		if err == nil {
			kinds[i], err = binary.ReadUvarint(s.r)
		}
	}
	var size uint64
	if err == nil {
		size, err = binary.ReadUvarint(s.r)
	}
	if err == nil && size > 1<<40 {
		err = errors.New("frame too large")
	}
	if err == nil {
		if uint64(cap(s.payload)) < size {
			s.payload = make([]byte, size)
		}
		s.payload = s.payload[:size]
		_, err = io.ReadFull(s.r, s.payload)
	}
	if err != nil {
		return fmt.Errorf("%w: spill %s: %w", ErrInternal, s.path, err)
	}
	s.dec.reset(s.payload, kinds)
	s.left = int(n)
	return nil
}

// Close closes the spill. The file stays for the spill two windows on to
// write over; the backfill removes it when it ends.
func (s *spillReader) Close() {
	s.f.Close()
}

// spillEncoder appends accounts to b, counting their child rows by kind.
type spillEncoder struct {
	b     []byte
	kinds [spillKinds]int
}

// frame encodes accounts as one frame's payload, in e.b, counting their
// child rows in e.kinds.
func (e *spillEncoder) frame(accounts []billing.Account) {
	b := e.b[:0]
	e.kinds = [spillKinds]int{}
	for i := range accounts {
		b = e.account(b, &accounts[i])
	}
	e.b = b
}

// The encoder's helpers append to a slice held in a local variable, not
// in the encoder: a slice stored back into a heap object on every value
// would pay a write barrier for each one while the collector runs.

func putInt(b []byte, v int64) []byte { return binary.AppendVarint(b, v) }

func putStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func putBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func putComponents(b []byte, c *billing.Components) []byte {
	for _, m := range c {
		b = putInt(b, int64(m))
	}
	return b
}

func (e *spillEncoder) count(b []byte, kind, n int) []byte {
	e.kinds[kind] += n
	return binary.AppendUvarint(b, uint64(n))
}

// The kinds of child rows, in the order account writes them.
const (
	kindStatements = iota
	kindPending
	kindPlans
	kindPurchases
	kindHistory
	kindSeen
	kindLateAccruals
	kindFailures
	kindAccruals
	spillKinds
)

// account encodes every field of a, in declaration order.
func (e *spillEncoder) account(b []byte, a *billing.Account) []byte {
	b = putInt(b, a.ID)
	b = putStr(b, a.CustomerID)
	b = putInt(b, int64(a.OpenedOn))
	b = putStr(b, string(a.Status))
	b = putInt(b, int64(a.ActivatedOn))
	b = putInt(b, int64(a.Limit))
	b = putInt(b, int64(a.BillingDay))
	b = putInt(b, int64(a.ExternalScore))
	b = putBool(b, a.HasExternalScore)
	b = putBool(b, a.Fraud)
	b = putInt(b, int64(a.Credit))
	b = putInt(b, int64(a.LastStatement))
	b = putInt(b, int64(a.LastBalance))
	b = e.count(b, kindStatements, len(a.Statements))
	for i := range a.Statements {
		s := &a.Statements[i]
		b = putInt(b, int64(s.Date))
		b = putInt(b, int64(s.DueDate))
		b = putInt(b, int64(s.NewBalance))
		b = putInt(b, int64(s.MinimumDue))
		b = putInt(b, int64(s.MinRemaining))
		b = putComponents(b, &s.Owed)
	}
	c := &a.Cycle
	for _, m := range [...]billing.Money{c.Purchases, c.InstallmentSpend, c.Payments, c.Refunds, c.RevolvingFees,
		c.Penalties, c.AcceleratedPrincipal, c.AcceleratedFees} {
		b = putInt(b, int64(m))
	}
	b = putInt(b, int64(c.FailedDeductions))
	b = putInt(b, int64(c.MaxDPD))
	b = e.count(b, kindPending, len(a.Pending))
	for i := range a.Pending {
		l := &a.Pending[i]
		b = putStr(b, string(l.Kind))
		b = putInt(b, int64(l.Date))
		b = putStr(b, l.Ref)
		b = putInt(b, int64(l.Period))
		b = putInt(b, int64(l.Amount))
	}
	b = e.count(b, kindPlans, len(a.Plans))
	for i := range a.Plans {
		p := &a.Plans[i]
		b = putStr(b, p.TxnID)
		b = putInt(b, int64(p.OpenedOn))
		b = putInt(b, int64(p.Principal))
		b = putInt(b, int64(p.Periods))
		b = putInt(b, int64(p.FeeRate))
		b = putInt(b, int64(p.PeriodPrincipal))
		b = putInt(b, int64(p.PeriodFee))
		b = putInt(b, int64(p.LastPeriodPrincipal))
		b = putInt(b, int64(p.Billed))
		b = putInt(b, int64(p.Skip))
		b = putInt(b, int64(p.Remaining))
		b = putInt(b, int64(p.BilledPrincipal))
		b = putInt(b, int64(p.BilledFees))
	}
	b = e.count(b, kindPurchases, len(a.Purchases))
	for i := range a.Purchases {
		p := &a.Purchases[i]
		b = putStr(b, p.TxnID)
		b = putInt(b, int64(p.Date))
		b = putInt(b, int64(p.Amount))
		b = putInt(b, int64(p.Refunded))
		b = putInt(b, int64(p.Installments))
	}
	b = e.count(b, kindHistory, len(a.History))
	for i := range a.History {
		h := &a.History[i]
		b = putInt(b, int64(h.StatementDate))
		for _, m := range [...]billing.Money{h.Spend, h.InstallmentSpend, h.Billed, h.Paid, h.Balance, h.Limit, h.MinimumDue} {
			b = putInt(b, int64(m))
		}
		b = putInt(b, int64(h.MaxDPD))
		b = putInt(b, int64(h.FailedDeductions))
	}
	b = e.count(b, kindSeen, len(a.Seen))
	for i := range a.Seen {
		s := &a.Seen[i]
		b = putStr(b, s.Dataset)
		b = putStr(b, s.ID)
		b = putInt(b, int64(s.Date))
	}
	b = e.count(b, kindLateAccruals, len(a.LateAccruals))
	for i := range a.LateAccruals {
		x := &a.LateAccruals[i]
		b = putInt(b, int64(x.Date))
		b = putInt(b, int64(x.Revolving))
		b = putInt(b, int64(x.Penalty))
		b = putInt(b, int64(x.DueDate))
		b = putInt(b, int64(x.MinRemaining))
		b = putComponents(b, &x.Owed)
	}
	b = putInt(b, int64(a.FrozenOn))
	b = putInt(b, int64(a.LastPastDue))
	b = putInt(b, int64(a.LimitChangedOn))
	b = putInt(b, int64(a.ClosedOn))
	b = putStr(b, a.ClosedBy)
	b = putInt(b, int64(a.ChargedOff))
	b = putInt(b, int64(a.Recovered))
	b = putBool(b, a.CloseRequested)
	b = putInt(b, int64(a.DeferralsUsed))
	b = putStr(b, a.Note)
	b = putInt(b, int64(a.FailedDeductions))
	b = e.count(b, kindFailures, len(a.Failures))
	for i := range a.Failures {
		f := &a.Failures[i]
		b = putStr(b, f.RepaymentID)
		b = putStr(b, f.Channel)
		b = putInt(b, f.PaidAt)
		b = putInt(b, int64(f.Date))
		b = putStr(b, f.Excused)
	}
	b = e.count(b, kindAccruals, len(a.Accruals))
	for i := range a.Accruals {
		x := &a.Accruals[i]
		b = putInt(b, int64(x.Date))
		b = putInt(b, int64(x.FirstDue))
		b = putInt(b, int64(x.OldestDue))
		b = putInt(b, int64(x.DPD))
		b = putInt(b, int64(x.Penalty))
		b = putInt(b, int64(x.Revolving))
	}
	b = putStr(b, a.Grade)
	b = putInt(b, int64(a.Score))
	b = putInt(b, int64(a.FeaturesOn))
	return b
}

// spillDecoder decodes the accounts of one frame. Each kind of child row
// comes from one array per frame, capped per account so that appending to
// one account's rows never writes into another's. Strings are copied out
// of the frame (a row written from one must not keep a whole frame
// alive) into blocks of arenaChunk bytes, but for the few values of the
// enumerations, which are shared.
type spillDecoder struct {
	b    []byte
	i    int
	err  error
	syms map[string]string
	// arena is the block the strings being read are copied into, its
	// length the bytes handed out.
	arena []byte

	statements   []billing.Statement
	pending      []billing.Line
	plans        []billing.Plan
	purchases    []billing.PurchaseRef
	history      []billing.CycleStats
	seen         []billing.SeenEvent
	lateAccruals []billing.LateAccrual
	failures     []billing.FailedDeduction
	accruals     []billing.Accrual
}

func (d *spillDecoder) reset(payload []byte, kinds [spillKinds]uint64) {
	const most = 1 << 32 // beyond any frame: a count beyond it is corruption
	for _, k := range kinds {
		if k > most {
			d.err = fmt.Errorf("a frame of %d child rows", k)
			return
		}
	}
	syms := d.syms
	if syms == nil {
		syms = map[string]string{}
	}
	*d = spillDecoder{b: payload, syms: syms, arena: d.arena,
		statements:   make([]billing.Statement, kinds[kindStatements]),
		pending:      make([]billing.Line, kinds[kindPending]),
		plans:        make([]billing.Plan, kinds[kindPlans]),
		purchases:    make([]billing.PurchaseRef, kinds[kindPurchases]),
		history:      make([]billing.CycleStats, kinds[kindHistory]),
		seen:         make([]billing.SeenEvent, kinds[kindSeen]),
		lateAccruals: make([]billing.LateAccrual, kinds[kindLateAccruals]),
		failures:     make([]billing.FailedDeduction, kinds[kindFailures]),
		accruals:     make([]billing.Accrual, kinds[kindAccruals]),
	}
}

func (d *spillDecoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%s at byte %d", what, d.i)
	}
	d.i = len(d.b)
}

// int decodes a varint. Most of a book's values (zeros, small counts and
// amounts, a day's number) take one to three bytes: those are decoded
// here in one step, without binary.Varint's loop, while three bytes are
// left in the frame; longer ones, and any in its last two bytes, by
// intSlow.
func (d *spillDecoder) int() int64 {
	b := d.b
	i := d.i
	if i+2 < len(b) {
		if c := b[i]; c < 0x80 {
			d.i = i + 1
			return int64(c>>1) ^ -int64(c&1)
		} else if c1 := b[i+1]; c1 < 0x80 {
			d.i = i + 2
			x := uint64(c&0x7f) | uint64(c1)<<7
			return int64(x>>1) ^ -int64(x&1)
		} else if c2 := b[i+2]; c2 < 0x80 {
			d.i = i + 3
			x := uint64(c&0x7f) | uint64(c1&0x7f)<<7 | uint64(c2)<<14
			return int64(x>>1) ^ -int64(x&1)
		}
	}
	return d.intSlow()
}

func (d *spillDecoder) intSlow() int64 {
	v, n := binary.Varint(d.b[d.i:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.i += n
	return v
}

func (d *spillDecoder) uint() uint64 {
	v, n := binary.Uvarint(d.b[d.i:])
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.i += n
	return v
}

func (d *spillDecoder) str() string {
	n := d.uint()
	if n > uint64(len(d.b)-d.i) {
		d.fail("string beyond the frame")
		return ""
	}
	if n == 0 {
		return ""
	}
	if len(d.arena)+int(n) > cap(d.arena) {
		d.arena = make([]byte, 0, max(arenaChunk, int(n)))
	}
	at := len(d.arena)
	d.arena = append(d.arena, d.b[d.i:d.i+int(n)]...)
	d.i += int(n)
	return unsafe.String(&d.arena[at], int(n))
}

// arenaChunk is the size of the blocks the spill's strings are copied
// into: one allocation for thousands of strings instead of one each. A
// block is never written again where a string lies, and lives as long as
// any of its strings.
const arenaChunk = 64 << 10

// sym decodes a string of an enumeration: a status, a kind, a dataset, a
// channel, a grade.
func (d *spillDecoder) sym() string {
	n := d.uint()
	if n > uint64(len(d.b)-d.i) {
		d.fail("string beyond the frame")
		return ""
	}
	b := d.b[d.i : d.i+int(n)]
	d.i += int(n)
	if s, ok := d.syms[string(b)]; ok {
		return s
	}
	if len(d.syms) > 1024 {
		return string(b) // not an enumeration after all
	}
	s := string(b)
	d.syms[s] = s
	return s
}

func (d *spillDecoder) bool() bool {
	if d.i >= len(d.b) {
		d.fail("frame cut short")
		return false
	}
	v := d.b[d.i] != 0
	d.i++
	return v
}

func (d *spillDecoder) money() billing.Money { return billing.Money(d.int()) }
func (d *spillDecoder) date() billing.Date   { return billing.Date(d.int()) }
func (d *spillDecoder) int32() int32         { return int32(d.int()) }

func (d *spillDecoder) components(c *billing.Components) {
	for i := range c {
		c[i] = d.money()
	}
}

// take cuts the next n rows of arr for one account (nil for none).
func take[T any](d *spillDecoder, arr *[]T) []T {
	n := d.uint()
	if n == 0 {
		return nil
	}
	if n > uint64(len(*arr)) {
		d.fail("more child rows than the frame holds")
		return nil
	}
	rows := (*arr)[:n:n]
	*arr = (*arr)[n:]
	return rows
}

// account decodes into a, overwriting every field.
func (d *spillDecoder) account(a *billing.Account) {
	*a = billing.Account{}
	if d.err != nil {
		return
	}
	a.ID = d.int()
	a.CustomerID = d.str()
	a.OpenedOn = d.date()
	a.Status = billing.Status(d.sym())
	a.ActivatedOn = d.date()
	a.Limit = d.money()
	a.BillingDay = d.int32()
	a.ExternalScore = d.int32()
	a.HasExternalScore = d.bool()
	a.Fraud = d.bool()
	a.Credit = d.money()
	a.LastStatement = d.date()
	a.LastBalance = d.money()
	a.Statements = take(d, &d.statements)
	for i := range a.Statements {
		s := &a.Statements[i]
		s.Date, s.DueDate = d.date(), d.date()
		s.NewBalance, s.MinimumDue, s.MinRemaining = d.money(), d.money(), d.money()
		d.components(&s.Owed)
	}
	c := &a.Cycle
	for _, m := range [...]*billing.Money{&c.Purchases, &c.InstallmentSpend, &c.Payments, &c.Refunds, &c.RevolvingFees,
		&c.Penalties, &c.AcceleratedPrincipal, &c.AcceleratedFees} {
		*m = d.money()
	}
	c.FailedDeductions = d.int32()
	c.MaxDPD = d.int32()
	a.Pending = take(d, &d.pending)
	for i := range a.Pending {
		l := &a.Pending[i]
		l.Kind = billing.LineKind(d.sym())
		l.Date = d.date()
		l.Ref = d.str()
		l.Period = d.int32()
		l.Amount = d.money()
	}
	a.Plans = take(d, &d.plans)
	for i := range a.Plans {
		p := &a.Plans[i]
		p.TxnID = d.str()
		p.OpenedOn = d.date()
		p.Principal = d.money()
		p.Periods = d.int32()
		p.FeeRate = billing.Rate(d.int())
		p.PeriodPrincipal = d.money()
		p.PeriodFee = d.money()
		p.LastPeriodPrincipal = d.money()
		p.Billed = d.int32()
		p.Skip = d.int32()
		p.Remaining = d.money()
		p.BilledPrincipal = d.money()
		p.BilledFees = d.money()
	}
	a.Purchases = take(d, &d.purchases)
	for i := range a.Purchases {
		p := &a.Purchases[i]
		p.TxnID = d.str()
		p.Date = d.date()
		p.Amount = d.money()
		p.Refunded = d.money()
		p.Installments = d.int32()
	}
	a.History = take(d, &d.history)
	for i := range a.History {
		h := &a.History[i]
		h.StatementDate = d.date()
		for _, m := range [...]*billing.Money{&h.Spend, &h.InstallmentSpend, &h.Billed, &h.Paid, &h.Balance, &h.Limit, &h.MinimumDue} {
			*m = d.money()
		}
		h.MaxDPD = d.int32()
		h.FailedDeductions = d.int32()
	}
	a.Seen = take(d, &d.seen)
	for i := range a.Seen {
		s := &a.Seen[i]
		s.Dataset = d.sym()
		s.ID = d.str()
		s.Date = d.date()
	}
	a.LateAccruals = take(d, &d.lateAccruals)
	for i := range a.LateAccruals {
		x := &a.LateAccruals[i]
		x.Date = d.date()
		x.Revolving = d.money()
		x.Penalty = d.money()
		x.DueDate = d.date()
		x.MinRemaining = d.money()
		d.components(&x.Owed)
	}
	a.FrozenOn = d.date()
	a.LastPastDue = d.date()
	a.LimitChangedOn = d.date()
	a.ClosedOn = d.date()
	a.ClosedBy = d.sym()
	a.ChargedOff = d.money()
	a.Recovered = d.money()
	a.CloseRequested = d.bool()
	a.DeferralsUsed = d.int32()
	a.Note = d.str()
	a.FailedDeductions = d.int32()
	a.Failures = take(d, &d.failures)
	for i := range a.Failures {
		f := &a.Failures[i]
		f.RepaymentID = d.str()
		f.Channel = d.sym()
		f.PaidAt = d.int()
		f.Date = d.date()
		f.Excused = d.str()
	}
	a.Accruals = take(d, &d.accruals)
	for i := range a.Accruals {
		x := &a.Accruals[i]
		x.Date = d.date()
		x.FirstDue = d.date()
		x.OldestDue = d.date()
		x.DPD = d.int32()
		x.Penalty = d.money()
		x.Revolving = d.money()
	}
	a.Grade = d.sym()
	a.Score = d.int32()
	a.FeaturesOn = d.date()
}
