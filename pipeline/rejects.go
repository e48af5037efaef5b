package pipeline

import (
	"bufio"
	"cmp"
	"container/heap"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/pipeline/source"
)

// RejectUnknownAccount is the reason for an event of an account the book
// does not have.
const RejectUnknownAccount = source.ReasonUnknownAccount

// rejectUnknown rejects every event in ev: none of them has an account.
func rejectUnknown(ev *billing.Events, out *billing.Output) {
	for _, t := range ev.Transactions {
		out.Rejects = append(out.Rejects, billing.EventReject{Dataset: billing.DatasetTransactions, Key: t.TxnID, Reason: RejectUnknownAccount, Src: t.Src})
	}
	for _, r := range ev.Repayments {
		out.Rejects = append(out.Rejects, billing.EventReject{Dataset: billing.DatasetRepayments, Key: r.RepaymentID, Reason: RejectUnknownAccount, Src: r.Src})
	}
	for _, r := range ev.Requests {
		out.Rejects = append(out.Rejects, billing.EventReject{Dataset: billing.DatasetRequests, Key: r.RequestID, Reason: RejectUnknownAccount, Src: r.Src})
	}
}

// rejectOrder orders rejects by dataset, file and row: the table's order.
func rejectOrder(a, b *source.Reject) int {
	return cmp.Or(strings.Compare(a.Dataset, b.Dataset), strings.Compare(a.File, b.File), cmp.Compare(a.Row, b.Row))
}

// spillRows is how many rejects the spool holds before it sorts them and
// spills them to disk: a night of a million rejects holds this many, and a
// read buffer per spilled run when it writes the table.
const spillRows = 16 << 10

// rejectSpool is the night's rejects table on its way to its file. Rows are
// gathered as the readers and the daily step find them; every spillRows
// of them are sorted into a run and appended to a temporary file under
// OUT/_work/, outside every reader's glob. The table is the runs merged in
// order, equal rows in the order they came; memory holds one run and the
// counts. A night whose rejects fit in one run never touches the disk.
// It is safe for concurrent use.
type rejectSpool struct {
	path string // the spill file, created at the first spill

	mu      sync.Mutex
	buf     []source.Reject
	f       *os.File
	w       *bufio.Writer
	runs    []spillRun
	size    int64 // bytes spilled
	enc     []byte
	rows    int64               // rejects in all
	events  int64               // of them, rows the readers kept that the daily step rejected
	reasons map[string]int64    // rejects by reason
	counts  map[[2]string]int64 // rejects by dataset and reason
	err     error               // the first failure: the spool takes no more rows
}

// spillRun is one sorted run in the spill file.
type spillRun struct {
	off, size int64
	rows      int
}

// newRejectSpool returns the spool of the night of day, which spills to a
// file in dir (OUT/_work/, or a shard's own work directory).
func newRejectSpool(dir string, day billing.Date) *rejectSpool {
	return &rejectSpool{
		path:    filepath.Join(dir, fmt.Sprintf("rejects-as_of=%s.%d", day, os.Getpid())),
		reasons: map[string]int64{}, counts: map[[2]string]int64{},
	}
}

// WriteRejects adds rows the readers refused; it implements
// source.RejectWriter.
func (s *rejectSpool) WriteRejects(rs []source.Reject) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range rs {
		if err := s.add(rs[i]); err != nil {
			return err
		}
	}
	return nil
}

// addEvents adds the daily step's rejects, naming each event's file.
func (s *rejectSpool) addEvents(rs []billing.EventReject, fileName func(int32) string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rs {
		err := s.add(source.Reject{Dataset: r.Dataset, File: fileName(r.Src.File), Row: r.Src.Row, Key: r.Key, Reason: r.Reason, Detail: r.Detail})
		if err != nil {
			return err
		}
		s.events++
	}
	return nil
}

func (s *rejectSpool) add(r source.Reject) error {
	if s.err != nil {
		return s.err
	}
	s.rows++
	s.reasons[r.Reason]++
	s.counts[[2]string{r.Dataset, r.Reason}]++
	s.buf = append(s.buf, r)
	if len(s.buf) == spillRows {
		s.err = s.spill()
	}
	return s.err
}

// spill sorts the rows held into a run at the end of the spill file.
func (s *rejectSpool) spill() error {
	if s.f == nil {
		if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
			return fmt.Errorf("spill rejects: %w", err)
		}
		f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("spill rejects: %w", err)
		}
		s.f, s.w = f, bufio.NewWriterSize(f, 64<<10)
	}
	slices.SortStableFunc(s.buf, func(a, b source.Reject) int { return rejectOrder(&a, &b) })
	run := spillRun{off: s.size, rows: len(s.buf)}
	for i := range s.buf {
		s.enc = encodeReject(s.enc[:0], &s.buf[i])
		if _, err := s.w.Write(s.enc); err != nil {
			return fmt.Errorf("spill rejects %s: %w", s.path, err)
		}
		run.size += int64(len(s.enc))
	}
	s.size += run.size
	s.runs = append(s.runs, run)
	clear(s.buf)
	s.buf = s.buf[:0]
	return nil
}

// writeTable writes the table to path, in order. It is called once, when
// every row is in.
func (s *rejectSpool) writeTable(path string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if len(s.runs) == 0 {
		slices.SortStableFunc(s.buf, func(a, b source.Reject) int { return rejectOrder(&a, &b) })
		return pqfile.WriteFile(path, s.buf)
	}
	if len(s.buf) > 0 {
		if err := s.spill(); err != nil {
			return err
		}
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("spill rejects %s: %w", s.path, err)
	}
	out, err := pqfile.Create[source.Reject](path)
	if err != nil {
		return err
	}
	if err := s.merge(out); err != nil {
		out.Abort()
		return err
	}
	return out.Close()
}

// merge writes the spilled runs to out in order: the least head of the
// runs, the earlier run on a tie.
func (s *rejectSpool) merge(out *pqfile.Writer[source.Reject]) error {
	names := map[string]string{} // datasets, files and reasons, which repeat
	h := make(runHeap, 0, len(s.runs))
	for i, r := range s.runs {
		c := &runCursor{run: i, left: r.rows, names: names,
			r: bufio.NewReaderSize(io.NewSectionReader(s.f, r.off, r.size), 16<<10)}
		if err := c.next(); err != nil {
			return fmt.Errorf("read spilled rejects %s: %w", s.path, err)
		}
		h = append(h, c)
	}
	heap.Init(&h)
	var b mergeBatch
	for len(h) > 0 {
		c := h[0]
		b.add(&c.head, c.key, c.detail)
		if len(b.rows) == mergeRows {
			if err := b.write(out); err != nil {
				return err
			}
		}
		if c.left == 0 {
			heap.Pop(&h)
			continue
		}
		if err := c.next(); err != nil {
			return fmt.Errorf("read spilled rejects %s: %w", s.path, err)
		}
		heap.Fix(&h, 0)
	}
	return b.write(out)
}

// mergeRows is how many merged rows go to the table at a time.
const mergeRows = 1024

// mergeBatch gathers merged rows for one Write. Their keys and details are
// copied into one buffer, which becomes one string for the batch: a million
// rejects cost a thousand strings on their way to the table, not a million.
type mergeBatch struct {
	rows []source.Reject
	text []byte
	ends []int // where each row's key, then its detail, ends in text
}

func (b *mergeBatch) add(r *source.Reject, key, detail []byte) {
	b.rows = append(b.rows, *r)
	b.text = append(b.text, key...)
	b.ends = append(b.ends, len(b.text))
	b.text = append(b.text, detail...)
	b.ends = append(b.ends, len(b.text))
}

func (b *mergeBatch) write(out *pqfile.Writer[source.Reject]) error {
	text := string(b.text)
	start := 0
	for i := range b.rows {
		k, d := b.ends[2*i], b.ends[2*i+1]
		b.rows[i].Key, b.rows[i].Detail = text[start:k], text[k:d]
		start = d
	}
	err := out.Write(b.rows)
	clear(b.rows)
	b.rows, b.text, b.ends = b.rows[:0], b.text[:0], b.ends[:0]
	return err
}

// close removes the spill file.
func (s *rejectSpool) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		s.f.Close()
		os.Remove(s.path)
		os.Remove(filepath.Dir(s.path)) // if no other run's work is there
		s.f = nil
	}
}

// encodeReject appends r to b: its row as a varint, then each string
// after its length.
func encodeReject(b []byte, r *source.Reject) []byte {
	b = binary.AppendVarint(b, r.Row)
	for _, f := range [...]string{r.Dataset, r.File, r.Key, r.Reason, r.Detail} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// runCursor reads one spilled run.
type runCursor struct {
	run  int
	left int // rows after head
	r    *bufio.Reader
	head source.Reject
	// names holds the datasets, files and reasons read so far, which
	// repeat from row to row: they cost a string each, not one a row.
	names map[string]string
	raw   []byte
	// key and detail are head's, in raw: they are copied only into the
	// batch that takes head.
	key, detail []byte
}

// next decodes the next row of the run into head.
func (c *runCursor) next() error {
	row, err := binary.ReadVarint(c.r)
	if err != nil {
		return io.ErrUnexpectedEOF
	}
	var ends [5]int
	c.raw = c.raw[:0]
	for i := range ends {
		n, err := binary.ReadUvarint(c.r)
		if err != nil || n > 1<<30 {
			return io.ErrUnexpectedEOF
		}
		start := len(c.raw)
		c.raw = slices.Grow(c.raw, int(n))[:start+int(n)]
		if _, err := io.ReadFull(c.r, c.raw[start:]); err != nil {
			return io.ErrUnexpectedEOF
		}
		ends[i] = len(c.raw)
	}
	field := func(i int) []byte {
		if i == 0 {
			return c.raw[:ends[0]]
		}
		return c.raw[ends[i-1]:ends[i]]
	}
	name := func(i int) string {
		b := field(i)
		if s, ok := c.names[string(b)]; ok {
			return s
		}
		s := string(b)
		c.names[s] = s
		return s
	}
	c.head = source.Reject{Row: row, Dataset: name(0), File: name(1), Reason: name(3)}
	c.key, c.detail = field(2), field(4)
	c.left--
	return nil
}

// runHeap orders the runs' cursors by their heads.
type runHeap []*runCursor

func (h runHeap) Len() int { return len(h) }
func (h runHeap) Less(i, j int) bool {
	if c := rejectOrder(&h[i].head, &h[j].head); c != 0 {
		return c < 0
	}
	return h[i].run < h[j].run
}
func (h runHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)   { *h = append(*h, x.(*runCursor)) }
func (h *runHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// checkRejects fails the night when more than MaxRejectRatio of its input
// rows were rejected, logging the count of each reason.
func (e *engine) checkRejects(day billing.Date, m *Manifest, rejects int64) error {
	if m.RejectRatio <= e.opt.MaxRejectRatio {
		return nil
	}
	for _, reason := range sortedKeys(m.Rejects) {
		e.log.Warn().Str("as_of", day.String()).Str("reason", reason).Int64("rows", m.Rejects[reason]).Msg("rejects")
	}
	return fmt.Errorf("%w: %d of %d input rows rejected (%.4f%% > --max-reject-ratio %.4f%%)",
		ErrTooManyRejects, rejects, m.RowsRead, 100*m.RejectRatio, 100*e.opt.MaxRejectRatio)
}

// sortedKeys returns m's keys in order, for deterministic output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// RejectedDir is OUT/_rejects/as_of=D: the rejects of a night refused for
// them (ErrTooManyRejects), outside the published dates. A later
// publication of D removes it.
func RejectedDir(out string, day billing.Date) string {
	return filepath.Join(out, "_rejects", "as_of="+day.String())
}

// writeRefusedRejects writes the rejects of a refused night to
// RejectedDir(out, day)/rejects.parquet, replacing an earlier refusal's.
func writeRefusedRejects(out string, day billing.Date, rejects *rejectSpool) (string, error) {
	dir := RejectedDir(out, day)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, TableRejects+".parquet")
	tmp := path + fmt.Sprintf(".tmp-%d", os.Getpid())
	if err := rejects.writeTable(tmp); err != nil {
		os.Remove(tmp)
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return path, syncDir(dir)
}
