package pipeline

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"time"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/scoring"
)

// Manifest is OUT/as_of=D/_manifest.json: what a run read, what it wrote and
// how long it took. Everything but TimingsMS is a function of the inputs.
type Manifest struct {
	Program       string `json:"program"`
	Version       string `json:"version"`
	AsOf          string `json:"as_of"`
	PolicyVersion string `json:"policy_version"`
	PolicySource  string `json:"policy_source"`
	// PolicyChangeFrom is the policy version of the state the night
	// started from, when the night changed policy on purpose.
	PolicyChangeFrom string `json:"policy_change_from,omitempty"`
	StateFrom        string `json:"state_from"`
	// StateNotKept marks a date published without its state/: one that a
	// backfill with --state-every skipped, which a run of the next date
	// cannot start from. Absent on every other date.
	StateNotKept bool                `json:"state_not_kept,omitempty"`
	Inputs       []InputFile         `json:"inputs"`
	RowsRead     int64               `json:"rows_read"`
	Rows         map[string]int64    `json:"rows"`
	Rejects      map[string]int64    `json:"rejects"`
	RejectRatio  float64             `json:"reject_ratio"`
	Book         BookTotals          `json:"book"`
	PSI          []scoring.PSIResult `json:"psi,omitempty"`
	Workers      int                 `json:"workers"`
	BucketSize   int                 `json:"bucket_size"`
	TimingsMS    map[string]int64    `json:"timings_ms"`
}

// InputFile is one input file the run read.
type InputFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// BookTotals summarise the book after the run, for reconciliation downstream.
type BookTotals struct {
	Accounts int               `json:"accounts"`
	Opened   int               `json:"opened"` // accounts the night's accounts feed opened
	ByStatus map[string]int    `json:"by_status"`
	Exposure string            `json:"exposure"`
	Flows    map[string]string `json:"flows"`
}

func newManifest(opt Options, day billing.Date, stateFrom string) *Manifest {
	return &Manifest{
		Program: "creditrun", Version: opt.Version, AsOf: day.String(),
		PolicyVersion: opt.Policy.Version, PolicySource: opt.Policy.Source, StateFrom: stateFrom,
		Workers: opt.Workers, BucketSize: opt.BucketSize, TimingsMS: map[string]int64{},
	}
}

func (m *Manifest) stage(name string, start time.Time) {
	m.TimingsMS[name] = time.Since(start).Milliseconds()
}

// setRejects records the night's rejects by reason, of rows read in all
// (kept and rejected).
func (m *Manifest) setRejects(reasons map[string]int64, rejected, kept int64) {
	m.Rejects = maps.Clone(reasons)
	m.RowsRead = kept + rejected
	if m.RowsRead > 0 {
		m.RejectRatio = float64(rejected) / float64(m.RowsRead)
	}
}

func flowStrings(f billing.Flows) map[string]string {
	return map[string]string{
		"purchases": f.Purchases.String(), "fees": f.Fees.String(), "revolving_fees": f.Revolving.String(),
		"penalties": f.Penalties.String(), "payments": f.Payments.String(), "refunds": f.Refunds.String(),
		"fee_reversals": f.FeeReversal.String(), "charged_off": f.ChargedOff.String(), "recoveries": f.Recoveries.String(),
	}
}

// ReadManifest reads the manifest of a published date.
func ReadManifest(out string, day billing.Date) (*Manifest, error) {
	var m Manifest
	path := filepath.Join(PartitionDir(out, day), ManifestFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &m, nil
}
