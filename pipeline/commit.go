package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/pipeline/source"
	"github.com/creditrun/creditrun/pipeline/state"
	"github.com/creditrun/creditrun/report/daily"
	"github.com/creditrun/creditrun/scoring"
)

// Commit publishes every date from..to, in order, from the parts its n
// shards wrote (Options.Shard), exactly as a run of the whole book would
// publish it: the same tables (each the concatenation of the parts' in
// shard order, row groups copied without decoding), the rejects, the
// daily summary and the manifest of the book, and the state as one part
// per shard. Of the options it uses Out, Policy (which must be the parts'),
// MaxRejectRatio, Version and Log.
//
// It holds OUT/.lock and every shard's lock, so no part changes while it
// reads them. A missing part is ErrShardsMissing (retryable: its shard
// has not finished, or runs again) and publishes nothing; parts that do
// not belong together (other inputs, policy, start state or shard count)
// or do not add up to the book are ErrPartsDisagree; parts that continue
// from a part of the day before that is not published yet are ErrNoState. The book-level checks
// a shard cannot do are the commit's: the start state's totals,
// conservation over the book, the rejects threshold and PSI. Once a date
// is published its parts are removed.
func Commit(ctx context.Context, opt Options, from, to billing.Date, n int, progress func(*Manifest)) ([]*Manifest, error) {
	switch {
	case opt.Out == "":
		return nil, fmt.Errorf("%w: the output root is required (--out)", ErrUsage)
	case opt.Policy == nil:
		return nil, fmt.Errorf("%w: no policy", ErrUsage)
	case n < 1:
		return nil, fmt.Errorf("%w: --shards %d: want at least 1", ErrUsage, n)
	case to < from:
		return nil, fmt.Errorf("%w: --to %s is before --from %s", ErrUsage, to, from)
	}
	lock, err := acquireLock(opt.Out)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	for k := range n {
		l, err := acquireLock(shardLockDir(opt.Out, Shard{K: k, N: n}))
		if err != nil {
			return nil, fmt.Errorf("shard %d of %d is still running: %w", k, n, err)
		}
		defer l.Release()
	}
	if err := cleanWork(opt.Out); err != nil {
		return nil, err
	}
	e := &engine{opt: opt, log: opt.Log}
	var out []*Manifest
	for day := from; day <= to; day++ {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		m, err := e.commitDay(day, n)
		if err != nil {
			return out, fmt.Errorf("as_of %s: %w", day, err)
		}
		out = append(out, m)
		if progress != nil {
			progress(m)
		}
	}
	return out, nil
}

// commitDay publishes day from its n parts.
func (e *engine) commitDay(day billing.Date, n int) (*Manifest, error) {
	t0 := time.Now()
	parts, err := e.readParts(day, n)
	if err != nil {
		return nil, err
	}
	p0 := parts[0]
	m := &Manifest{Program: p0.Program, Version: p0.Version, AsOf: p0.AsOf, PolicyVersion: p0.PolicyVersion,
		PolicySource: p0.PolicySource, PolicyChangeFrom: p0.PolicyChangeFrom, StateFrom: p0.StateFrom,
		Inputs: p0.Inputs, Workers: p0.Workers, BucketSize: p0.BucketSize, TimingsMS: map[string]int64{}}

	// The book: the parts' sums, which must reconcile with the state
	// they started from and with the day's flows.
	var before, after billing.Total
	var flows billing.Flows
	var rowsRead int64
	m.Rows = map[string]int64{}
	m.Book = BookTotals{ByStatus: map[string]int{}}
	dist := e.opt.Policy.Scoring.NewDistribution()
	for _, p := range parts {
		b, err1 := billing.ParseMoney(p.Book.ExposureBefore)
		a, err2 := billing.ParseMoney(p.Book.Exposure)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("%w: %s: book: %w", ErrPartsDisagree, partName(e.opt.Out, day, p), err)
		}
		before.Add(b)
		after.Add(a)
		if err := flows.Add(flowsOf(p.Book.Flows)); err != nil {
			return nil, fmt.Errorf("the book's flows: %w", err)
		}
		rowsRead += p.RowsRead
		for t, r := range p.Rows {
			m.Rows[t] += r
		}
		m.Book.Accounts += p.Book.Accounts
		m.Book.Opened += p.Book.Opened
		for s, c := range p.Book.ByStatus {
			m.Book.ByStatus[s] += c
		}
		if p.Distribution != nil {
			dist.Merge(p.Distribution)
		}
	}
	if err := e.checkStart(day, parts); err != nil {
		return nil, err
	}
	if got, want := after.Minus(before), billing.TotalOf(flows.Net()); !got.Equal(want) {
		return nil, fmt.Errorf("%w: book exposure moved %s, the day's flows explain %s", billing.ErrNotConserved, got, want)
	}
	beforeM, ok1 := before.Money()
	afterM, ok2 := after.Money()
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%w: the book's exposure %s is beyond DECIMAL(18,2)", billing.ErrOutOfRange, after)
	}

	rejects := newRejectSpool(filepath.Join(e.opt.Out, workDir), day)
	defer rejects.close()
	for _, p := range parts {
		rs, err := pqfile.ReadFile[source.Reject](filepath.Join(PartDir(e.opt.Out, day, Shard{K: p.Shard, N: n}), TableRejects+".parquet"))
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrPartsDisagree, partName(e.opt.Out, day, p), err)
		}
		if err := rejects.WriteRejects(rs); err != nil {
			return nil, err
		}
	}
	m.setRejects(rejects.reasons, rejects.rows, rowsRead-rejects.rows)
	if err := e.checkRejects(day, m, rejects.rows); err != nil {
		path, werr := writeRefusedRejects(e.opt.Out, day, rejects)
		if werr != nil {
			return nil, fmt.Errorf("%w (and writing them failed: %v)", err, werr)
		}
		return nil, fmt.Errorf("%w; the rejected rows are in %s", err, path)
	}
	m.Rows[TableRejects] = rejects.rows
	m.Book.Exposure = after.String()
	m.Book.Flows = flowStrings(flows)

	baseline := e.opt.Policy.Scoring.BaselineDistribution()
	if baseline == nil && p0.Start.Baseline != "" {
		if baseline, err = state.ReadDistribution(p0.Start.Baseline); err != nil {
			return nil, err
		}
	}
	if baseline != nil {
		m.PSI = e.opt.Policy.Scoring.PSI(dist, baseline)
		for _, p := range m.PSI {
			if p.Warn {
				e.log.Warn().Str("as_of", day.String()).Str("characteristic", p.Name).Float64("psi", p.PSI).Msg("population shift above the policy's threshold")
			}
		}
	}
	summary, err := e.mergeDaily(day, parts, rejects, beforeM, afterM, flows, m.PSI, dist, baseline)
	if err != nil {
		return nil, err
	}
	m.Rows[TableDailySummary] = int64(len(summary))
	m.stage("check_parts", t0)

	t1 := time.Now()
	err = publish(e.opt.Out, day, true, func(dir string) error {
		var g errgroup.Group
		g.SetLimit(2)
		for _, t := range partTables {
			g.Go(func() error {
				srcs := make([]string, n)
				for k := range n {
					srcs[k] = filepath.Join(PartDir(e.opt.Out, day, Shard{K: k, N: n}), t+".parquet")
				}
				return pqfile.Concat(filepath.Join(dir, t+".parquet"), srcs)
			})
		}
		g.Go(func() error { return rejects.writeTable(filepath.Join(dir, TableRejects+".parquet")) })
		g.Go(func() error { return pqfile.WriteFile(filepath.Join(dir, TableDailySummary+".parquet"), summary) })
		g.Go(func() error { return e.commitState(filepath.Join(dir, "state"), day, parts, dist, afterM) })
		if err := g.Wait(); err != nil {
			return err
		}
		m.stage("concatenate", t1)
		m.stage("commit", t0)
		return pqfile.WriteJSON(filepath.Join(dir, ManifestFile), m)
	})
	if err != nil {
		return nil, err
	}
	// Published: the parts are history, those of other shard counts
	// for the date too.
	if err := os.RemoveAll(filepath.Join(e.opt.Out, shardsDir, "as_of="+day.String())); err != nil {
		return nil, err
	}
	e.log.Info().Str("stage", "commit").Str("as_of", day.String()).Int("shards", n).Int("accounts", m.Book.Accounts).
		Dur("took", time.Since(t0)).Msg("stage done")
	return m, nil
}

// partName names a part in errors.
func partName(out string, day billing.Date, p *Part) string {
	return PartDir(out, day, Shard{K: p.Shard, N: p.Shards})
}

// readParts reads the n parts of day and checks that they belong
// together: every one there, of the same date, shard count, inputs,
// policy (the commit's), start state and baseline, each with its own
// range and the files it lists.
func (e *engine) readParts(day billing.Date, n int) ([]*Part, error) {
	parts := make([]*Part, n)
	var missing []string
	for k := range n {
		s := Shard{K: k, N: n}
		p, err := ReadPart(e.opt.Out, day, s)
		if errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, fmt.Sprint(k))
			continue
		}
		if err != nil {
			return nil, err
		}
		parts[k] = p
	}
	if len(missing) > 0 {
		others := ""
		if counts := partCounts(e.opt.Out, day, n); len(counts) > 0 {
			others = fmt.Sprintf(" (parts of %s shards are there)", strings.Join(counts, ", "))
		}
		return nil, fmt.Errorf("%w: %d of %d parts not written: shard %s of %d (%s)%s", ErrShardsMissing, len(missing), n,
			strings.Join(missing, ", "), n, filepath.Dir(PartDir(e.opt.Out, day, Shard{N: n})), others)
	}
	p0 := parts[0]
	for k, p := range parts {
		name := partName(e.opt.Out, day, p)
		first, last := ShardRange(k, n)
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%w: %s: %s", ErrPartsDisagree, name, fmt.Sprintf(format, args...))
		}
		switch {
		case p.AsOf != day.String():
			return nil, bad("it is the part of %s", p.AsOf)
		case p.Shard != k || p.Shards != n || p.HashFirst != hexHash(first) || p.HashLast != hexHash(last):
			return nil, bad("it is shard %d of %d, hashes %s..%s; want shard %d of %d, %s..%s", p.Shard, p.Shards, p.HashFirst, p.HashLast, k, n, hexHash(first), hexHash(last))
		case p.PolicyVersion != e.opt.Policy.Version:
			return nil, bad("written under policy version %s (%s), the commit's policy is version %s (%s): commit with the shards' --policy, or run the shards again",
				p.PolicyVersion, p.PolicySource, e.opt.Policy.Version, e.opt.Policy.Source)
		case p.PolicyChangeFrom != p0.PolicyChangeFrom:
			return nil, bad("policy change from %q, shard 0's from %q", p.PolicyChangeFrom, p0.PolicyChangeFrom)
		case p.StateFrom != p0.StateFrom || p.Start.Baseline != p0.Start.Baseline:
			return nil, bad("it started from %s, shard 0 from %s", p.StateFrom, p0.StateFrom)
		case !slices.Equal(p.Inputs, p0.Inputs):
			return nil, bad("it read other inputs than shard 0 (%s): run the shards again on the same inputs", inputDiff(p.Inputs, p0.Inputs))
		case p.Daily == nil || p.Distribution == nil || p.Rows == nil:
			return nil, bad("%s is incomplete", PartFile)
		}
		for t, size := range p.Files {
			st, err := os.Stat(filepath.Join(name, t+".parquet"))
			if err != nil || st.Size() != size {
				return nil, bad("%s.parquet is not the file %s lists (%d bytes)", t, PartFile, size)
			}
		}
		for _, t := range append(partTables, TableRejects) {
			if _, ok := p.Files[t]; !ok {
				return nil, bad("%s lists no %s", PartFile, t)
			}
		}
	}
	return parts, nil
}

// inputDiff names the first input file two lists disagree on.
func inputDiff(a, b []InputFile) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("%s: %d bytes, sha256 %.12s…; shard 0's %s: %d bytes, sha256 %.12s…", a[i].Path, a[i].Size, a[i].SHA256, b[i].Path, b[i].Size, b[i].SHA256)
		}
	}
	return fmt.Sprintf("%d files, shard 0 %d", len(a), len(b))
}

// partCounts lists the other shard counts with parts of day in out.
func partCounts(out string, day billing.Date, n int) []string {
	entries, _ := os.ReadDir(filepath.Join(out, shardsDir, "as_of="+day.String()))
	var counts []string
	for _, en := range entries {
		if c, ok := strings.CutPrefix(en.Name(), "n="); ok && c != fmt.Sprint(n) {
			counts = append(counts, c)
		}
	}
	return counts
}

// checkStart proves the parts started from the state that is there now:
// each start file has the checksum the parts recorded (a state published
// since, or replaced by a rerun, is refused), and the accounts the shards
// read from a verified state sum to its totals.
func (e *engine) checkStart(day billing.Date, parts []*Part) error {
	type group struct {
		start    PartStart
		accounts int
		exposure billing.Total
		names    []string
	}
	groups := map[string]*group{}
	var order []string
	for _, p := range parts {
		name := partName(e.opt.Out, day, p)
		g := groups[p.Start.File]
		if g == nil {
			g = &group{start: p.Start}
			groups[p.Start.File] = g
			order = append(order, p.Start.File)
		} else if g.start != p.Start {
			return fmt.Errorf("%w: %s started from %s as %+v, another shard from the same file as %+v", ErrPartsDisagree, name, p.Start.File, p.Start, g.start)
		}
		b, err := billing.ParseMoney(p.Book.ExposureBefore)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrPartsDisagree, name, err)
		}
		g.accounts += p.Book.AccountsBefore
		g.exposure.Add(b)
		g.names = append(g.names, name)
	}
	for _, file := range order {
		g := groups[file]
		if file == "" {
			continue // an accounts master
		}
		path := file
		if !filepath.IsAbs(path) {
			path = filepath.Join(e.opt.Out, file)
		}
		sum, err := state.FileSHA256(path)
		if errors.Is(err, fs.ErrNotExist) {
			// The day before is not published yet: the dates of a
			// sharded backfill are committed in order.
			return fmt.Errorf("%w: %s started from %s, which is not there: commit %s first", ErrNoState, g.names[0], path, day-1)
		}
		if err != nil {
			return err
		}
		if sum != g.start.SHA256 {
			return fmt.Errorf("%w: %s started from %s with checksum %s; it is %s now (published again since): run the shards again", ErrPartsDisagree, g.names[0], path, g.start.SHA256, sum)
		}
		if g.start.Verified && (g.accounts != g.start.Accounts || g.exposure.String() != g.start.Exposure) {
			return fmt.Errorf("%w: %s: the accounts the shards read sum to %d accounts and %s of exposure, its %s says %d and %s",
				state.ErrBadState, path, g.accounts, g.exposure, state.InfoFile, g.start.Accounts, g.start.Exposure)
		}
	}
	return nil
}

// mergeDaily makes the night's daily summary from the parts' accumulators
// and the book's rejects, flows and PSI.
func (e *engine) mergeDaily(day billing.Date, parts []*Part, rejects *rejectSpool, before, after billing.Money, flows billing.Flows,
	psi []scoring.PSIResult, dist, baseline *scoring.Distribution) ([]daily.Row, error) {
	night := &daily.Night{Day: day}
	for _, g := range e.opt.Policy.Scoring.Grades {
		night.Grades = append(night.Grades, g.Name)
	}
	sum := daily.New(night)
	for _, p := range parts {
		s, err := daily.FromSnapshot(night, p.Daily)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrPartsDisagree, partName(e.opt.Out, day, p), err)
		}
		sum.Merge(s)
	}
	for k, n := range rejects.counts {
		for range n {
			sum.AddReject(k[0], k[1])
		}
	}
	sum.SetFlows(before, after, flows)
	sum.SetPSI(psi, dist, baseline)
	return sum.Rows(), nil
}

// commitState puts every part's state in dir as part=K-of-N/ (hard links
// to the part's files, which the publication leaves where they are until
// it is done) and writes the top level: the merged distribution and the
// _state.json that lists the parts.
func (e *engine) commitState(dir string, day billing.Date, parts []*Part, dist *scoring.Distribution, exposure billing.Money) error {
	n := len(parts)
	top := state.Sharded{Info: state.Info{AsOf: day.String(), PolicyVersion: parts[0].PolicyVersion, PolicyChange: parts[0].PolicyChangeFrom}}
	for k := range parts {
		src := filepath.Join(PartDir(e.opt.Out, day, Shard{K: k, N: n}), "state")
		info, err := state.ReadInfo(src)
		if err != nil {
			return err
		}
		sum, err := state.FileSHA256(filepath.Join(src, state.InfoFile))
		if err != nil {
			return err
		}
		name := state.PartName(k, n)
		if err := linkDir(src, filepath.Join(dir, name)); err != nil {
			return err
		}
		first, last := ShardRange(k, n)
		top.Parts = append(top.Parts, state.PartInfo{Name: name, Shard: k, Shards: n, HashFirst: hexHash(first), HashLast: hexHash(last),
			Accounts: info.Accounts, Exposure: info.Exposure, SHA256: sum})
		top.Accounts += info.Accounts
	}
	top.Exposure = exposure.String()
	return state.WriteSharded(dir, top, dist)
}

// linkDir makes dst a directory of hard links to src's files (copies where
// the filesystem links none), durably.
func linkDir(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, en := range entries {
		from, to := filepath.Join(src, en.Name()), filepath.Join(dst, en.Name())
		if err := os.Link(from, to); err != nil {
			if err := copyFile(from, to); err != nil {
				return err
			}
		}
	}
	return syncDir(dst)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
