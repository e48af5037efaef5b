package pipeline

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/scoring"

	"github.com/creditrun/creditrun/pipeline/pqfile"
)

// OutcomeOptions say what "bad" means for the accounts scored on a date.
type OutcomeOptions struct {
	// Window is the number of days after the date the outcome is followed
	// over; every one of them must be published.
	Window int
	// BadDPD: an account is bad once it is BadDPD or more days past due on
	// a date of the window, or charged off in it.
	BadDPD int32
	// Labels, when set, is a file of account_id, bad (Parquet or CSV) that
	// gives the outcome instead of the book.
	Labels string
}

// Sample is the accounts scored on Day with their features and outcome.
type Sample struct {
	Day  billing.Date
	Rows []scoring.ScoreRow
	// Features[i] and Bad[i] are those of Rows[i].
	Features []scoring.Features
	Bad      []bool
	// AlreadyBad counts the scored accounts left out because they were bad
	// on Day already (BadDPD or more days past due, or charged off): their
	// outcome is no prediction. Unlabelled counts those a labels file has
	// no label for.
	AlreadyBad, Unlabelled int
	// Outcome describes where the outcome came from, for a report.
	Outcome string
}

// IDs returns the account ids of the sample, in order.
func (s *Sample) IDs() []int64 {
	ids := make([]int64, len(s.Rows))
	for i := range s.Rows {
		ids[i] = s.Rows[i].AccountID
	}
	return ids
}

// ReadScores reads the published scores table of day and, for each of its
// rows, the cycle_features row it names (features_on, a night on or before
// day): together, every feature of the accounts scored on day.
func ReadScores(out string, day billing.Date) ([]scoring.ScoreRow, []scoring.CycleFeaturesRow, error) {
	if !Published(out, day) {
		return nil, nil, fmt.Errorf("%w: %s is not published (no %s)", ErrInputMissing, PartitionDir(out, day), SuccessFile)
	}
	path := filepath.Join(PartitionDir(out, day), TableScores+".parquet")
	rows, err := pqfile.ReadFile[scoring.ScoreRow](path)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: read scores %s: %w", ErrBadInput, path, err)
	}
	// The rows of each night named, by account.
	need := map[billing.Date]map[int64]int{}
	for i := range rows {
		on := rows[i].FeaturesOn
		if on > day || on == 0 {
			return nil, nil, fmt.Errorf("%w: %s row %d (account %d): features_on %s: want a night on or before %s",
				ErrBadInput, path, i, rows[i].AccountID, on, day)
		}
		if need[on] == nil {
			need[on] = map[int64]int{}
		}
		need[on][rows[i].AccountID] = i
	}
	features := make([]scoring.CycleFeaturesRow, len(rows))
	for _, on := range slices.Sorted(maps.Keys(need)) {
		if !Published(out, on) {
			return nil, nil, fmt.Errorf("%w: the scores of %s name the cycle features of %s, which is not published (no %s in %s)",
				ErrInputMissing, day, on, SuccessFile, PartitionDir(out, on))
		}
		fpath := filepath.Join(PartitionDir(out, on), TableCycleFeatures+".parquet")
		frows, err := pqfile.ReadFile[scoring.CycleFeaturesRow](fpath)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: read cycle features %s: %w", ErrBadInput, fpath, err)
		}
		ids := need[on]
		for _, f := range frows {
			if i, ok := ids[f.AccountID]; ok {
				features[i] = f
				delete(ids, f.AccountID)
			}
		}
		if len(ids) > 0 { // the first row left without its features, named
			i := slices.Min(slices.Collect(maps.Values(ids)))
			return nil, nil, fmt.Errorf("%w: %s row %d (account %d) names the cycle features of %s, which %s has no row of",
				ErrBadInput, path, i, rows[i].AccountID, on, fpath)
		}
	}
	return rows, features, nil
}

// LoadSample reads the accounts scored on day in out with their features
// and their outcome: from the book (the delinquency tables of every date of
// the window and the charge-offs in the state at its end), or from
// o.Labels. Accounts already bad on day are left out.
func LoadSample(out string, day billing.Date, o OutcomeOptions) (*Sample, error) {
	rows, cycles, err := ReadScores(out, day)
	if err != nil {
		return nil, err
	}
	// A sharded night's rows are in account order within each shard's:
	// the sample is in account order whatever the night's shard count.
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(rows[i].AccountID, rows[j].AccountID) })
	s := &Sample{Day: day}
	stateAt, err := readAccounts(out, day)
	if err != nil {
		return nil, err
	}
	var bad map[int64]bool
	if o.Labels != "" {
		if bad, err = ReadLabels(o.Labels); err != nil {
			return nil, err
		}
		s.Outcome = "labels " + o.Labels
	} else {
		if o.Window < 1 {
			return nil, fmt.Errorf("%w: outcome window %d days: want ≥ 1", ErrUsage, o.Window)
		}
		if o.BadDPD < 1 {
			return nil, fmt.Errorf("%w: bad DPD %d: want ≥ 1", ErrUsage, o.BadDPD)
		}
		if bad, err = bookOutcomes(out, day, o.Window, o.BadDPD); err != nil {
			return nil, err
		}
		s.Outcome = fmt.Sprintf("%d+ days past due or charged off in (%s, %s]", o.BadDPD, day, day.AddDays(o.Window))
	}
	path := filepath.Join(PartitionDir(out, day), TableScores+".parquet")
	for _, i := range order { // i: the row's place in the file, as an error names it
		r := &rows[i]
		if o.Labels == "" && (r.CurrentDPD >= o.BadDPD || stateAt[r.AccountID]) {
			s.AlreadyBad++
			continue
		}
		b, ok := bad[r.AccountID]
		if o.Labels != "" && !ok {
			s.Unlabelled++
			continue
		}
		f, err := r.Features(&cycles[i])
		if err != nil {
			return nil, fmt.Errorf("%w: %s row %d (account %d): %w", ErrBadInput, path, i, r.AccountID, err)
		}
		s.Rows = append(s.Rows, *r)
		s.Features = append(s.Features, f)
		s.Bad = append(s.Bad, b)
	}
	return s, nil
}

// readAccounts returns the accounts of the state published on day that are
// charged off.
func readAccounts(out string, day billing.Date) (map[int64]bool, error) {
	rows, err := readStateAccounts(StateDir(out, day))
	if err != nil {
		return nil, err
	}
	off := map[int64]bool{}
	for i := range rows {
		if rows[i].ChargedOff > 0 {
			off[rows[i].AccountID] = true
		}
	}
	return off, nil
}

// bookOutcomes follows the book over (day, day+window]: an account is bad
// when a delinquency row of a date in the window has dpd ≥ badDPD, or when
// the state at the window's end shows it charged off in the window. Every
// date of the window must be published: a default could hide in a gap.
func bookOutcomes(out string, day billing.Date, window int, badDPD int32) (map[int64]bool, error) {
	end := day.AddDays(window)
	for d := day + 1; d <= end; d++ {
		if !Published(out, d) {
			return nil, fmt.Errorf("%w: the outcome window (%s, %s] has a gap: %s is not published", ErrInputMissing, day, end, PartitionDir(out, d))
		}
	}
	bad := map[int64]bool{}
	for d := day + 1; d <= end; d++ {
		path := filepath.Join(PartitionDir(out, d), TableDelinquency+".parquet")
		rows, err := pqfile.ReadFile[billing.DelinquencyRow](path)
		if err != nil {
			return nil, fmt.Errorf("%w: read delinquency %s: %w", ErrBadInput, path, err)
		}
		for i := range rows {
			if rows[i].DPD >= badDPD {
				bad[rows[i].AccountID] = true
			}
		}
	}
	rows, err := readStateAccounts(StateDir(out, end))
	if err != nil {
		return nil, err
	}
	for i := range rows {
		r := &rows[i]
		if r.ChargedOff > 0 && r.ClosedOn != nil && *r.ClosedOn > day && *r.ClosedOn <= end {
			bad[r.AccountID] = true
		}
	}
	return bad, nil
}

// A LabelError is a labels file row that cannot be read.
type LabelError struct {
	File   string
	Row    int // 1-based, the header not counted
	Column string
	Msg    string
}

func (e *LabelError) Error() string {
	return fmt.Sprintf("%s: row %d, column %s: %s", e.File, e.Row, e.Column, e.Msg)
}

func (e *LabelError) Unwrap() error { return ErrBadInput }

// ReadLabels reads a labels file: columns account_id (a whole number) and
// bad (true/false or 1/0), in Parquet (by its magic bytes) or CSV with a
// header. An account labelled twice is an error.
func ReadLabels(path string) (map[int64]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: labels: %w", ErrUsage, err)
	}
	defer f.Close()
	magic := make([]byte, 4)
	if _, err := io.ReadFull(f, magic); err == nil && string(magic) == "PAR1" {
		return readParquetLabels(f, path)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("%w: labels %s: %w", ErrBadInput, path, err)
	}
	return readCSVLabels(f, path)
}

func readCSVLabels(r io.Reader, path string) (map[int64]bool, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: labels %s: no header: %w", ErrBadInput, path, err)
	}
	idCol, badCol := -1, -1
	for i, h := range head {
		switch strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) {
		case "account_id":
			idCol = i
		case "bad":
			badCol = i
		}
	}
	if idCol < 0 || badCol < 0 {
		return nil, fmt.Errorf("%w: labels %s: header %q: want columns account_id and bad", ErrBadInput, path, head)
	}
	out := map[int64]bool{}
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: labels %s: %w", ErrBadInput, path, err)
		}
		id, err := strconv.ParseInt(strings.TrimSpace(rec[idCol]), 10, 64)
		if err != nil {
			return nil, &LabelError{path, row, "account_id", fmt.Sprintf("%q: want a whole number", rec[idCol])}
		}
		b, ok := parseBad(strings.TrimSpace(rec[badCol]))
		if !ok {
			return nil, &LabelError{path, row, "bad", fmt.Sprintf("%q: want true/false or 1/0", rec[badCol])}
		}
		if _, dup := out[id]; dup {
			return nil, &LabelError{path, row, "account_id", fmt.Sprintf("account %d is labelled twice", id)}
		}
		out[id] = b
	}
}

func parseBad(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "1", "true", "t", "yes":
		return true, true
	case "0", "false", "f", "no":
		return false, true
	}
	return false, false
}

// readParquetLabels reads account_id (any integer type) and bad (boolean or
// integer 0/1) from a Parquet file whatever wrote it.
func readParquetLabels(f *os.File, path string) (map[int64]bool, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: labels %s: %w", ErrBadInput, path, err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%w: labels %s: %w", ErrBadInput, path, err)
	}
	col := func(name string) (int, error) {
		leaf, ok := pf.Schema().Lookup(name)
		if !ok {
			return 0, fmt.Errorf("%w: labels %s: no column %s (want account_id and bad)", ErrBadInput, path, name)
		}
		return leaf.ColumnIndex, nil
	}
	idCol, err := col("account_id")
	if err != nil {
		return nil, err
	}
	badCol, err := col("bad")
	if err != nil {
		return nil, err
	}
	out := map[int64]bool{}
	r := parquet.NewReader(pf)
	defer r.Close()
	buf := make([]parquet.Row, 1024)
	row := 0
	for {
		n, err := r.ReadRows(buf)
		for _, rec := range buf[:n] {
			row++
			var id *parquet.Value
			var b *parquet.Value
			for k := range rec {
				switch rec[k].Column() {
				case idCol:
					id = &rec[k]
				case badCol:
					b = &rec[k]
				}
			}
			if id == nil || id.IsNull() || (id.Kind() != parquet.Int64 && id.Kind() != parquet.Int32) {
				return nil, &LabelError{path, row, "account_id", "want a whole number, not null"}
			}
			if b == nil || b.IsNull() {
				return nil, &LabelError{path, row, "bad", "want true/false or 1/0, not null"}
			}
			var isBad bool
			switch b.Kind() {
			case parquet.Boolean:
				isBad = b.Boolean()
			case parquet.Int32, parquet.Int64:
				v := b.Int64()
				if v != 0 && v != 1 {
					return nil, &LabelError{path, row, "bad", fmt.Sprintf("%d: want 1 or 0", v)}
				}
				isBad = v == 1
			default:
				return nil, &LabelError{path, row, "bad", fmt.Sprintf("a %s value: want a boolean or 1/0", b.Kind())}
			}
			if _, dup := out[id.Int64()]; dup {
				return nil, &LabelError{path, row, "account_id", fmt.Sprintf("account %d is labelled twice", id.Int64())}
			}
			out[id.Int64()] = isBad
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: labels %s: %w", ErrBadInput, path, err)
		}
	}
}
