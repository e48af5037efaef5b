package pipeline

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/objout"
	"github.com/creditrun/creditrun/pipeline/state"
	"github.com/creditrun/creditrun/report/daily"
	"github.com/creditrun/creditrun/storage"
)

// Crash points of a publication on an object store, in the order a night
// reaches them (see crash.go). CrashUploaded and the GC's points take the
// count of objects or runs done: CREDITRUN_CRASHPOINT=uploaded:3 dies
// once the third object is uploaded.
const (
	CrashStaged    = "staged"    // the night published in the staging directory, nothing uploaded
	CrashUploaded  = "uploaded"  // objout.StepUploaded: N objects uploaded
	CrashManifest  = "manifest"  // objout.StepManifest: the run's manifest written, no pointer
	CrashCommitted = "committed" // objout.StepCommitted: the pointer written, the staging not cleaned
	CrashGCPointer = "gc-pointer"
	CrashGCRun     = "gc-run"
)

// objectWorkers is how many objects a night uploads or downloads at once.
// With the store's two parts in flight per upload and 8 MiB parts, an
// upload holds at most 4 × 3 × 8 MiB.
const objectWorkers = 4

// ObjectOut is an output root on an object store. A night runs exactly as
// it does on local disk, into Out, a local output root inside a staging
// directory; each date it publishes there is then uploaded under a prefix
// of its own and committed (package objout), and what a night reads from
// the output root (the state it starts from, the month ends of its daily
// summary, a sharded night's parts) is fetched into Out first from the
// publications the store's commits name, checked against their SHA-256.
type ObjectOut struct {
	// URL is the output root on the store.
	URL string
	// Out is the local output root the runs write in and read from.
	Out string
	// Uploaded and Downloaded count the objects and bytes moved.
	Uploaded, Downloaded objout.Stats

	work  string // the staging directory: Out and the lock
	temp  bool   // work was made here and goes on Close
	lock  *Lock
	root  *storage.Root
	store *objout.Store
}

// OpenObjectOut opens the output root at the URL u, staged in the local
// directory work (empty: a temporary directory, removed on Close). The
// staging directory is locked for the process; whatever an earlier
// process left in it is removed, since only what the store's commits name
// is published.
func OpenObjectOut(ctx context.Context, u, work string) (*ObjectOut, error) {
	root, err := storage.Open(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("%w: --out %s: %w", ErrUsage, u, err)
	}
	o := &ObjectOut{URL: u, root: root, work: work}
	if work == "" {
		if o.work, err = os.MkdirTemp("", "creditrun-work-"); err != nil {
			root.Close()
			return nil, err
		}
		o.temp = true
	}
	if o.lock, err = acquireLock(o.work); err != nil {
		o.closeWork()
		root.Close()
		return nil, fmt.Errorf("--work %s: %w", o.work, err)
	}
	o.Out = filepath.Join(o.work, "out")
	if err := os.RemoveAll(o.Out); err != nil {
		o.Close()
		return nil, err
	}
	o.store = objout.New(root, objout.Options{Workers: objectWorkers, Step: objectStep})
	return o, nil
}

func objectStep(step string, n int) {
	crashpoint(step)
	crashpoint(step + ":" + strconv.Itoa(n))
}

// Close removes the staging (all of it when it is temporary) and releases
// the store.
func (o *ObjectOut) Close() error {
	err := os.RemoveAll(o.Out)
	if o.lock != nil {
		o.lock.Release()
	}
	o.closeWork()
	return errors.Join(err, o.root.Close())
}

func (o *ObjectOut) closeWork() {
	if o.temp {
		os.RemoveAll(o.work)
	}
}

// Store returns the store's commit protocol.
func (o *ObjectOut) Store() *objout.Store { return o.store }

// partition returns the name of day's publication on the store.
func partition(day billing.Date) string { return "as_of=" + day.String() }

// partPartition returns the name of shard s's part of day on the store.
func partPartition(day billing.Date, s Shard) string {
	return path.Join(shardsDir, "as_of="+day.String(), "n="+strconv.Itoa(s.N), "k="+strconv.Itoa(s.K))
}

// latest returns the manifest of the latest commit of partition, nil when
// it has none.
func (o *ObjectOut) latest(ctx context.Context, partition string) (*objout.Manifest, error) {
	_, m, err := o.store.Latest(ctx, partition)
	if errors.Is(err, objout.ErrNotPublished) {
		return nil, nil
	}
	return m, err
}

// fetch downloads the latest commit of partition into dir, the objects
// keep accepts (nil: all), and gives its JSON records back their local
// paths. ok is false when partition is not published.
func (o *ObjectOut) fetch(ctx context.Context, partition, dir string, keep func(string) bool) (ok bool, err error) {
	m, err := o.latest(ctx, partition)
	if err != nil || m == nil {
		return false, err
	}
	st, err := o.store.Download(ctx, m, dir, keep)
	o.Downloaded.Objects += st.Objects
	o.Downloaded.Bytes += st.Bytes
	if err != nil {
		return false, err
	}
	return true, o.relocate(dir, o.URL, o.Out)
}

// records are the JSON files of a publication or a part that name places
// in the output root: rewritten to the store's URL on upload and to the
// staging directory on download.
var records = []string{ManifestFile, PartFile}

func (o *ObjectOut) relocate(dir, from, to string) error {
	// Only whole paths, at the start of a JSON string: a location that
	// merely begins like from (s3://lake/book-events for s3://lake/book)
	// stays as it is.
	r := strings.NewReplacer(`"`+from+`/`, `"`+to+`/`, `"`+from+`"`, `"`+to+`"`)
	for _, name := range records {
		p := filepath.Join(dir, name)
		raw, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if fixed := r.Replace(string(raw)); fixed != string(raw) {
			if err := os.WriteFile(p, []byte(fixed), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// always are the files of a publication every fetch takes: its marker
// and its manifest, which say it is published and how.
func always(name string) bool { return name == SuccessFile || name == ManifestFile }

// PrepareRun fetches into Out what a run of from..to reads from the
// output root: with prev, the publication of from−1 that the run starts
// from (its state and its records; not its tables), and the tables of the
// month ends before from that the daily summaries of from..to compare
// with. A shard fetches only the parts of a sharded state its range
// meets, as it reads only those. A date the store has not published is
// not fetched: the run then finds it missing as it would on local disk.
func (o *ObjectOut) PrepareRun(ctx context.Context, from, to billing.Date, prev bool, s Shard) error {
	if prev {
		_, err := o.fetch(ctx, partition(from-1), PartitionDir(o.Out, from-1), func(n string) bool {
			return always(n) || (strings.HasPrefix(n, "state/") && s.readsPart(n))
		})
		if err != nil {
			return err
		}
	}
	for _, end := range monthEndsBefore(from, to) {
		_, err := o.fetch(ctx, partition(end), PartitionDir(o.Out, end), func(n string) bool {
			return always(n) || n == TableDelinquency+".parquet" || n == TableScores+".parquet"
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// readsPart reports whether s reads the object name of a state: false
// only for a part of a sharded state whose range s's does not meet.
func (s Shard) readsPart(name string) bool {
	dir, _, _ := strings.Cut(strings.TrimPrefix(name, "state/"), "/")
	var k, n int
	if _, err := fmt.Sscanf(dir, "part=%d-of-%d", &k, &n); err != nil || state.PartName(k, n) != dir || n < 1 || k < 0 || k >= n {
		return true
	}
	return s.overlaps(k, n)
}

// monthEndsBefore returns the month ends before from that the daily
// summaries of from..to look back to, ascending.
func monthEndsBefore(from, to billing.Date) []billing.Date {
	var ends []billing.Date
	for d := from; d <= to; d++ {
		for _, h := range daily.Horizons {
			if end := daily.PriorMonthEnd(d, h); end < from && !slices.Contains(ends, end) {
				ends = append(ends, end)
			}
		}
	}
	slices.Sort(ends)
	return ends
}

// PublishDay uploads the publication of day in Out and commits it, then
// removes from Out what no later date of the run reads: the date before
// day, unless it is a month end.
func (o *ObjectOut) PublishDay(ctx context.Context, day billing.Date) (*objout.Pointer, error) {
	dir := PartitionDir(o.Out, day)
	if err := o.stage(dir); err != nil {
		return nil, err
	}
	m, err := ReadManifest(o.Out, day)
	if err != nil {
		return nil, err
	}
	p, err := o.publish(ctx, partition(day), dir, digest(m.AsOf, m.PolicyVersion, m.StateFrom, m.Inputs))
	if err != nil {
		return nil, err
	}
	if day.Day() != 1 { // day−1 is not a month end
		os.RemoveAll(PartitionDir(o.Out, day-1))
	}
	// An earlier refusal of day is history now (as publish does locally).
	o.root.RemoveAll(ctx, path.Join("_rejects", "as_of="+day.String()))
	return p, nil
}

// PublishPart uploads shard s's part of day in Out and commits it as a
// partition of its own under _shards/, for the commit to fetch.
func (o *ObjectOut) PublishPart(ctx context.Context, day billing.Date, s Shard) (*objout.Pointer, error) {
	dir := PartDir(o.Out, day, s)
	if err := o.stage(dir); err != nil {
		return nil, err
	}
	p, err := ReadPart(o.Out, day, s)
	if err != nil {
		return nil, err
	}
	return o.publish(ctx, partPartition(day, s), dir, digest(p.AsOf+"/"+s.String(), p.PolicyVersion, p.StateFrom, p.Inputs))
}

// stage makes the records of a publication in the staging name the store,
// as they will on it: the run's id is then a digest of what the night
// read, wherever it was staged.
func (o *ObjectOut) stage(dir string) error {
	crashpoint(CrashStaged)
	return o.relocate(dir, o.Out, o.URL)
}

func (o *ObjectOut) publish(ctx context.Context, partition, dir string, digest []byte) (*objout.Pointer, error) {
	p, st, err := o.store.Publish(ctx, partition, dir, objout.RunID(digest, time.Now()))
	o.Uploaded.Objects += st.Objects
	o.Uploaded.Bytes += st.Bytes
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", o.root.URL(partition), err)
	}
	return p, nil
}

// digest is what a run id starts with: a hash of what the run read.
func digest(asOf, policy, stateFrom string, inputs []InputFile) []byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", asOf, policy, stateFrom)
	for _, in := range inputs {
		fmt.Fprintf(h, "%s %d %s\n", in.Path, in.Size, in.SHA256)
	}
	return h.Sum(nil)
}

// PrepareCommit fetches into Out what the commit of a sharded from..to
// reads: every published part of every date (the parts of every shard
// count, for the commit to say which is complete), and the records of the
// state of from−1 the parts started from (its metadata and score
// distribution, not its tables).
func (o *ObjectOut) PrepareCommit(ctx context.Context, from, to billing.Date) error {
	_, err := o.fetch(ctx, partition(from-1), PartitionDir(o.Out, from-1), func(n string) bool {
		return always(n) || (strings.HasPrefix(n, "state/") &&
			(!strings.HasSuffix(n, ".parquet") || path.Base(n) == state.DistributionFile))
	})
	if err != nil {
		return err
	}
	for day := from; day <= to; day++ {
		counts, err := o.root.List(ctx, path.Join(shardsDir, "as_of="+day.String()), false)
		if err != nil {
			return err
		}
		for _, c := range counts {
			parts, err := o.store.Partitions(ctx, c.Name)
			if err != nil {
				return err
			}
			for _, p := range parts {
				if _, err := o.fetch(ctx, p, filepath.Join(o.Out, filepath.FromSlash(p)), nil); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// RemoveParts removes from the store the parts of day, once it is
// committed. A failure is left to GC.
func (o *ObjectOut) RemoveParts(ctx context.Context, day billing.Date) error {
	return o.root.RemoveAll(ctx, path.Join(shardsDir, "as_of="+day.String()))
}

// ObjectDate is a date published on the store.
type ObjectDate struct {
	Day       billing.Date
	Seq       int
	Run       string
	StateKept bool // its publication holds a state/
}

// Dates returns the dates published on the store, in order.
func (o *ObjectOut) Dates(ctx context.Context) ([]ObjectDate, error) {
	parts, err := o.store.Partitions(ctx, ".")
	if err != nil {
		return nil, err
	}
	var out []ObjectDate
	for _, p := range parts {
		s, ok := strings.CutPrefix(p, "as_of=")
		d, err := billing.ParseDate(s)
		if !ok || err != nil {
			continue
		}
		ptr, m, err := o.store.Latest(ctx, p)
		if err != nil {
			return nil, err
		}
		_, kept := m.Find("state/" + state.InfoFile)
		out = append(out, ObjectDate{Day: d, Seq: ptr.Seq, Run: ptr.Run, StateKept: kept})
	}
	return out, nil
}

// LastStateBefore returns the latest date before day published on the
// store with its state (0 if none).
func (o *ObjectOut) LastStateBefore(ctx context.Context, day billing.Date) (billing.Date, error) {
	dates, err := o.Dates(ctx)
	var last billing.Date
	for _, d := range dates {
		if d.Day < day && d.StateKept {
			last = d.Day
		}
	}
	return last, err
}

// FetchPublished fetches into Out every date published on the store from
// from to to (0: no bound), with its state: what fit and backtest read,
// from a local output root.
func (o *ObjectOut) FetchPublished(ctx context.Context, from, to billing.Date) error {
	dates, err := o.Dates(ctx)
	if err != nil {
		return err
	}
	for _, d := range dates {
		if (from != 0 && d.Day < from) || (to != 0 && d.Day > to) {
			continue
		}
		_, err := o.fetch(ctx, partition(d.Day), PartitionDir(o.Out, d.Day), nil)
		if err != nil {
			return err
		}
	}
	return nil
}

// FetchReport fetches what ReadReport reads of the dates from..to (0: the
// first and the last published): each date's marker, manifest and daily
// summary, and the rejects of its last date; not the other tables, whose
// bytes a report never needs.
func (o *ObjectOut) FetchReport(ctx context.Context, from, to billing.Date) error {
	dates, err := o.Dates(ctx)
	if err != nil || len(dates) == 0 {
		return err
	}
	last := to
	if last == 0 {
		last = dates[len(dates)-1].Day
	}
	for _, d := range dates {
		if (from != 0 && d.Day < from) || d.Day > last {
			continue
		}
		_, err := o.fetch(ctx, partition(d.Day), PartitionDir(o.Out, d.Day), func(n string) bool {
			return always(n) || n == TableDailySummary+".parquet" || (d.Day == last && n == TableRejects+".parquet")
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// GC removes from the store, date by date and part by part, the runs that
// no commit kept names (objout.Store.GC), and the parts of a date
// committed after the parts were, once that is OlderThan ago (the commit
// removes them itself; a commit that died before leaves them).
func (o *ObjectOut) GC(ctx context.Context, opt objout.GCOptions) (objout.GCStats, error) {
	var total objout.GCStats
	dates, err := o.store.Partitions(ctx, ".")
	if err != nil {
		return total, err
	}
	committed := map[string]time.Time{}
	for _, p := range dates {
		st, err := o.store.GC(ctx, p, opt)
		total = total.Add(st)
		if err != nil {
			return total, err
		}
		ptr, _, err := o.store.Latest(ctx, p)
		if err != nil {
			return total, err
		}
		committed[p] = ptr.Committed
	}
	days, err := o.root.List(ctx, shardsDir, false)
	if err != nil {
		return total, err
	}
	for _, day := range days {
		at, published := committed[path.Base(day.Name)]
		stale := published && opt.Now.Sub(at) >= opt.OlderThan
		var parts []string
		counts, err := o.root.List(ctx, day.Name, false)
		if err != nil {
			return total, err
		}
		for _, c := range counts {
			ps, err := o.root.List(ctx, c.Name, false)
			if err != nil {
				return total, err
			}
			for _, p := range ps {
				parts = append(parts, p.Name)
				if ptr, _, err := o.store.Latest(ctx, p.Name); err == nil && !ptr.Committed.Before(at) {
					stale = false // a shard ran again since the commit
				}
			}
		}
		if stale {
			objs, err := o.root.List(ctx, day.Name, true)
			if err != nil {
				return total, err
			}
			for _, obj := range objs {
				total.Objects++
				total.Bytes += obj.Size
			}
			if err := o.root.RemoveAll(ctx, day.Name); err != nil {
				return total, err
			}
			total.Runs += len(parts)
			continue
		}
		for _, p := range parts {
			st, err := o.store.GC(ctx, p, opt)
			total = total.Add(st)
			if err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// SaveRefused uploads what refused nights left in Out's _rejects/ (the
// rejected rows of a night over its reject threshold) to the same names
// on the store, where an operator reads them, and returns err with the
// staging's paths in its message replaced by the store's.
func (o *ObjectOut) SaveRefused(ctx context.Context, err error) error {
	dir := filepath.Join(o.Out, "_rejects")
	var names []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, werr error) error {
		if werr == nil && !d.IsDir() {
			rel, _ := filepath.Rel(o.Out, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	for _, name := range names {
		raw, rerr := os.ReadFile(filepath.Join(o.Out, filepath.FromSlash(name)))
		if rerr == nil {
			rerr = o.root.WriteFile(ctx, name, raw)
		}
		if rerr != nil {
			return fmt.Errorf("%w (and uploading the rejected rows failed: %v)", err, rerr)
		}
	}
	if len(names) == 0 {
		return err
	}
	return &relocatedError{err: err, msg: strings.ReplaceAll(err.Error(), o.Out, o.URL)}
}

// relocatedError is an error whose message names the store, not the
// staging.
type relocatedError struct {
	err error
	msg string
}

func (e *relocatedError) Error() string { return e.msg }
func (e *relocatedError) Unwrap() error { return e.err }
