package policy

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditrun/creditrun/billing"
)

var asOf = billing.NewDate(2025, time.June, 15)

// book returns n accounts with random behaviour, some pending, some frozen.
func book(n int) []*billing.Account {
	rng := rand.New(rand.NewPCG(11, 3))
	out := make([]*billing.Account, n)
	for i := range out {
		limit := billing.Money(100_000 * (1 + rng.IntN(30)))
		cycles := rng.IntN(13)
		a := &billing.Account{
			ID: int64(i), Status: billing.Active, Limit: limit,
			OpenedOn:         asOf - billing.Date(30*cycles+rng.IntN(30)),
			LimitChangedOn:   asOf - billing.Date(rng.IntN(400)),
			ExternalScore:    int32(350 + rng.IntN(600)),
			HasExternalScore: rng.IntN(6) > 0,
		}
		for k := range cycles {
			bal := billing.Money(rng.Int64N(int64(limit) * 11 / 10))
			c := billing.CycleStats{
				StatementDate: asOf - billing.Date(30*(cycles-k)),
				Spend:         bal / 2, Billed: bal / 2, Balance: bal, Limit: limit, MinimumDue: bal / 10,
				Paid: billing.Money(rng.Int64N(int64(bal) + 1)),
			}
			if rng.IntN(6) == 0 {
				c.MaxDPD = int32(rng.IntN(60))
			}
			if rng.IntN(5) == 0 {
				c.FailedDeductions = int32(rng.IntN(4))
			}
			a.History = append(a.History, c)
		}
		switch rng.IntN(10) {
		case 0:
			a.Status, a.Limit, a.History = billing.Pending, 0, nil
		case 1:
			a.Status, a.FrozenOn = billing.Frozen, asOf-20
		case 2:
			a.Status = billing.Closed
		}
		out[i] = a
	}
	return out
}

func run(old, new *Policy, accts []*billing.Account) Report {
	w := NewWhatIf(old, new)
	for _, a := range accts {
		w.Add(a, asOf)
	}
	return w.Report()
}

func TestWhatIfSelf(t *testing.T) {
	p := Default()
	accts := book(3000)
	before := make([]billing.Account, len(accts))
	for i, a := range accts {
		before[i] = *a
	}
	r := run(p, Default(), accts)
	if r.Changed() {
		t.Errorf("a policy against itself changed something: %+v", r)
	}
	for i, a := range accts {
		if !reflect.DeepEqual(*a, before[i]) {
			t.Fatalf("account %d changed by the what-if", a.ID)
		}
	}
	var scored int64
	for _, m := range r.Migration {
		if m.OldGrade != m.NewGrade {
			t.Errorf("off-diagonal cell %+v", m)
		}
		scored += m.Accounts
	}
	if scored != r.Accounts || r.Accounts == 0 || r.Accounts == int64(len(accts)) {
		t.Errorf("scored %d, Accounts %d of %d (closed ones are skipped)", scored, r.Accounts, len(accts))
	}
	for _, a := range r.Actions {
		if a.OldAccounts != a.NewAccounts || a.OldLimitChange != a.NewLimitChange || a.OldExposure != a.NewExposure {
			t.Errorf("action row differs: %+v", a)
		}
	}
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "no change") {
		t.Errorf("WriteText does not say no change:\n%s", buf.String())
	}
}

func TestWhatIfStricterCutOff(t *testing.T) {
	old := Default()
	src := strings.Replace(string(DefaultYAML()), "min_score: 630", "min_score: 660", 1)
	src = strings.Replace(src, "min_score: 580", "min_score: 600", 1)
	strict, err := Parse("strict.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	r := run(old, strict, book(3000))
	if !r.Changed() {
		t.Fatal("a stricter cut-off changed nothing")
	}
	down := int64(0)
	for _, m := range r.Migration {
		oi, ni := slices.Index(r.OldGrades, m.OldGrade), slices.Index(r.NewGrades, m.NewGrade)
		if ni < oi {
			t.Errorf("%d accounts moved up from %s to %s", m.Accounts, m.OldGrade, m.NewGrade)
		}
		if ni > oi {
			down += m.Accounts
		}
	}
	changes := map[string]ChangeRow{}
	for _, c := range r.Changes {
		changes[c.Change] = c
	}
	if changes[ChangeGradeUp].Accounts != 0 || changes[ChangeGradeDown].Accounts != down || down == 0 {
		t.Errorf("grade changes %+v, want 0 up and %d down", changes, down)
	}
	if changes[ChangeLimitHigher].Accounts != 0 || changes[ChangeNewlyActivated].Accounts != 0 {
		t.Errorf("a stricter cut-off raised limits or activated: %+v", changes)
	}
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"grade migration", "limit actions", ChangeGradeDown} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("WriteText lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestWhatIfDecline(t *testing.T) {
	old := Default()
	// Grade D now declines applicants.
	src := strings.Replace(string(DefaultYAML()), "{grade: D, initial: 1000.00, max_limit: 5000.00}", "{grade: D, decline: true, max_limit: 5000.00}", 1)
	strict, err := Parse("strict.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	applicant := &billing.Account{ID: 1, Status: billing.Pending, OpenedOn: asOf, ExternalScore: 480, HasExternalScore: true}
	w := NewWhatIf(old, strict)
	w.Add(applicant, asOf)
	part := NewWhatIf(old, strict)
	part.Add(applicant, asOf)
	w.Merge(part)
	r := w.Report()
	for _, c := range r.Changes {
		want := int64(0)
		if c.Change == ChangeNewlyDeclined || c.Change == ChangeLimitLower {
			want = 2
		}
		if c.Accounts != want {
			t.Errorf("%s: %d accounts, want %d", c.Change, c.Accounts, want)
		}
	}
	for _, a := range r.Actions {
		if a.Action == "activate" && (a.OldAccounts != 2 || a.NewAccounts != 0 || a.OldLimitChange != 200_000) {
			t.Errorf("activate row %+v", a)
		}
	}
}
