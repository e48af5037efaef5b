package source

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/creditrun/creditrun/billing"
)

// Dataset is one input dataset with its layout detected once: its
// unpartitioned files and the directories that hold its date partitions.
// Opening reads the directories above the date partitions and the names of
// those partitions, never their contents; ForDay then reads only the
// partitions a night needs. A Dataset is safe for concurrent use.
type Dataset struct {
	name  string
	path  string // as given: a local path or a URL
	top   string // where its entries' paths start: path, or a URL's root without its query
	t     tree
	opt   Landing
	isDir bool

	loose    []File      // unpartitioned files
	roots    []*dateRoot // directories holding date partitions, in path order
	warnings []Warning   // found while opening
	marker   bool        // _SUCCESS at the dataset's root
	meta     bool        // metadata (_SUCCESS, hidden files) above the partitions
	temps    []string    // a writer's temporary entries above the partitions

	mu    sync.Mutex
	cache map[string]*level // year= and month= directories read so far
}

// dateRoot is a directory whose entries are date partitions.
type dateRoot struct {
	dir     string
	key     string // dt, ds or date: the key of its first flat partition
	compact bool   // that partition's value is YYYYMMDD
	flat    map[billing.Date][]string
	years   map[int][]string // year= directories by year
}

// level is the month= or day= directories of a year= or month= directory.
type level struct {
	dirs  map[int][]string
	warns []Warning
}

// partition is what a date partition holds.
type partition struct {
	files  []File
	marker bool     // _SUCCESS in the partition's own directory
	meta   bool     // other metadata
	temps  []string // a writer's temporary entries
	warns  []Warning
}

// Date partition keys whose value is a whole date.
var dateKeys = map[string]bool{"dt": true, "ds": true, "date": true}

// hiveDefault is the value Hive, Spark and DuckDB write for a null
// partition key.
const hiveDefault = "__HIVE_DEFAULT_PARTITION__"

const successMarker = "_SUCCESS"

// OpenDataset detects the layout of the dataset name at path: a Parquet
// file, a directory of them, or a directory of date partitions (dt=, ds=,
// date= or year=/month=/day=, below or above other partition keys).
// Symbolic links to directories are followed. A path that does not exist
// is a *NotLandedError that also wraps fs.ErrNotExist; a partition value
// that is not a date is ErrPartition.
func OpenDataset(name, path string, opt Landing) (*Dataset, error) {
	d := &Dataset{name: name, path: path, top: path, opt: opt, cache: map[string]*level{}}
	t, err := openTree(path)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", path, err)
	}
	d.t = t
	if st, ok := t.(*storeTree); ok {
		d.top = st.top
	}
	if _, err := t.lstat(d.top); err != nil {
		if st, ok := t.(*storeTree); ok && errors.Is(err, fs.ErrNotExist) && st.bucketMissing() {
			return nil, fmt.Errorf("list %s: %w: the bucket does not exist, or the credentials given cannot see it", path, ErrNoBucket)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &NotLandedError{Dataset: name, Path: path, Reason: "does not exist: upstream has not landed it", notExist: true}
		}
		return nil, fmt.Errorf("list %s: %w", path, err)
	}
	info, err := t.stat(d.top)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &NotLandedError{Dataset: name, Path: path, Reason: "is a symbolic link to nothing"}
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", path, err)
	}
	rootDt := pathDate(d.top)
	if !info.IsDir() {
		d.loose = []File{d.file(d.top, info.Size(), rootDt)}
		return d, nil
	}
	d.isDir = true
	if err := d.scan(d.top, rootDt, []fs.FileInfo{info}); err != nil {
		return nil, fmt.Errorf("list %s: %w", path, err)
	}
	return d, nil
}

// file is the data file at p.
func (d *Dataset) file(p string, size int64, dt billing.Date) File {
	f := File{Path: p, Size: size, Dt: dt}
	if st, ok := d.t.(*storeTree); ok {
		f.root, f.name = st.r, st.name(p)
	}
	return f
}

// Name returns the dataset's name.
func (d *Dataset) Name() string { return d.name }

// Path returns the dataset's path.
func (d *Dataset) Path() string { return d.path }

// Partitioned reports whether the dataset holds date partitions.
func (d *Dataset) Partitioned() bool { return len(d.roots) > 0 }

// scan reads dir, above any date partition: files are unpartitioned, date
// partitions are recorded by date, other directories are read in turn.
func (d *Dataset) scan(dir string, rootDt billing.Date, anc []fs.FileInfo) error {
	entries, err := d.t.readDir(dir)
	if err != nil {
		return err
	}
	var root *dateRoot
	for _, e := range entries {
		name, p := e.Name(), d.t.join(dir, e.Name())
		if skipName(name) {
			switch {
			case writerTemp(name):
				d.temps = append(d.temps, p)
			case name == successMarker && dir == d.top:
				d.marker = true
			default:
				d.meta = true
			}
			continue
		}
		// A date partition is known by its name: a link to one is followed
		// only by a night that needs it.
		key, val, _ := strings.Cut(name, "=")
		if (dateKeys[key] || key == "year") && (e.IsDir() || e.Type()&fs.ModeSymlink != 0) {
			if root == nil {
				root = &dateRoot{dir: dir, flat: map[billing.Date][]string{}, years: map[int][]string{}}
				d.roots = append(d.roots, root)
			}
			if err := d.addPartition(root, key, val, p); err != nil {
				return err
			}
			continue
		}
		info, isDir, err := d.follow(p, e)
		if err != nil {
			return err
		}
		if !isDir {
			if info.Mode().IsRegular() {
				d.loose = append(d.loose, d.file(p, info.Size(), rootDt))
			}
			continue
		}
		if info == nil {
			if info, err = e.Info(); err != nil {
				return err
			}
		}
		if loops(info, anc) {
			d.warnings = append(d.warnings, Warning{d.name, p, "a symbolic link to a directory above it: skipped"})
			continue
		}
		if err := d.scan(p, rootDt, append(anc, info)); err != nil {
			return err
		}
	}
	return nil
}

// addPartition records the date partition p (key=val) of root.
func (d *Dataset) addPartition(root *dateRoot, key, val, p string) error {
	if val == hiveDefault {
		d.warnings = append(d.warnings, Warning{d.name, p, defaultWhat})
		if root.key == "" && key != "year" {
			root.key = key
		}
		return nil
	}
	if key == "year" {
		y, err := strconv.Atoi(val)
		if err != nil || y < 1 || y > 9999 {
			return fmt.Errorf("%s: %w: year=%q is not a year", p, ErrPartition, val)
		}
		root.years[y] = append(root.years[y], p)
		return nil
	}
	dt, compact, err := parseDateValue(val)
	if err != nil {
		return fmt.Errorf("%s: %w: %s=%q is not YYYY-MM-DD or YYYYMMDD", p, ErrPartition, key, val)
	}
	if len(root.flat) == 0 {
		root.key, root.compact = key, compact
	}
	root.flat[dt] = append(root.flat[dt], p)
	return nil
}

const defaultWhat = "a " + hiveDefault + " partition holds the rows whose partition key was null: no night reads it"

// ForDay returns the files of every partition that can hold events of the
// local business day day in loc, and every unpartitioned file, sorted by
// partition date then path and numbered 0..n-1. The partitions of the UTC
// dates the local day spans (2025-03-10 in Shanghai is 2025-03-09T16:00Z to
// 2025-03-10T16:00Z: dt=2025-03-09 and dt=2025-03-10) must have landed, or
// the error is a *NotLandedError; those of the day before and after, which
// may hold events of the day written by a writer that does not cut by UTC
// date, are read when they have landed and skipped with a Warning when they
// are there but have not.
func (d *Dataset) ForDay(day billing.Date, loc *time.Location) ([]File, []Warning, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	warns := slices.Clone(d.warnings)
	var files []File
	for _, f := range d.loose {
		if f.Dt == 0 || f.Dt >= day-1 && f.Dt <= day+1 {
			files = append(files, f)
		}
	}
	if len(d.roots) == 0 {
		if err := d.checkUnpartitioned(); err != nil {
			return nil, warns, err
		}
		return number(files), warns, nil
	}
	first, last := utcSpan(day, loc)
	for _, r := range d.roots {
		for dt := day - 1; dt <= day+1; dt++ {
			need := dt >= first && dt <= last
			dirs, w, err := d.lookup(r, dt)
			warns = append(warns, w...)
			if err != nil {
				return nil, warns, fmt.Errorf("list %s: %w", d.path, err)
			}
			if len(dirs) == 0 {
				if need {
					if err := d.missing(r, dt, day); err != nil {
						return nil, warns, err
					}
				}
				continue
			}
			for _, p := range dirs {
				pt, err := d.read(p, dt)
				if err != nil {
					return nil, warns, fmt.Errorf("list %s: %w", d.path, err)
				}
				warns = append(warns, pt.warns...)
				if reason := d.notLanded(pt); reason != "" {
					if need {
						return nil, warns, &NotLandedError{Dataset: d.name, Path: p, Partition: r.name(dt), Reason: reason}
					}
					warns = append(warns, Warning{d.name, p, "not landed, skipped: " + reason})
					continue
				}
				files = append(files, pt.files...)
			}
		}
	}
	return number(files), dedup(warns), nil
}

// Files returns every file of the dataset, sorted and numbered as ForDay's:
// a dataset read whole, such as the accounts master. Every partition must
// have landed.
func (d *Dataset) Files() ([]File, []Warning, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	warns := slices.Clone(d.warnings)
	files := slices.Clone(d.loose)
	if len(d.roots) == 0 {
		if err := d.checkUnpartitioned(); err != nil {
			return nil, warns, err
		}
		return number(files), warns, nil
	}
	for _, r := range d.roots {
		parts, w, err := d.all(r)
		warns = append(warns, w...)
		if err != nil {
			return nil, warns, fmt.Errorf("list %s: %w", d.path, err)
		}
		for _, dp := range parts {
			pt, err := d.read(dp.path, dp.dt)
			if err != nil {
				return nil, warns, fmt.Errorf("list %s: %w", d.path, err)
			}
			warns = append(warns, pt.warns...)
			if reason := d.notLanded(pt); reason != "" {
				return nil, warns, &NotLandedError{Dataset: d.name, Path: dp.path, Partition: r.name(dp.dt), Reason: reason}
			}
			files = append(files, pt.files...)
		}
	}
	if len(files) == 0 {
		return nil, warns, &NotLandedError{Dataset: d.name, Path: d.path, Reason: "holds no Parquet file: upstream has not landed it"}
	}
	return number(files), dedup(warns), nil
}

// checkUnpartitioned checks that a dataset without date partitions has
// landed: it holds a file, no writer is still writing it, and it holds
// _SUCCESS when the marker is required.
func (d *Dataset) checkUnpartitioned() error {
	pt := &partition{files: d.loose, marker: d.marker || !d.isDir, meta: d.meta, temps: d.temps}
	if reason := d.notLanded(pt); reason != "" {
		return &NotLandedError{Dataset: d.name, Path: d.path, Reason: reason}
	}
	return nil
}

// notLanded says why a partition (or an unpartitioned directory) has not
// landed, or "" if it has.
func (d *Dataset) notLanded(pt *partition) string {
	temps := append(slices.Clone(d.temps), pt.temps...)
	switch {
	case len(pt.files) == 0 && len(temps) > 0:
		return fmt.Sprintf("holds no Parquet file, only a writer's temporary output (%s): a job is still writing it; run once it has committed",
			strings.Join(temps, ", "))
	case len(pt.files) == 0 && (pt.meta || pt.marker):
		return "holds no Parquet file, only metadata (_SUCCESS, hidden files): upstream has not landed it; " + emptyHint
	case len(pt.files) == 0:
		return "holds no Parquet file: upstream has not landed it; " + emptyHint
	case d.opt.RequireMarker && !pt.marker:
		return "has no _SUCCESS, which --require-success-marker requires: its writer has not marked it complete"
	}
	return ""
}

// missing decides what a needed partition that does not exist means.
func (d *Dataset) missing(r *dateRoot, dt, day billing.Date) error {
	part := r.name(dt)
	reason := fmt.Sprintf("has no partition %s, which holds events of %s", part, day)
	switch {
	case len(d.temps) > 0:
		// Even in sparse mode: the partition may be the one being written.
		reason += fmt.Sprintf(", and a writer's temporary output is there (%s): a job is still writing it; run once it has committed (or remove what a failed job left)",
			strings.Join(d.temps, ", "))
	case !d.opt.Sparse:
		reason += ": upstream has not landed it; " + sparseHint
	case !d.hasData():
		reason = "has no data at all: sparse mode takes a missing partition as a day without rows, not a missing dataset"
		part = ""
	default:
		return nil // sparse: a day without rows
	}
	return &NotLandedError{Dataset: d.name, Path: r.dir, Partition: part, Reason: reason}
}

// hasData reports whether the dataset holds any file or dated partition.
func (d *Dataset) hasData() bool {
	if len(d.loose) > 0 {
		return true
	}
	for _, r := range d.roots {
		if len(r.flat) > 0 || len(r.years) > 0 {
			return true
		}
	}
	return false
}

// name returns the name of r's partition for dt, as its writer names them.
func (r *dateRoot) name(dt billing.Date) string {
	y, m, day := dt.YMD()
	if r.key == "" {
		return fmt.Sprintf("year=%d/month=%02d/day=%02d", y, m, day)
	}
	if r.compact {
		return fmt.Sprintf("%s=%04d%02d%02d", r.key, y, m, day)
	}
	return r.key + "=" + dt.String()
}

// lookup returns the directories of r's partitions for dt.
func (d *Dataset) lookup(r *dateRoot, dt billing.Date) ([]string, []Warning, error) {
	dirs := slices.Clone(r.flat[dt])
	y, m, day := dt.YMD()
	var warns []Warning
	for _, yd := range r.years[y] {
		months, err := d.level(yd, "month", y, 0)
		if err != nil {
			return nil, warns, err
		}
		warns = append(warns, months.warns...)
		for _, md := range months.dirs[int(m)] {
			days, err := d.level(md, "day", y, int(m))
			if err != nil {
				return nil, warns, err
			}
			warns = append(warns, days.warns...)
			dirs = append(dirs, days.dirs[day]...)
		}
	}
	return dirs, warns, nil
}

type datedDir struct {
	path string
	dt   billing.Date
}

// all returns every partition of r, sorted by date then path.
func (d *Dataset) all(r *dateRoot) ([]datedDir, []Warning, error) {
	var out []datedDir
	var warns []Warning
	for dt, dirs := range r.flat {
		for _, p := range dirs {
			out = append(out, datedDir{p, dt})
		}
	}
	for _, y := range sortedKeys(r.years) {
		for _, yd := range r.years[y] {
			months, err := d.level(yd, "month", y, 0)
			if err != nil {
				return nil, warns, err
			}
			warns = append(warns, months.warns...)
			for _, m := range sortedKeys(months.dirs) {
				for _, md := range months.dirs[m] {
					days, err := d.level(md, "day", y, m)
					if err != nil {
						return nil, warns, err
					}
					warns = append(warns, days.warns...)
					for day, dirs := range days.dirs {
						for _, p := range dirs {
							out = append(out, datedDir{p, billing.NewDate(y, time.Month(m), day)})
						}
					}
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b datedDir) int { return cmp.Or(cmp.Compare(a.dt, b.dt), strings.Compare(a.path, b.path)) })
	return out, warns, nil
}

// level reads the key= directories (month= or day=) of dir once: their
// values with or without a leading zero, checked against the year and
// month above them.
func (d *Dataset) level(dir, key string, y, m int) (*level, error) {
	if l, ok := d.cache[dir]; ok {
		return l, nil
	}
	entries, err := d.t.readDir(dir)
	if err != nil {
		return nil, err
	}
	l := &level{dirs: map[int][]string{}}
	for _, e := range entries {
		name, p := e.Name(), d.t.join(dir, e.Name())
		if skipName(name) {
			continue
		}
		k, val, _ := strings.Cut(name, "=")
		if k == key && val == hiveDefault {
			l.warns = append(l.warns, Warning{d.name, p, defaultWhat})
			continue
		}
		n, err := strconv.Atoi(val)
		valid := err == nil && n >= 1 && (key == "month" && n <= 12 ||
			key == "day" && n <= 31 && billing.NewDate(y, time.Month(m), n).Day() == n)
		if k != key || !valid {
			return nil, fmt.Errorf("%s: %w: want a %s= directory with a valid %s below %s", p, ErrPartition, key, key, d.t.base(dir))
		}
		l.dirs[n] = append(l.dirs[n], p)
	}
	d.cache[dir] = l
	return l, nil
}

// read returns what the partition p of date dt holds: its files at any
// depth (other partition keys below it are allowed), following symbolic
// links to directories.
func (d *Dataset) read(p string, dt billing.Date) (*partition, error) {
	info, err := d.t.stat(p)
	if err != nil {
		return nil, err
	}
	pt := &partition{}
	if !info.IsDir() {
		pt.files = []File{d.file(p, info.Size(), dt)}
		pt.marker = true
		return pt, nil
	}
	return pt, d.collect(p, p, dt, []fs.FileInfo{info}, pt)
}

func (d *Dataset) collect(top, dir string, dt billing.Date, anc []fs.FileInfo, pt *partition) error {
	entries, err := d.t.readDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name, p := e.Name(), d.t.join(dir, e.Name())
		if skipName(name) {
			switch {
			case writerTemp(name):
				pt.temps = append(pt.temps, p)
			case name == successMarker && dir == top:
				pt.marker = true
			default:
				pt.meta = true
			}
			continue
		}
		info, isDir, err := d.follow(p, e)
		if err != nil {
			return err
		}
		if !isDir {
			if info.Mode().IsRegular() {
				pt.files = append(pt.files, d.file(p, info.Size(), dt))
			}
			continue
		}
		if key, val, _ := strings.Cut(name, "="); dateKeys[key] {
			if val == hiveDefault {
				pt.warns = append(pt.warns, Warning{d.name, p, defaultWhat})
				continue
			}
			if inner, _, err := parseDateValue(val); err != nil || inner != dt {
				return fmt.Errorf("%s: %w: a partition of %s inside the partition of %s", p, ErrPartition, val, dt)
			}
		}
		if info == nil {
			if info, err = e.Info(); err != nil {
				return err
			}
		}
		if loops(info, anc) {
			pt.warns = append(pt.warns, Warning{d.name, p, "a symbolic link to a directory above it: skipped"})
			continue
		}
		if err := d.collect(top, p, dt, append(anc, info), pt); err != nil {
			return err
		}
	}
	return nil
}

// follow returns whether the entry e at p is a directory, following a
// symbolic link, and its FileInfo when it had to be read (files, links).
func (d *Dataset) follow(p string, e fs.DirEntry) (fs.FileInfo, bool, error) {
	if e.Type()&fs.ModeSymlink != 0 {
		info, err := d.t.stat(p)
		if err != nil {
			return nil, false, err
		}
		return info, info.IsDir(), nil
	}
	if e.IsDir() {
		return nil, true, nil
	}
	info, err := e.Info()
	return info, false, err
}

// loops reports whether the directory info is one of the directories
// above it: a symbolic link back up the tree.
func loops(info fs.FileInfo, anc []fs.FileInfo) bool {
	for _, a := range anc {
		if os.SameFile(info, a) {
			return true
		}
	}
	return false
}

// writerTemp reports whether name is where a writer stages output it has
// not committed: Hadoop's _temporary, Spark's .spark-staging-*, Hive's
// .hive-staging*.
func writerTemp(name string) bool {
	return name == "_temporary" || strings.HasPrefix(name, ".spark-staging") || strings.HasPrefix(name, ".hive-staging")
}

// parseDateValue parses a partition value YYYY-MM-DD or YYYYMMDD.
func parseDateValue(v string) (billing.Date, bool, error) {
	if len(v) == 8 && !strings.Contains(v, "-") {
		t, err := time.Parse("20060102", v)
		if err != nil {
			return 0, true, err
		}
		return billing.NewDate(t.Date()), true, nil
	}
	dt, err := billing.ParseDate(v)
	return dt, false, err
}

// pathDate returns the date of the innermost date partition among the
// components of path itself (a dataset given as one partition or one file
// of it), 0 if none.
func pathDate(path string) billing.Date {
	var dt billing.Date
	for _, part := range strings.Split(filepath.ToSlash(filepath.Clean(path)), "/") {
		key, val, ok := strings.Cut(part, "=")
		if !ok || !dateKeys[key] {
			continue
		}
		if d, _, err := parseDateValue(val); err == nil {
			dt = d
		}
	}
	return dt
}

// utcSpan returns the first and last UTC dates of the local day in loc.
func utcSpan(day billing.Date, loc *time.Location) (billing.Date, billing.Date) {
	y, m, dd := day.YMD()
	first := time.Date(y, m, dd, 0, 0, 0, 0, loc)
	last := first.AddDate(0, 0, 1).Add(-time.Nanosecond)
	return billing.NewDate(first.UTC().Date()), billing.NewDate(last.UTC().Date())
}

// number sorts files by partition date then path and numbers them 0..n-1.
func number(files []File) []File {
	slices.SortFunc(files, func(a, b File) int {
		return cmp.Or(cmp.Compare(a.Dt, b.Dt), strings.Compare(a.Path, b.Path))
	})
	for i := range files {
		files[i].Index = int32(i)
	}
	return files
}

// dedup drops the repeats of a warning (a month= directory is consulted
// for each of the night's dates).
func dedup(warns []Warning) []Warning {
	var out []Warning
	for _, w := range warns {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
