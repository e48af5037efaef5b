package state

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/parquet-go/parquet-go"
	"golang.org/x/sync/errgroup"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/pqfile"
)

// cursor reads one state table in batches of rows, column by column, and
// lets the reader take the rows of a range of accounts.
type cursor[T any] struct {
	name   string
	f      *os.File
	id     func(*T) int64
	pf     *parquet.File
	sc     *scratch
	next   int      // row group to open next
	cols   []column // one per column of the file, reopened for each row group
	open   bool     // cols hold a row group
	chunks chunkCount
	left   int64 // rows of the open row group not decoded yet
	buf    []T
	i, n   int
	eof    bool
	rows   int64 // in the file
}

func openCursor[T any](dir, name string, id func(*T) int64) (*cursor[T], error) {
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadState, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	pf, err := openParquet(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s: %w", ErrBadState, path, err)
	}
	if err := checkSchema[T](pf.Schema()); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s: %w", ErrBadState, path, err)
	}
	set, err := columnSetters[T](pf.Schema())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s: %w", ErrBadState, path, err)
	}
	cols := make([]column, len(set))
	for i := range cols {
		cols[i].field = set[i]
	}
	return &cursor[T]{name: name, f: f, id: id, pf: pf, cols: cols,
		sc: newScratch(), buf: make([]T, batchRows), rows: pf.NumRows()}, nil
}

// openLate opens a table of the late window, nil when the snapshot
// predates it (its tables then hold no row).
func openLate[T any](dir, name string, id func(*T) int64) (*cursor[T], error) {
	if _, err := os.Stat(filepath.Join(dir, name)); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return openCursor(dir, name, id)
}

// batchRows is how many rows a cursor decodes at a time.
const batchRows = 1024

// fill makes sure a row is buffered unless the table is exhausted. A
// corrupt page is an error naming the table, never a panic.
func (c *cursor[T]) fill() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: corrupt page: %v", c.name, r)
		}
	}()
	for c.i == c.n {
		if c.left == 0 {
			if c.open {
				closeColumns(c.cols)
				c.open = false
			}
			if c.next == len(c.pf.RowGroups()) {
				c.eof = true
				return nil
			}
			g := c.next
			c.next++
			c.open = true
			if err := openColumns(c.pf, c.f, g, c.cols, &c.chunks); err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			c.left = c.pf.RowGroups()[g].NumRows()
			continue
		}
		n := int(min(c.left, batchRows))
		rows := c.buf[:n]
		clear(rows) // a null leaves its field as it is
		if err := readBatch(c.cols, rows, c.sc); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		c.left -= int64(n)
		c.i, c.n = 0, n
	}
	return nil
}

// take appends to dst every row whose account id is ≤ last. dst is first
// given room for the rows n accounts have on average (of accounts in all),
// so that a chunk is not built by repeated growth.
func (c *cursor[T]) take(dst []T, last int64, n int, accounts int64) ([]T, error) {
	if c == nil {
		return dst, nil
	}
	if accounts > 0 {
		if want := int(c.rows*int64(n)/accounts) * 9 / 8; cap(dst) < want {
			dst = make([]T, 0, want)
		}
	}
	for {
		if err := c.fill(); err != nil {
			return dst, err
		}
		if c.i == c.n {
			return dst, nil
		}
		j := c.i
		for j < c.n && c.id(&c.buf[j]) <= last {
			j++
		}
		dst = append(dst, c.buf[c.i:j]...)
		c.i = j
		if j < c.n {
			return dst, nil
		}
	}
}

// close releases the file; it is safe on a nil cursor.
func (c *cursor[T]) close() {
	if c == nil {
		return
	}
	if c.open {
		closeColumns(c.cols)
	}
	c.f.Close()
}

// Reader streams a snapshot in chunks of consecutive accounts, joining the
// eight tables on account_id, so that memory is set by the chunk size, not
// by the book.
type Reader struct {
	accounts     *cursor[AccountRow]
	statements   *cursor[StatementRow]
	plans        *cursor[PlanRow]
	purchases    *cursor[PurchaseRow]
	lines        *cursor[LineRow]
	history      *cursor[CycleRow]
	failures     *cursor[FailureRow]
	accruals     *cursor[AccrualRow]
	seen         *cursor[SeenRow]        // nil in a snapshot without the table
	lateAccruals *cursor[LateAccrualRow] // likewise
	t            Tables
	lastID       int64
	started      bool
	dir          string
}

// Open opens the snapshot in dir for streaming.
func Open(dir string) (*Reader, error) {
	r := &Reader{dir: dir}
	var err error
	if r.accounts, err = openCursor(dir, AccountsFile, func(x *AccountRow) int64 { return x.AccountID }); err == nil {
		if r.statements, err = openCursor(dir, StatementsFile, func(x *StatementRow) int64 { return x.AccountID }); err == nil {
			if r.plans, err = openCursor(dir, PlansFile, func(x *PlanRow) int64 { return x.AccountID }); err == nil {
				if r.purchases, err = openCursor(dir, PurchasesFile, func(x *PurchaseRow) int64 { return x.AccountID }); err == nil {
					if r.lines, err = openCursor(dir, LinesFile, func(x *LineRow) int64 { return x.AccountID }); err == nil {
						if r.history, err = openCursor(dir, HistoryFile, func(x *CycleRow) int64 { return x.AccountID }); err == nil {
							if r.failures, err = openCursor(dir, FailuresFile, func(x *FailureRow) int64 { return x.AccountID }); err == nil {
								if r.accruals, err = openCursor(dir, AccrualsFile, func(x *AccrualRow) int64 { return x.AccountID }); err == nil {
									if r.seen, err = openLate(dir, SeenFile, func(x *SeenRow) int64 { return x.AccountID }); err == nil {
										r.lateAccruals, err = openLate(dir, LateAccrualsFile, func(x *LateAccrualRow) int64 { return x.AccountID })
									}
								}
							}
						}
					}
				}
			}
		}
	}
	if err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// Read fills buf with the accounts that follow those of the previous call,
// in account order, and returns how many it filled; 0 and io.EOF once the
// snapshot is exhausted. buf is the caller's: every field of every account
// filled is overwritten, and the accounts' child slices are allocated
// afresh on each call, so nothing a caller kept from an earlier call is
// touched.
func (r *Reader) Read(buf []billing.Account) (int, error) {
	out, err := r.next(len(buf), buf)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, io.EOF
		}
		return 0, fmt.Errorf("%w: %s: %w", ErrBadState, r.dir, err)
	}
	return len(out), nil
}

func (r *Reader) next(n int, buf []billing.Account) ([]billing.Account, error) {
	if n == 0 {
		return nil, nil
	}
	t := &r.t
	t.Accounts = t.Accounts[:0]
	for len(t.Accounts) < n {
		if err := r.accounts.fill(); err != nil {
			return nil, err
		}
		c := r.accounts
		if c.i == c.n {
			break
		}
		k := min(c.n-c.i, n-len(t.Accounts))
		t.Accounts = append(t.Accounts, c.buf[c.i:c.i+k]...)
		c.i += k
	}
	if len(t.Accounts) == 0 {
		// Every child row must have been taken by now.
		for _, rest := range []struct {
			name string
			left bool
		}{
			{StatementsFile, r.statements.pending()}, {PlansFile, r.plans.pending()},
			{PurchasesFile, r.purchases.pending()}, {LinesFile, r.lines.pending()}, {HistoryFile, r.history.pending()},
			{FailuresFile, r.failures.pending()}, {AccrualsFile, r.accruals.pending()},
			{SeenFile, r.seen.pending()}, {LateAccrualsFile, r.lateAccruals.pending()},
		} {
			if rest.left {
				return nil, fmt.Errorf("%s has rows after the last account", rest.name)
			}
		}
		return nil, io.EOF
	}
	first := t.Accounts[0].AccountID
	if r.started && first <= r.lastID {
		return nil, errors.New("accounts out of order (not a state written by creditrun, or edited)")
	}
	last := t.Accounts[len(t.Accounts)-1].AccountID
	r.started, r.lastID = true, last
	var err error
	if t.Statements, err = r.statements.take(t.Statements[:0], last, n, r.accounts.rows); err != nil {
		return nil, err
	}
	if t.Plans, err = r.plans.take(t.Plans[:0], last, n, r.accounts.rows); err != nil {
		return nil, err
	}
	if t.Purchases, err = r.purchases.take(t.Purchases[:0], last, n, r.accounts.rows); err != nil {
		return nil, err
	}
	if t.Lines, err = r.lines.take(t.Lines[:0], last, n, r.accounts.rows); err != nil {
		return nil, err
	}
	if t.History, err = r.history.take(t.History[:0], last, n, r.accounts.rows); err != nil {
		return nil, err
	}
	if t.Failures, err = r.failures.take(t.Failures[:0], last, n, r.accounts.rows); err != nil {
		return nil, err
	}
	if t.Accruals, err = r.accruals.take(t.Accruals[:0], last, n, r.accounts.rows); err != nil {
		return nil, err
	}
	if t.Seen, err = r.seen.take(t.Seen[:0], last, n, r.accounts.rows); err != nil {
		return nil, err
	}
	if t.LateAccruals, err = r.lateAccruals.take(t.LateAccruals[:0], last, n, r.accounts.rows); err != nil {
		return nil, err
	}
	return t.unflattenInto(buf)
}

func (c *cursor[T]) pending() bool {
	if c == nil {
		return false
	}
	if err := c.fill(); err != nil {
		return true
	}
	return c.i < c.n
}

// Close releases the files (of a partly opened reader too).
func (r *Reader) Close() {
	r.accounts.close()
	r.statements.close()
	r.plans.close()
	r.purchases.close()
	r.lines.close()
	r.history.close()
	r.failures.close()
	r.accruals.close()
	r.seen.close()
	r.lateAccruals.close()
}

// Writer appends chunks of accounts, in account order, to a new snapshot.
type Writer struct {
	accounts     *pqfile.Writer[AccountRow]
	statements   *pqfile.Writer[StatementRow]
	plans        *pqfile.Writer[PlanRow]
	purchases    *pqfile.Writer[PurchaseRow]
	lines        *pqfile.Writer[LineRow]
	history      *pqfile.Writer[CycleRow]
	failures     *pqfile.Writer[FailureRow]
	accruals     *pqfile.Writer[AccrualRow]
	seen         *pqfile.Writer[SeenRow]
	lateAccruals *pqfile.Writer[LateAccrualRow]
	t            Tables
	n            int
	dir          string
	sums         map[string]sum // each table's, once Close succeeded
}

// sum is a file's size and SHA-256 as its writer computed them.
type sum struct {
	size int64
	sha  string
}

// Create creates a snapshot in dir. Close finishes its tables and Finish
// completes it.
func Create(dir string) (*Writer, error) {
	w := &Writer{dir: dir}
	var err error
	if w.accounts, err = pqfile.CreateSummed[AccountRow](filepath.Join(dir, AccountsFile)); err == nil {
		if w.statements, err = pqfile.CreateSummed[StatementRow](filepath.Join(dir, StatementsFile)); err == nil {
			if w.plans, err = pqfile.CreateSummed[PlanRow](filepath.Join(dir, PlansFile)); err == nil {
				if w.purchases, err = pqfile.CreateSummed[PurchaseRow](filepath.Join(dir, PurchasesFile)); err == nil {
					if w.lines, err = pqfile.CreateSummed[LineRow](filepath.Join(dir, LinesFile)); err == nil {
						if w.history, err = pqfile.CreateSummed[CycleRow](filepath.Join(dir, HistoryFile)); err == nil {
							if w.failures, err = pqfile.CreateSummed[FailureRow](filepath.Join(dir, FailuresFile)); err == nil {
								if w.accruals, err = pqfile.CreateSummed[AccrualRow](filepath.Join(dir, AccrualsFile)); err == nil {
									if w.seen, err = pqfile.CreateSummed[SeenRow](filepath.Join(dir, SeenFile)); err == nil {
										w.lateAccruals, err = pqfile.CreateSummed[LateAccrualRow](filepath.Join(dir, LateAccrualsFile))
									}
								}
							}
						}
					}
				}
			}
		}
	}
	if err != nil {
		w.Abort()
		return nil, err
	}
	return w, nil
}

// writeBatch is how many accounts Write flattens at a time: the row
// buffers stay small and warm instead of growing to a bucket's size.
const writeBatch = 1024

// Write appends accounts (sorted by ID, after any written before).
func (w *Writer) Write(accounts []billing.Account) error {
	for len(accounts) > 0 {
		n := min(len(accounts), writeBatch)
		t := &w.t
		*t = Tables{Accounts: t.Accounts[:0], Statements: t.Statements[:0], Plans: t.Plans[:0],
			Purchases: t.Purchases[:0], Lines: t.Lines[:0], History: t.History[:0],
			Failures: t.Failures[:0], Accruals: t.Accruals[:0], Seen: t.Seen[:0], LateAccruals: t.LateAccruals[:0]}
		for i := range accounts[:n] {
			t.Flatten(&accounts[i])
		}
		err := errors.Join(w.accounts.Write(t.Accounts), w.statements.Write(t.Statements), w.plans.Write(t.Plans),
			w.purchases.Write(t.Purchases), w.lines.Write(t.Lines), w.history.Write(t.History),
			w.failures.Write(t.Failures), w.accruals.Write(t.Accruals),
			w.seen.Write(t.Seen), w.lateAccruals.Write(t.LateAccruals))
		if err != nil {
			return err
		}
		w.n += n
		accounts = accounts[n:]
	}
	return nil
}

// Accounts returns how many accounts were written.
func (w *Writer) Accounts() int { return w.n }

// table is a table being written, with its size and checksum once closed.
type table interface {
	Close() error
	Abort()
	Sum() (int64, string, error)
}

// tables are the writer's tables by file name.
func (w *Writer) tables() map[string]table {
	return map[string]table{
		AccountsFile: w.accounts, StatementsFile: w.statements, PlansFile: w.plans,
		PurchasesFile: w.purchases, LinesFile: w.lines, HistoryFile: w.history,
		FailuresFile: w.failures, AccrualsFile: w.accruals, SeenFile: w.seen,
		LateAccrualsFile: w.lateAccruals,
	}
}

// Close finishes every table durably, concurrently (each ends in an
// fsync), and keeps each one's size and checksum for Finish.
func (w *Writer) Close() error {
	var g errgroup.Group
	tables := w.tables()
	for _, t := range tables {
		g.Go(t.Close)
	}
	if err := g.Wait(); err != nil {
		return err
	}
	w.sums = map[string]sum{}
	for name, t := range tables {
		size, sha, err := t.Sum()
		if err != nil {
			return err
		}
		w.sums[name] = sum{size, sha}
	}
	return nil
}

// Abort closes whatever is open without finishing it.
func (w *Writer) Abort() {
	for _, t := range w.tables() {
		t.Abort() // safe on a table Create did not reach
	}
}
