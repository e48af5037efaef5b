package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/pipeline/source"
	"github.com/creditrun/creditrun/pipeline/state"
	"github.com/creditrun/creditrun/report/daily"
	"github.com/creditrun/creditrun/scoring"
)

// Shard is the part of the book a sharded run closes: shard K of N. The
// zero value (N == 0) is the whole book, published by the run itself; a
// sharded run writes its part under OUT/_shards/ instead, and Commit
// publishes the date from the N parts.
//
// Which shard owns an account is a function of its account_id alone:
//
//	h = ShardHash(account_id)   // SplitMix64's finaliser of the id as uint64
//	k = ⌊h · N / 2^64⌋          // the high word of the 128-bit product
//
// so shard K of N owns the hashes [⌈K·2^64/N⌉, ⌈(K+1)·2^64/N⌉): a range
// of the hash space. A book's shard count may change from one night to
// the next: shard K of N reads only the parts of the previous night whose
// ranges meet its own.
type Shard struct {
	K, N int
}

// ShardHash is SplitMix64's finaliser applied to the account id read as an
// unsigned 64-bit integer (two's complement):
//
//	z = uint64(id) + 0x9E3779B97F4A7C15
//	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
//	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
//	h = z ^ (z >> 31)
//
// every product modulo 2^64. In SQL (DuckDB, with UBIGINT arithmetic that
// wraps) or in any language with 64-bit unsigned integers it is three
// lines; docs/contract.md gives one.
func ShardHash(id int64) uint64 {
	z := uint64(id) + 0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// ShardOf returns the shard of n that owns account id.
func ShardOf(id int64, n int) int {
	hi, _ := bits.Mul64(ShardHash(id), uint64(n))
	return int(hi)
}

// ShardRange returns the first and last hash (inclusive) that shard k of n
// owns.
func ShardRange(k, n int) (first, last uint64) {
	first = rangeStart(k, n)
	if k+1 == n {
		return first, math.MaxUint64
	}
	return first, rangeStart(k+1, n) - 1
}

// rangeStart is ⌈k·2^64/n⌉ for 0 ≤ k < n.
func rangeStart(k, n int) uint64 {
	q, r := bits.Div64(uint64(k), 0, uint64(n))
	if r != 0 {
		q++
	}
	return q
}

// Sharded reports whether s is a part of the book rather than all of it.
func (s Shard) Sharded() bool { return s.N > 0 }

// Owns reports whether account id is s's.
func (s Shard) Owns(id int64) bool { return !s.Sharded() || ShardOf(id, s.N) == s.K }

// overlaps reports whether part k of n of a sharded state holds accounts
// of s.
func (s Shard) overlaps(k, n int) bool {
	if !s.Sharded() {
		return true
	}
	a0, a1 := ShardRange(s.K, s.N)
	b0, b1 := ShardRange(k, n)
	return a0 <= b1 && b0 <= a1
}

func (s Shard) String() string { return fmt.Sprintf("shard %d of %d", s.K, s.N) }

func (s Shard) validate() error {
	if s.N == 0 && s.K == 0 {
		return nil
	}
	if s.N < 1 || s.K < 0 || s.K >= s.N {
		return fmt.Errorf("%w: --shard %d --shards %d: want 0 ≤ shard < shards", ErrUsage, s.K, s.N)
	}
	return nil
}

// hexHash writes a hash as the state and the parts record it.
func hexHash(h uint64) string { return "0x" + strconv.FormatUint(h, 16) }

// Where the parts of a sharded night are written, under OUT/_shards/: an
// underscore directory, which no reader's glob of published dates sees.
const shardsDir = "_shards"

// PartFile is the file of a part that says what the shard did: what Commit
// checks and merges.
const PartFile = "_part.json"

// PartDir returns OUT/_shards/as_of=D/n=N/k=K, where shard K of N writes
// its part of D.
func PartDir(out string, day billing.Date, s Shard) string {
	return filepath.Join(out, shardsDir, "as_of="+day.String(), "n="+strconv.Itoa(s.N), "k="+strconv.Itoa(s.K))
}

// lockFor takes the lock a run holds: OUT/.lock for a run of the whole
// book; for a shard, a lock of its own (shards of one night run at once),
// which the commit takes too, so that no part changes while it reads them.
func lockFor(opt Options) (*Lock, error) {
	if !opt.Shard.Sharded() {
		return acquireLock(opt.Out)
	}
	return acquireLock(shardLockDir(opt.Out, opt.Shard))
}

func shardLockDir(out string, s Shard) string {
	return filepath.Join(out, shardsDir, ".locks", "n="+strconv.Itoa(s.N), "k="+strconv.Itoa(s.K))
}

// cleanFor removes what interrupted runs left: a run of the whole book
// cleans OUT/_work/; a shard empties its own work directory (it holds the
// shard's lock) and removes its own unfinished parts when it writes them
// again (writePart), leaving the rest to the commit.
func cleanFor(opt Options) error {
	if opt.Shard.Sharded() {
		return os.RemoveAll(scratchDir(opt))
	}
	return cleanWork(opt.Out)
}

// scratchDir is where a run spills what it holds no room for (its
// rejects): OUT/_work/ for the whole book; for a shard, a directory of its
// own under OUT/_shards/.work/, since shards run at once and their
// processes may share a pid on different hosts.
func scratchDir(opt Options) string {
	if !opt.Shard.Sharded() {
		return filepath.Join(opt.Out, workDir)
	}
	s := opt.Shard
	return filepath.Join(opt.Out, shardsDir, ".work", "n="+strconv.Itoa(s.N), "k="+strconv.Itoa(s.K))
}

// chainState is where a sharded backfill's day starts from after its
// first: the state its own part of the day before holds (unless the book
// is kept in memory). "" for a run of the whole book, which reads what the
// day before published.
func (e *engine) chainState(day billing.Date) string {
	if !e.opt.Shard.Sharded() {
		return ""
	}
	return filepath.Join(PartDir(e.opt.Out, day-1, e.opt.Shard), "state")
}

// publishDay publishes the day (a run of the whole book) or writes the
// shard's part of it.
func (e *engine) publishDay(day billing.Date, keepState bool, fill func(dir string) error) error {
	if !e.opt.Shard.Sharded() {
		return publish(e.opt.Out, day, keepState, fill)
	}
	return writePart(e.opt.Out, day, e.opt.Shard, fill)
}

// writePart writes shard s's part of day atomically: fill writes into a
// fresh directory beside the part's, which, made durable, takes the
// part's place in one rename (an exchange when an earlier attempt left a
// part). A failure leaves an earlier part as it was.
func writePart(out string, day billing.Date, s Shard, fill func(dir string) error) error {
	final := PartDir(out, day, s)
	parent := filepath.Dir(final)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	prefix := "." + filepath.Base(final) + ".tmp-"
	if entries, err := os.ReadDir(parent); err == nil {
		for _, en := range entries { // what an interrupted attempt of this shard left
			if strings.HasPrefix(en.Name(), prefix) {
				if err := os.RemoveAll(filepath.Join(parent, en.Name())); err != nil {
					return err
				}
			}
		}
	}
	tmp := filepath.Join(parent, prefix+strconv.Itoa(os.Getpid()))
	if err := os.MkdirAll(filepath.Join(tmp, "state"), 0o755); err != nil {
		return err
	}
	fail := func(err error) error {
		os.RemoveAll(tmp)
		return err
	}
	if err := fill(tmp); err != nil {
		return fail(err)
	}
	crashpoint(CrashFilled)
	if err := errors.Join(syncDirs(filepath.Join(tmp, "state"), tmp, parent)...); err != nil {
		return fail(err)
	}
	err := exchange(tmp, final)
	switch {
	case err == nil:
	case errors.Is(err, syscall.ENOENT):
		if err := os.Rename(tmp, final); err != nil {
			return fail(err)
		}
	default:
		// No atomic exchange: the earlier part goes first. A crash in
		// between leaves the part missing, which the commit reports as
		// missing (retryable) until this shard runs again.
		if err := os.RemoveAll(final); err != nil {
			return fail(err)
		}
		if err := os.Rename(tmp, final); err != nil {
			return fail(err)
		}
	}
	if err := syncDir(parent); err != nil {
		return err
	}
	return os.RemoveAll(tmp) // after an exchange, the earlier part
}

// narrow narrows the night's readers to s's accounts: the events and the
// accounts feed's rows of its accounts are decoded, and another account's
// row only as far as its account_id and id (source.Rules.Owns). A reader's
// reject of a row is the shard's that owns the row's account; the rows no
// shard owns (those without a usable account id, the incidents' rejects,
// which concern the whole book) are shard 0's, so that the rejects of the
// N parts are those of the whole book, each once.
func (s Shard) narrow(rules *source.Rules) {
	if !s.Sharded() {
		return
	}
	rules.Owns, rules.Unowned = s.Owns, s.K == 0
}

// known is the book's account ids by which a night rejects events of
// unknown accounts as it reads them; none for a shard, which leaves its
// own accounts' unknown events to the daily step.
func (s Shard) known(ids []int64) []int64 {
	if s.Sharded() {
		return nil
	}
	return ids
}

// shardStream passes on the accounts of inner that s owns, in order.
type shardStream struct {
	inner accountStream
	s     Shard
	buf   []billing.Account
}

func (f *shardStream) Read(buf []billing.Account) (int, error) {
	if len(f.buf) < len(buf) {
		f.buf = make([]billing.Account, len(buf))
	}
	for {
		n, err := f.inner.Read(f.buf[:len(buf)])
		k := 0
		for i := range f.buf[:n] {
			if f.s.Owns(f.buf[i].ID) {
				buf[k] = f.buf[i]
				k++
			}
		}
		clear(f.buf[:n])
		if k > 0 {
			return k, nil
		}
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, io.EOF
		}
	}
}

// shardBook narrows the book a day starts from to the shard's accounts.
func (e *engine) shardBook(b *opened) {
	if _, done := b.stream.(*shardStream); e.opt.Shard.Sharded() && !done {
		b.stream = &shardStream{inner: b.stream, s: e.opt.Shard}
	}
}

// mergeStream merges the account streams of a sharded state's parts,
// each in account order, into one in account order.
type mergeStream struct {
	srcs []*partCursor
}

type partCursor struct {
	r       accountStream
	buf     []billing.Account
	i, n    int
	eof     bool
	lastID  int64
	started bool
	name    string
}

// head returns the next account of c, nil when it is exhausted.
func (c *partCursor) head() (*billing.Account, error) {
	for c.i == c.n && !c.eof {
		n, err := c.r.Read(c.buf)
		if n == 0 && errors.Is(err, io.EOF) {
			c.eof = true
			break
		}
		if err != nil {
			return nil, err
		}
		c.i, c.n = 0, n
	}
	if c.i == c.n {
		return nil, nil
	}
	return &c.buf[c.i], nil
}

func (m *mergeStream) Read(buf []billing.Account) (int, error) {
	k := 0
	for k < len(buf) {
		var best *partCursor
		var bestA *billing.Account
		for _, c := range m.srcs {
			a, err := c.head()
			if err != nil {
				return k, err
			}
			if a != nil && (bestA == nil || a.ID < bestA.ID) {
				best, bestA = c, a
			}
		}
		if best == nil {
			break
		}
		if best.started && bestA.ID <= best.lastID {
			return k, fmt.Errorf("%w: %s: account %d after %d", state.ErrBadState, best.name, bestA.ID, best.lastID)
		}
		if k > 0 && bestA.ID <= buf[k-1].ID {
			return k, fmt.Errorf("%w: %s: account %d is in two parts", state.ErrBadState, best.name, bestA.ID)
		}
		best.started, best.lastID = true, bestA.ID
		buf[k] = *bestA
		*bestA = billing.Account{}
		best.i++
		k++
	}
	if k == 0 {
		return 0, io.EOF
	}
	return k, nil
}

// openParts opens a sharded state in path (the state as of day−1): the
// parts whose hash ranges meet the run's shard (all of them for a run of
// the whole book), each verified, merged by account id and narrowed to
// the shard's accounts.
func (e *engine) openParts(path string, day billing.Date, explicit bool) (*opened, error) {
	start := time.Now()
	top, err := state.ReadSharded(path)
	if err != nil {
		return nil, err
	}
	change, err := e.checkStartState(path, day, explicit, top.AsOf, top.PolicyVersion)
	if err != nil {
		return nil, err
	}
	if err := state.VerifyTop(path, top); err != nil {
		return nil, err
	}
	var dist *scoring.Distribution
	if !e.opt.Shard.Sharded() { // a shard's PSI is the commit's
		if dist, err = state.ReadDistribution(path); err != nil {
			return nil, err
		}
	}
	m := &mergeStream{}
	closeAll := func() {
		for _, c := range m.srcs {
			c.r.(*state.Reader).Close()
		}
	}
	for _, p := range top.Parts {
		if !e.opt.Shard.overlaps(p.Shard, p.Shards) {
			continue
		}
		if _, err := state.OpenPart(path, top, p); err != nil {
			closeAll()
			return nil, err
		}
		r, err := state.Open(filepath.Join(path, p.Name))
		if err != nil {
			closeAll()
			return nil, err
		}
		m.srcs = append(m.srcs, &partCursor{r: r, buf: make([]billing.Account, e.opt.BucketSize), name: filepath.Join(path, p.Name)})
	}
	e.log.Info().Str("stage", "open_state").Str("from", path).Int("parts", len(m.srcs)).Int("of", len(top.Parts)).
		Int("accounts", top.Accounts).Dur("took", time.Since(start)).Msg("stage done")
	var stream accountStream = m
	if e.opt.Shard.Sharded() {
		stream = &shardStream{inner: m, s: e.opt.Shard}
	}
	return &opened{stream: stream, from: path, baseline: dist, accounts: top.Accounts, close: closeAll,
		verified: true, exposure: top.Exposure, policyChange: change}, nil
}

// Part is a shard's _part.json: everything the commit needs to check that
// the N parts of a night belong together and to publish it as one.
type Part struct {
	Program string `json:"program"`
	Version string `json:"version"`
	AsOf    string `json:"as_of"`
	Shard   int    `json:"shard"`
	Shards  int    `json:"shards"`
	// HashFirst and HashLast bound the account-id hashes the shard owns.
	HashFirst        string      `json:"hash_first"`
	HashLast         string      `json:"hash_last"`
	PolicyVersion    string      `json:"policy_version"`
	PolicySource     string      `json:"policy_source"`
	PolicyChangeFrom string      `json:"policy_change_from,omitempty"`
	StateFrom        string      `json:"state_from"`
	Start            PartStart   `json:"start"`
	Inputs           []InputFile `json:"inputs"`
	// RowsRead are the input rows that are the shard's: the events of its
	// accounts, the rows of them the readers rejected and, in shard 0, the
	// rejected rows no shard owns.
	RowsRead int64            `json:"rows_read"`
	Rows     map[string]int64 `json:"rows"`
	Files    map[string]int64 `json:"files"` // the part's tables, by name: their sizes
	Book     PartBook         `json:"book"`
	Rejects  int              `json:"rejects"`
	// Distribution is the score distribution of the shard's accounts.
	Distribution *scoring.Distribution `json:"distribution"`
	// Daily are the accumulators of the daily summary of its accounts.
	Daily      *daily.Snapshot  `json:"daily"`
	Workers    int              `json:"workers"`
	BucketSize int              `json:"bucket_size"`
	TimingsMS  map[string]int64 `json:"timings_ms"`
}

// PartStart is the state a shard started from: the file whose checksum the
// commit compares (relative to OUT when it is inside it; empty for an
// accounts master), and, when it is a verified snapshot, the totals that
// the accounts read from it by the shards that share it must sum to.
type PartStart struct {
	File     string `json:"file,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	Verified bool   `json:"verified"`
	Accounts int    `json:"accounts"`
	Exposure string `json:"exposure,omitempty"`
	// Baseline is the state whose distribution is the night's PSI
	// baseline (when the policy names none): empty for a first night.
	Baseline string `json:"baseline,omitempty"`
}

// PartBook is the shard's share of the book: before the day (the
// accounts it read, not those the feed opened) and after it, its flows in
// fen.
type PartBook struct {
	AccountsBefore int              `json:"accounts_before"`
	ExposureBefore string           `json:"exposure_before"`
	Accounts       int              `json:"accounts"`
	Opened         int              `json:"opened"`
	ByStatus       map[string]int   `json:"by_status"`
	Exposure       string           `json:"exposure"`
	Flows          map[string]int64 `json:"flows"`
}

// flowsFen and flowsOf convert flows to and from the part's map.
func flowsFen(f billing.Flows) map[string]int64 {
	return map[string]int64{"purchases": int64(f.Purchases), "fees": int64(f.Fees), "revolving_fees": int64(f.Revolving),
		"penalties": int64(f.Penalties), "payments": int64(f.Payments), "refunds": int64(f.Refunds),
		"fee_reversals": int64(f.FeeReversal), "charged_off": int64(f.ChargedOff), "recoveries": int64(f.Recoveries)}
}

func flowsOf(m map[string]int64) billing.Flows {
	return billing.Flows{Purchases: billing.Money(m["purchases"]), Fees: billing.Money(m["fees"]), Revolving: billing.Money(m["revolving_fees"]),
		Penalties: billing.Money(m["penalties"]), Payments: billing.Money(m["payments"]), Refunds: billing.Money(m["refunds"]),
		FeeReversal: billing.Money(m["fee_reversals"]), ChargedOff: billing.Money(m["charged_off"]), Recoveries: billing.Money(m["recoveries"])}
}

// partTables are the tables a part holds and the commit concatenates.
var partTables = []string{TableStatements, TableStatementLines, TablePlans, TableDelinquency, TableScores,
	TableCycleFeatures, TableLimitDecisions, TableNotices, TableBureau, TableOffers}

// finishPart completes a shard's part: the checks of its own accounts
// (conservation of its exposure), its rejects, its state part and the
// _part.json the commit merges. The book-level checks (the state's
// totals, conservation over the book, the rejects threshold, PSI) are the
// commit's.
func (e *engine) finishPart(dir string, day billing.Date, ev *dayEvents, w *dayWriter, b *opened, m *Manifest) error {
	if got, want := w.after.Minus(w.before), billing.TotalOf(w.flows.Net()); !got.Equal(want) {
		return fmt.Errorf("%w: %s: its exposure moved %s, the day's flows explain %s", billing.ErrNotConserved, e.opt.Shard, got, want)
	}
	before, ok1 := w.before.Money()
	after, ok2 := w.after.Money()
	if !ok1 || !ok2 {
		return fmt.Errorf("%w: %s: exposure %s is beyond DECIMAL(18,2)", billing.ErrOutOfRange, e.opt.Shard, w.after)
	}
	rejects := ev.rejects
	w.rows[TableRejects] = rejects.rows
	s := e.opt.Shard
	first, last := ShardRange(s.K, s.N)
	prev := day - 1
	p := &Part{Program: m.Program, Version: m.Version, AsOf: m.AsOf, Shard: s.K, Shards: s.N,
		HashFirst: hexHash(first), HashLast: hexHash(last), PolicyVersion: m.PolicyVersion, PolicySource: m.PolicySource,
		PolicyChangeFrom: m.PolicyChangeFrom, StateFrom: m.StateFrom, Inputs: m.Inputs,
		RowsRead: int64(ev.rows()) - rejects.events + rejects.rows, Rows: w.rows, Files: map[string]int64{},
		Book: PartBook{AccountsBefore: w.book.Accounts - w.opened, ExposureBefore: before.String(), Accounts: w.book.Accounts,
			Opened: w.opened, ByStatus: w.book.ByStatus, Exposure: after.String(), Flows: flowsFen(w.flows)},
		Rejects: int(rejects.rows), Distribution: w.dist, Daily: w.daily.Snapshot(),
		Workers: m.Workers, BucketSize: m.BucketSize, TimingsMS: m.TimingsMS}
	// Where the shard started from, as the commit will find it.
	chain := e.chainState(day)
	switch {
	case b.from == chain || (b.from == StateDir(e.opt.Out, prev) && !b.verified):
		// The shard's own part of the day before (read back, or kept
		// in memory): the commit of that day published it as its part.
		p.StateFrom = StateDir(e.opt.Out, prev)
		sum, err := state.FileSHA256(filepath.Join(e.chainState(day), state.InfoFile))
		if err != nil {
			return fmt.Errorf("%w: the part of %s this shard continues from: %w", state.ErrBadState, prev, err)
		}
		p.Start = PartStart{File: filepath.Join("as_of="+prev.String(), "state", state.PartName(s.K, s.N), state.InfoFile), SHA256: sum,
			Verified: b.verified, Accounts: b.accounts, Exposure: b.exposure, Baseline: StateDir(e.opt.Out, prev)}
	case state.IsSnapshot(b.from):
		file := filepath.Join(b.from, state.InfoFile)
		sum, err := state.FileSHA256(file)
		if err != nil {
			return fmt.Errorf("%w: %w", state.ErrBadState, err)
		}
		if rel, err := filepath.Rel(e.opt.Out, file); err == nil && !strings.HasPrefix(rel, "..") {
			file = rel
		}
		p.Start = PartStart{File: file, SHA256: sum, Verified: b.verified, Accounts: b.accounts, Exposure: b.exposure, Baseline: b.from}
	default: // an accounts master: a first night, no baseline
		p.Start = PartStart{Accounts: b.accounts}
	}
	var g errgroup.Group
	g.Go(func() error { return rejects.writeTable(filepath.Join(dir, TableRejects+".parquet")) })
	g.Go(func() error {
		return w.state.Finish(state.Info{AsOf: day.String(), PolicyVersion: e.opt.Policy.Version, PolicyChange: b.policyChange,
			Accounts: w.book.Accounts, Exposure: w.after.String()}, w.dist)
	})
	if err := g.Wait(); err != nil {
		return err
	}
	for _, t := range append(partTables, TableRejects) {
		st, err := os.Stat(filepath.Join(dir, t+".parquet"))
		if err != nil {
			return err
		}
		p.Files[t] = st.Size()
	}
	return pqfile.WriteJSON(filepath.Join(dir, PartFile), p)
}

// ReadPart reads the _part.json of shard s's part of day in out.
func ReadPart(out string, day billing.Date, s Shard) (*Part, error) {
	path := filepath.Join(PartDir(out, day, s), PartFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p Part
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrPartsDisagree, path, err)
	}
	return &p, nil
}

// priorDir is where the month end end's tables are for the daily summary
// of a night: its publication, or, for a shard whose backfill wrote that
// month end and has not been committed yet, its own part of it (which
// holds every account the shard looks up).
func (e *engine) priorDir(end billing.Date) (string, bool) {
	if Published(e.opt.Out, end) {
		return PartitionDir(e.opt.Out, end), true
	}
	if e.opt.Shard.Sharded() {
		dir := PartDir(e.opt.Out, end, e.opt.Shard)
		if _, err := os.Stat(filepath.Join(dir, PartFile)); err == nil {
			return dir, true
		}
	}
	return "", false
}

// readStateAccounts reads the accounts table of the state in dir: a
// snapshot's, or every part's of a sharded one, in part order.
func readStateAccounts(dir string) ([]state.AccountRow, error) {
	files := []string{filepath.Join(dir, state.AccountsFile)}
	if state.IsSharded(dir) {
		top, err := state.ReadSharded(dir)
		if err != nil {
			return nil, err
		}
		files = files[:0]
		for _, p := range top.Parts {
			files = append(files, filepath.Join(dir, p.Name, state.AccountsFile))
		}
	}
	var rows []state.AccountRow
	for _, path := range files {
		rs, err := pqfile.ReadFile[state.AccountRow](path)
		if err != nil {
			return nil, fmt.Errorf("%w: read state accounts %s: %w", ErrBadInput, path, err)
		}
		rows = append(rows, rs...)
	}
	return rows, nil
}

// openWholeState opens the state in dir, a snapshot or every part of a
// sharded one merged by account id, as one stream in account order.
func openWholeState(dir string, bucket int) (accountStream, func(), error) {
	if !state.IsSharded(dir) {
		r, err := state.Open(dir)
		if err != nil {
			return nil, nil, err
		}
		return r, r.Close, nil
	}
	top, err := state.ReadSharded(dir)
	if err != nil {
		return nil, nil, err
	}
	m := &mergeStream{}
	closeAll := func() {
		for _, c := range m.srcs {
			c.r.(*state.Reader).Close()
		}
	}
	for _, p := range top.Parts {
		r, err := state.Open(filepath.Join(dir, p.Name))
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		m.srcs = append(m.srcs, &partCursor{r: r, buf: make([]billing.Account, bucket), name: filepath.Join(dir, p.Name)})
	}
	return m, closeAll, nil
}
