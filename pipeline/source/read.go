package source

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"golang.org/x/sync/errgroup"

	"github.com/creditrun/creditrun/billing"
)

// dataset describes one input dataset: its contract columns (the id first)
// and how a row becomes a T.
type dataset[T any, K comparable] struct {
	name string
	cols []column
	ts   int // index of the event timestamp in cols; -1: no day filter (accounts)
	// decode fills v from row i, or returns a reject reason and detail.
	decode func(r *rowCtx, i int, v *T) (reason, detail string)
	id     func(*T) K
	idText func(*T) string
	src    func(*T) *billing.Source // nil when T carries no source
	// order returns the sort key of a row: the rows are returned sorted by
	// order, then by id.
	order func(*T) (account, at int64)
	// byAccount: a row is an event of the account order names, rejected
	// when Rules.Known does not know it.
	byAccount bool
	// sharded: a row belongs to the account in column account, and a read
	// with Rules.Owns keeps only its accounts' rows (the events and the
	// accounts feed, whose id is its account: account 0).
	sharded bool
	account int
	// latest keeps, of the rows that share an id, the one with the latest
	// timestamp (the later file and row on a tie) instead of rejecting the
	// others as duplicates: an accounts feed's rows describe an account as
	// of their time. The id must be the account order returns.
	latest bool
	// dupReported, when set, says whether a repeated id is reported
	// tonight: a row read every night (an incident) is reported once, on
	// the night it was recorded, and skipped silently after.
	dupReported func(*T) bool
	// through keeps the rows of every day up to day (a first run's master
	// from a feed) instead of those of day alone, from every file.
	through bool
}

// rowCtx is the row group being decoded.
type rowCtx struct {
	cols   []colData
	intern map[string]string
	rules  *Rules
}

// internStr returns row i of column c as a string shared with equal values
// of the same row group (for low-cardinality columns).
func (r *rowCtx) internStr(c, i int) string {
	b, ok := r.cols[c].bytes(i)
	if !ok {
		return ""
	}
	if s, ok := r.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	r.intern[s] = s
	return s
}

// openFile is a file whose schema has been checked.
type openFile struct {
	File
	pos   int // position in the caller's slice
	in    input
	rdr   *file.Reader
	binds []binding
}

// unit is one row group of one file.
type unit struct {
	f     *openFile
	rg    int
	first int64 // row number of the row group's first row within the file
	// pick, when set, are the only rows of the row group to decode (in
	// order, as indexes within it), whatever account they are of, and
	// their rejects are dropped: the other accounts' rows of a narrowed
	// read whose validity decides a duplicate (othersKept).
	pick []int32
}

// unitResult is what a row group kept, chunk by chunk: each chunk's rows
// in an array of their own size, so that a row group of rejects keeps
// nothing.
type unitResult[T any] struct {
	rows    [][]T
	rowNums [][]int64 // each row's row number within its file
	// others are, in a read narrowed to a shard's accounts, the rows of
	// the day of other accounts, not decoded: in row order.
	others []otherRow
}

// otherRow is a row of another shard's account that the night would keep
// if it is valid: its index in the row group and the hash of its id.
type otherRow struct {
	row  int32
	hash uint64
}

// idSeed seeds the hashes of ids by which a narrowed read finds the other
// accounts' rows that share an id with one it keeps.
var idSeed = maphash.MakeSeed()

// at returns row j of the row group's kept rows: row j%chunkRows of chunk
// j/chunkRows.
func (r *unitResult[T]) at(j int32) *T { return &r.rows[j/chunkRows][j%chunkRows] }

// readAll reads files of ds as read does and returns the rejects too,
// sorted by file then row.
func readAll[T any, K comparable](ctx context.Context, ds *dataset[T, K], files []File, day billing.Date, rules *Rules) ([]T, []Reject, error) {
	var sink rejectSink
	rows, err := read(ctx, ds, files, day, rules, &sink)
	if err != nil {
		return nil, nil, err
	}
	return rows, sink.sorted(), nil
}

// read reads files of ds: the events of day (in rules.Zone) when ds has a
// timestamp, every row otherwise. Rejects go to sink as they are found.
func read[T any, K comparable](ctx context.Context, ds *dataset[T, K], files []File, day billing.Date, rules *Rules, sink *rejectSink) ([]T, error) {
	return readAs(ctx, ds, files, day, rules, sink, func(v *T) T { return *v })
}

// readAs is read returning conv of each row kept: the rows are copied
// once, into their final form (a first run's master from a feed of a
// million accounts: 64 bytes an account, not the feed row's 88 and then
// the master's 64).
func readAs[T any, K comparable, O any](ctx context.Context, ds *dataset[T, K], files []File, day billing.Date, rules *Rules, sink *rejectSink, conv func(*T) O) ([]O, error) {
	if len(files) == 0 {
		return nil, nil
	}
	if rules.Owns != nil && !ds.sharded && !rules.Unowned {
		sink = &rejectSink{w: dropRejects{}} // rows of the whole book: the rejects are another shard's
	}
	open, err := openAll(ctx, ds.name, ds.cols, files, rules.LocalTimestamps)
	defer func() {
		for _, f := range open {
			switch {
			case f == nil:
			case f.rdr != nil:
				f.rdr.Close() // and its input
			case f.in != nil:
				f.in.Close()
			}
		}
	}()
	if err != nil {
		return nil, err
	}
	var units []unit
	for _, f := range open {
		var first int64
		for rg := range f.rdr.NumRowGroups() {
			units = append(units, unit{f: f, rg: rg, first: first})
			first += f.rdr.MetaData().RowGroup(rg).NumRows()
		}
	}
	d := newDater(rules.Zone, day)
	results := make([]unitResult[T], len(units))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range units {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			w := workers.Get().(*worker)
			defer workers.Put(w)
			res, err := readUnit(ds, w, &units[i], day, &d, rules, sink)
			if serr := storeFailure(units[i].f.in); err != nil && serr != nil {
				err = serr // the store failed, not the file
			}
			if err != nil {
				return fmt.Errorf("read %s %s: %w", ds.name, units[i].f.Path, err)
			}
			results[i] = res
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	others, err := othersKept(ctx, ds, units, results, day, &d, rules)
	if err != nil {
		return nil, err
	}
	keys, err := merge(ds, units, results, others, sink)
	if err != nil {
		return nil, err
	}
	out := make([]O, len(keys))
	for i, k := range keys {
		out[i] = conv(results[k.u].at(k.j))
	}
	return out, nil
}

// rowKey is a kept row's sort key and where it is: row j of unit u's
// result.
type rowKey struct {
	account, at int64
	u, j        int32
}

// narrowed reports whether a read of ds keeps only the rows of the
// accounts rules.Owns owns.
func narrowed[T any, K comparable](ds *dataset[T, K], rules *Rules) bool {
	return rules.Owns != nil && ds.sharded
}

// othersKept decodes, of the other accounts' rows of a narrowed read, those
// whose id is the id of a row the read keeps, and returns the valid ones
// (by unit, nil when there are none): as in the whole book's night, the
// first valid row of an id is kept and the later ones are duplicates,
// whichever accounts they are of. Such rows are few (an id repeated across
// accounts); the other rows are never decoded beyond their id. A dataset
// whose id is its account has none.
func othersKept[T any, K comparable](ctx context.Context, ds *dataset[T, K], units []unit, results []unitResult[T], day billing.Date, d *dater, rules *Rules) ([]unitResult[T], error) {
	if !narrowed(ds, rules) || ds.account == 0 {
		return nil, nil
	}
	kept := map[uint64]struct{}{}
	for i := range results {
		for _, chunk := range results[i].rows {
			for k := range chunk {
				kept[maphash.String(idSeed, ds.idText(&chunk[k]))] = struct{}{}
			}
		}
	}
	whole := *rules
	whole.Owns = nil
	drop := &rejectSink{w: dropRejects{}} // another shard's to report
	var out []unitResult[T]
	for i := range results {
		var pick []int32
		for _, o := range results[i].others {
			if _, ok := kept[o.hash]; ok {
				pick = append(pick, o.row)
			}
		}
		results[i].others = nil
		if len(pick) == 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if out == nil {
			out = make([]unitResult[T], len(units))
		}
		u := units[i]
		u.pick = pick
		w := workers.Get().(*worker)
		res, err := readUnit(ds, w, &u, day, d, &whole, drop)
		workers.Put(w)
		if err != nil {
			return nil, fmt.Errorf("read %s %s: %w", ds.name, u.f.Path, err)
		}
		out[i] = res
	}
	return out, nil
}

// dropRejects takes rejects and keeps none.
type dropRejects struct{}

func (dropRejects) WriteRejects([]Reject) error { return nil }

// merge rejects the second and later occurrences of an id, in file then row
// order, and returns the keys of the other rows sorted by (account,
// timestamp, id): small keys are sorted, and the caller copies each row
// once into its result. With ds.latest it keeps instead, of the rows of an
// id, the one of the latest timestamp, the later file and row on a tie:
// the keys of every row are sorted, by file and row after the timestamp,
// and the last of each id kept (its rows are together, an id being its
// account), so that no map of the ids is built (a first run's master
// from a feed: a million of them). others, when
// set, are by unit the valid rows of other accounts that share an id with
// a row of results: they make a later row of the id a duplicate, and are
// not returned.
func merge[T any, K comparable](ds *dataset[T, K], units []unit, results []unitResult[T], others []unitResult[T], sink *rejectSink) ([]rowKey, error) {
	n := 0
	for i := range results {
		for _, chunk := range results[i].rows {
			n += len(chunk)
		}
	}
	var rejects []rejectAt // a batch of duplicates on its way to sink
	keys := make([]rowKey, 0, n)
	var seen map[K]struct{} // the ids kept (none with ds.latest, whose rows are never duplicates)
	if !ds.latest {
		seen = make(map[K]struct{}, n)
	}
	for i := range results {
		u := &units[i]
		var before func(row int64) // marks the ids of the other accounts' rows before row
		if others != nil && !ds.latest {
			before = othersBefore(ds, &others[i], seen)
		}
		for c, chunk := range results[i].rows {
			for k := range chunk {
				v := &chunk[k]
				j := int32(c*chunkRows + k)
				id := ds.id(v)
				if before != nil {
					before(results[i].rowNums[c][k])
				}
				if ds.latest {
					a, t := ds.order(v)
					keys = append(keys, rowKey{a, t, int32(i), j})
					continue
				}
				if _, dup := seen[id]; dup {
					if ds.dupReported != nil && !ds.dupReported(v) {
						continue
					}
					rejects = append(rejects, rejectAt{u.f.pos, Reject{
						Dataset: ds.name, File: u.f.Path, Row: results[i].rowNums[c][k], Key: ds.idText(v),
						Reason: ReasonDuplicateID, Detail: ds.cols[0].name + "=" + ds.idText(v),
					}})
					if len(rejects) == rejectBatch {
						if err := sink.write(rejects); err != nil {
							return nil, err
						}
						rejects = rejects[:0]
					}
					continue
				}
				seen[id] = struct{}{}
				a, t := ds.order(v)
				keys = append(keys, rowKey{a, t, int32(i), j})
			}
		}
	}
	if err := sink.write(rejects); err != nil {
		return nil, err
	}
	slices.SortFunc(keys, func(a, b rowKey) int {
		switch {
		case a.account < b.account:
			return -1
		case a.account > b.account:
			return 1
		case a.at < b.at:
			return -1
		case a.at > b.at:
			return 1
		}
		if c := strings.Compare(ds.idText(results[a.u].at(a.j)), ds.idText(results[b.u].at(b.j))); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.u, b.u), cmp.Compare(a.j, b.j)) // rows of one id (ds.latest): in file and row order
	})
	if ds.latest {
		kept := keys[:0]
		for k := range keys {
			if k+1 < len(keys) && ds.id(results[keys[k].u].at(keys[k].j)) == ds.id(results[keys[k+1].u].at(keys[k+1].j)) {
				continue // a row of the id comes later
			}
			kept = append(kept, keys[k])
		}
		keys = kept
	}
	return keys, nil
}

// othersBefore returns a function that marks as seen the ids of the rows
// of o before a row, in row order, each once.
func othersBefore[T any, K comparable](ds *dataset[T, K], o *unitResult[T], seen map[K]struct{}) func(row int64) {
	c, k := 0, 0
	return func(row int64) {
		for c < len(o.rows) {
			if k == len(o.rows[c]) {
				c, k = c+1, 0
				continue
			}
			if o.rowNums[c][k] >= row {
				return
			}
			seen[ds.id(&o.rows[c][k])] = struct{}{}
			k++
		}
	}
}

// openAll opens every file and checks its schema, before any row is read.
func openAll(ctx context.Context, name string, cols []column, files []File, naive *time.Location) ([]*openFile, error) {
	open := make([]*openFile, len(files))
	errs := make([]error, len(files))
	g := new(errgroup.Group)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range files {
		g.Go(func() error {
			if ctx.Err() != nil {
				errs[i] = ctx.Err()
				return nil
			}
			f := &openFile{File: files[i], pos: i}
			open[i] = f
			errs[i] = openOne(ctx, f, cols, naive)
			return nil
		})
	}
	g.Wait()
	for i, err := range errs {
		if err != nil {
			if se := (*SchemaError)(nil); errors.As(err, &se) {
				return open, fmt.Errorf("read %s: %w", name, err)
			}
			return open, fmt.Errorf("read %s %s: %w", name, files[i].Path, err)
		}
	}
	return open, nil
}

func openOne(ctx context.Context, f *openFile, cols []column, naive *time.Location) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, r)
		}
	}()
	in, size, err := openInput(ctx, &f.File)
	if err != nil {
		return err
	}
	f.in = in
	if err := checkMagic(f.Path, in, size); err != nil {
		return err
	}
	// The pages of a large file are read through a buffer as the columns
	// are decoded; a small file's column chunks are read whole, which
	// costs no more than the file. On an object store the buffer is
	// larger, so that a column chunk comes in few ranged requests.
	props := parquet.NewReaderProperties(nil)
	if f.Size > streamAbove {
		props.BufferedStreamEnabled = true
		props.BufferSize = readBuffer
		if f.root != nil {
			props.BufferSize = remoteReadBuffer
		}
	}
	f.rdr, err = file.NewParquetReader(in, file.WithReadProps(props))
	if err != nil {
		if serr := storeFailure(in); serr != nil {
			return serr
		}
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	f.binds, err = bind(f.Path, f.rdr.MetaData().Schema, cols, naive)
	return err
}

// A file larger than streamAbove is read through a buffer of readBuffer
// bytes per column.
const (
	streamAbove      = 4 << 20
	readBuffer       = 64 << 10
	remoteReadBuffer = 1 << 20
)

// worker holds the reusable buffers of one goroutine.
type worker struct {
	s       *scratch
	cols    []colData
	act     []action
	rejects []rejectAt
}

var workers = sync.Pool{New: func() any { return &worker{s: newScratch()} }}

// chunkRows is how many rows of a row group are decoded at a time: a row
// group of a million rows costs a chunk's buffers, not the row group's.
const chunkRows = 16 << 10

// action is what a row of a row group becomes.
type action uint8

const (
	skip      action = iota // another day's event
	keep                    // the day's event: decode it
	nullTS                  // timestamp null: reject
	badTS                   // timestamp out of range: reject
	outsideDt               // local date more than a day after the partition: reject
	tooLate                 // late beyond the late window: reject
	other                   // the day's event of another shard's account: not decoded
)

// decoded reports whether a row of action a is decoded: kept or rejected.
func decoded(a action) bool { return a != skip && a != other }

// columns are the column readers of one row group, each opened when a
// chunk first needs it: a row group none of whose rows the night keeps is
// never decoded beyond its timestamps (and, in a read narrowed to a
// shard's accounts, its account ids and the other accounts' ids).
type columns struct {
	rg      *file.RowGroupReader
	binds   []binding
	readers []file.ColumnChunkReader
	behind  []int64 // rows of each column passed over and not yet skipped
}

// read decodes the next nrows rows of column c into dst.
func (cs *columns) read(c int, nrows int64, dst *colData, s *scratch) error {
	cr := cs.readers[c]
	if cr == nil {
		var err error
		if cr, err = cs.rg.Column(cs.binds[c].leaf); err != nil {
			return err
		}
		cs.readers[c] = cr
	}
	if k := cs.behind[c]; k > 0 {
		sk, ok := cr.(interface{ Skip(int64) (int64, error) })
		if !ok {
			return fmt.Errorf("%w: unexpected %s column reader", ErrCorrupt, cr.Type())
		}
		n, err := sk.Skip(k)
		if err != nil {
			return err
		}
		if n != k {
			return fmt.Errorf("%w: column %s ends before the row group does", ErrCorrupt, cr.Descriptor().Name())
		}
		cs.behind[c] = 0
	}
	return readColumn(cr, &cs.binds[c], nrows, dst, s)
}

// pass passes over the next nrows rows of column c.
func (cs *columns) pass(c int, nrows int64) { cs.behind[c] += nrows }

func (cs *columns) close() error {
	var err error
	for _, cr := range cs.readers {
		if cr != nil {
			err = errors.Join(err, cr.Close())
		}
	}
	return err
}

// readUnit reads one row group of ds, a chunk of rows at a time: it
// returns the rows it keeps and hands its rejects to sink as it finds them.
func readUnit[T any, K comparable](ds *dataset[T, K], w *worker, u *unit, day billing.Date, d *dater, rules *Rules, sink *rejectSink) (res unitResult[T], err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, r)
		}
	}()
	f := u.f
	rg := f.rdr.RowGroup(u.rg)
	n := rg.NumRows()
	if n <= 0 {
		return res, nil
	}
	if len(w.cols) < len(ds.cols) {
		w.cols = make([]colData, len(ds.cols))
	}
	cs := &columns{rg: rg, binds: f.binds, readers: make([]file.ColumnChunkReader, len(ds.cols)), behind: make([]int64, len(ds.cols))}
	defer func() {
		if cerr := cs.close(); err == nil && cerr != nil {
			err = corrupt(cerr)
		}
	}()
	defer func() { // a failed read leaves rejects behind: the next read starts clean
		clear(w.rejects)
		w.rejects = w.rejects[:0]
	}()
	rc := rowCtx{cols: w.cols[:len(ds.cols)], intern: make(map[string]string), rules: rules}
	for first := int64(0); first < n; first += chunkRows {
		if len(rc.intern) > 4096 {
			clear(rc.intern) // not a low-cardinality column after all
		}
		if err := readChunk(ds, w, cs, &rc, u, first, min(chunkRows, n-first), day, d, rules, &res); err != nil {
			return res, err
		}
		if err := sink.write(w.rejects); err != nil {
			return res, err
		}
		clear(w.rejects)
		w.rejects = w.rejects[:0]
	}
	return res, nil
}

// readChunk reads rows first..first+n-1 of the row group of u, appending
// the rows it keeps to res and its rejects to w.rejects.
func readChunk[T any, K comparable](ds *dataset[T, K], w *worker, cs *columns, rc *rowCtx, u *unit, first, n int64, day billing.Date, d *dater, rules *Rules, res *unitResult[T]) error {
	f := u.f
	cols := rc.cols
	act := slicesGrow(w.act[:0], int(n))
	defer func() { w.act = act }()
	var done uint64 // the columns read for the chunk, a bit each
	if ds.ts < 0 {
		for range n {
			act = append(act, keep)
		}
	} else {
		if err := cs.read(ds.ts, n, &cols[ds.ts], w.s); err != nil {
			return corrupt(err)
		}
		done |= 1 << ds.ts
		// Rows that no run would keep (null timestamps, events outside
		// their partition) are reported by the run that owns the file: the
		// run for its dt, or every run for an unpartitioned file.
		own := f.Dt == 0 || f.Dt == day || ds.through
		tc := &cols[ds.ts]
		for i := range int(n) {
			a := skip
			switch v, st := tc.num(i); st {
			case absent:
				if own {
					a = nullTS
				}
			case invalid:
				if own {
					a = badTS
				}
			default:
				// See doc.go, "Which run takes an event".
				ld := d.date(v)
				switch {
				case f.Dt != 0 && ld > f.Dt+1:
					if own {
						a = outsideDt
					}
				case ds.through: // a first run's master from a feed: every row up to day
					if ld <= day {
						a = keep
					}
				case f.Dt != 0 && ld < f.Dt-1: // late: the run for its dt takes it
					switch {
					case !own:
					case int64(f.Dt-ld) > int64(rules.LateWindowDays):
						a = tooLate
					default:
						a = keep
					}
				case ld == day:
					a = keep
				}
			}
			act = append(act, a)
		}
	}
	switch {
	case u.pick != nil:
		pickOnly(act, u.pick, first)
	case narrowed(ds, rules):
		if err := narrowChunk(ds, cs, cols, first, act, &done, w.s, rules, res); err != nil {
			return err
		}
	}
	if !slices.ContainsFunc(act, decoded) {
		for c := range ds.cols {
			if done&(1<<c) == 0 {
				cs.pass(c, n)
			}
		}
		res.rows = append(res.rows, nil) // chunk k of the row group is res.rows[k]
		res.rowNums = append(res.rowNums, nil)
		return nil
	}
	for c := range ds.cols {
		if done&(1<<c) != 0 {
			continue
		}
		if err := cs.read(c, n, &cols[c], w.s); err != nil {
			return corrupt(err)
		}
	}

	nkeep := 0
	for _, a := range act {
		if a == keep {
			nkeep++
		}
	}
	rows := make([]T, 0, nkeep)
	rowNums := make([]int64, 0, nkeep)
	var zero T
	for i, a := range act {
		if !decoded(a) {
			continue
		}
		row := u.first + first + int64(i)
		var reason, detail string
		switch a {
		case nullTS:
			reason, detail = ReasonNullRequired, ds.cols[ds.ts].name
		case badTS:
			reason, detail = ReasonOutOfRange, ds.cols[ds.ts].name+"="+cols[ds.ts].rawText(i)+": beyond the calendar"
		case outsideDt:
			v, _ := cols[ds.ts].num(i)
			reason = ReasonOutsidePartition
			detail = fmt.Sprintf("%s=%s: local date %s, partition dt=%s",
				ds.cols[ds.ts].name, time.UnixMicro(v).UTC().Format(time.RFC3339Nano), d.date(v), f.Dt)
		case tooLate:
			v, _ := cols[ds.ts].num(i)
			reason = ReasonTooLate
			detail = fmt.Sprintf("%s=%s: local date %s, arrived in dt=%s, %d days later; the late window is %d days",
				ds.cols[ds.ts].name, time.UnixMicro(v).UTC().Format(time.RFC3339Nano), d.date(v), f.Dt,
				f.Dt-d.date(v), rules.LateWindowDays)
		case keep:
			rows = append(rows, zero)
			v := &rows[len(rows)-1]
			if reason, detail = ds.decode(rc, i, v); reason == "" && ds.byAccount && rules.Known != nil {
				if a, _ := ds.order(v); !rules.Known(a) {
					reason = ReasonUnknownAccount
				}
			}
			if reason == "" {
				if ds.src != nil {
					*ds.src(v) = billing.Source{File: f.Index, Row: row}
				}
				rowNums = append(rowNums, row)
				continue
			}
			rows[len(rows)-1] = zero
			rows = rows[:len(rows)-1]
			if reason == reasonLater {
				continue // not tonight's to report
			}
		}
		w.rejects = append(w.rejects, rejectAt{f.pos, Reject{
			Dataset: ds.name, File: f.Path, Row: row, Key: keyText(ds.cols[0].kind, &cols[0], i),
			Reason: reason, Detail: detail,
		}})
	}
	if len(rows) < cap(rows)/2 { // mostly rejects: keep only what is kept
		rows, rowNums = slices.Clip(slices.Clone(rows)), slices.Clip(slices.Clone(rowNums))
	}
	res.rows = append(res.rows, rows)
	res.rowNums = append(res.rowNums, rowNums)
	return nil
}

// narrowChunk narrows the rows of a chunk (rows first.. of its row group,
// act their actions) to the accounts rules.Owns owns: it decodes the
// account column, skips the other accounts' rows and, of those the night
// would keep, decodes their ids only, keeping them in res.others.
func narrowChunk[T any, K comparable](ds *dataset[T, K], cs *columns, cols []colData, first int64, act []action, done *uint64, s *scratch, rules *Rules, res *unitResult[T]) error {
	if !slices.ContainsFunc(act, decoded) {
		return nil
	}
	n := int64(len(act))
	ac := &cols[ds.account]
	if err := cs.read(ds.account, n, ac, s); err != nil {
		return corrupt(err)
	}
	*done |= 1 << ds.account
	others := false
	for i, a := range act {
		if a == skip || rules.owns(ac, i) {
			continue
		}
		act[i] = skip
		if a == keep && ds.account != 0 { // an id that may repeat a kept row's
			act[i], others = other, true
		}
	}
	if !others {
		return nil
	}
	if err := cs.read(0, n, &cols[0], s); err != nil {
		return corrupt(err)
	}
	*done |= 1
	for i, a := range act {
		if a != other {
			continue
		}
		if id, ok := cols[0].bytes(i); ok { // a row without an id is no duplicate
			res.others = append(res.others, otherRow{row: int32(first) + int32(i), hash: maphash.Bytes(idSeed, id)})
		}
	}
	return nil
}

// pickOnly skips the rows of a chunk (rows first.. of its row group, act
// their actions) that are not in pick.
func pickOnly(act []action, pick []int32, first int64) {
	j, _ := slices.BinarySearch(pick, int32(first))
	for i := range act {
		if j < len(pick) && int64(pick[j]) == first+int64(i) {
			j++
			continue
		}
		act[i] = skip
	}
}

// corrupt marks a decoding error as ErrCorrupt.
func corrupt(err error) error {
	if errors.Is(err, ErrCorrupt) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrCorrupt, err)
}

// keyText is the id of row i for a reject ("" when null): valid UTF-8
// (invalid bytes become U+FFFD) and at most maxKeyBytes long, so that the
// rejects table carries only text.
func keyText(k kind, c *colData, i int) string {
	if k == kString {
		b, _ := c.bytes(i)
		if len(b) > maxKeyBytes {
			return strings.ToValidUTF8(string(b[:maxKeyBytes]), "\uFFFD") + "…"
		}
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	if v, st := c.num(i); st == present {
		return strconv.FormatInt(v, 10)
	}
	return ""
}
