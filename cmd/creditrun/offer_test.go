package main

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/state"
)

// TestNightOffers: on a generated book's night, every live account's offer
// is its grade's pricing in the default policy, every APR within apr_cap;
// a frozen account has nothing available and no installments; a closed
// account has no offer.
func TestNightOffers(t *testing.T) {
	events := sample(t, "400", "4")
	out := t.TempDir()
	const day = "2025-03-04"
	if code, stderr := creditrun(t, nil, "backfill", "--from", start, "--to", day, "--events", events, "--out", out,
		"--state", filepath.Join(events, "accounts"), "--log-level", "warn"); code != 0 {
		t.Fatalf("backfill: exit %d\n%s", code, stderr)
	}
	cfg := billing.DefaultConfig()
	pricing := map[string]billing.GradePricing{}
	for _, g := range cfg.Offers.Pricing {
		pricing[g.Grade] = g
	}
	status := map[int64]string{}
	for _, a := range readDay[state.AccountRow](t, out, day, filepath.Join("state", "accounts")) {
		status[a.AccountID] = a.Status
	}
	offers := readDay[billing.OfferRow](t, out, day, "offers")
	counts := map[string]int{}
	for _, o := range offers {
		st, ok := status[o.AccountID]
		counts[st]++
		switch {
		case !ok:
			t.Fatalf("offer for account %d, not on the book", o.AccountID)
		case st == "closed":
			t.Errorf("offer %+v for a closed account", o)
		case o.OfferDate != billing.NewDate(2025, 3, 5) || o.Currency != cfg.Currency:
			t.Errorf("offer %+v, want one for 2025-03-05 in %s", o, cfg.Currency)
		case o.AvailableCredit < 0 || o.AvailableCredit > o.CreditLimit:
			t.Errorf("offer %+v: available credit outside 0..limit", o)
		}
		fees := []*billing.Rate{o.FeeRate3, o.FeeRate6, o.FeeRate12, o.FeeRate24}
		aprs := []*billing.Rate{o.APR3, o.APR6, o.APR12, o.APR24}
		if st != "active" {
			if o.AvailableCredit != 0 || o.InstallmentsOffered || o.InterestFreePeriods != nil || slices.ContainsFunc(fees, notNil) {
				t.Errorf("%s account's offer %+v, want nothing available and no installments", st, o)
			}
			continue
		}
		if want := max(o.CreditLimit-o.Owed, 0); o.AvailableCredit != want {
			t.Errorf("offer %+v: available %s, want limit less owed %s", o, o.AvailableCredit, want)
		}
		if o.Grade == nil {
			t.Errorf("active account's offer %+v has no grade", o)
			continue
		}
		g := pricing[*o.Grade]
		offered := false
		for i, n := range billing.OfferPeriods {
			fee, priced := g.FeeRates[n]
			free := slices.Contains(g.InterestFree, n)
			if !priced && !free {
				if fees[i] != nil || aprs[i] != nil {
					t.Errorf("grade %s offer %+v prices %d installments, the policy does not", *o.Grade, o, n)
				}
				continue
			}
			offered = true
			apr, _ := billing.OfferAPR(n, fee)
			if fees[i] == nil || *fees[i] != fee || aprs[i] == nil || *aprs[i] != apr || apr > cfg.APRCap {
				t.Errorf("grade %s offer of %d installments: fee %v apr %v, want %s and %s within %s", *o.Grade, n,
					fees[i], aprs[i], fee, apr, cfg.APRCap)
			}
		}
		var wantFree *int32
		if len(g.InterestFree) > 0 {
			wantFree = new(slices.Max(g.InterestFree))
		}
		if o.InstallmentsOffered != offered || !equalPtr(o.InterestFreePeriods, wantFree) {
			t.Errorf("grade %s offer %+v, want installments %v, interest-free up to %v", *o.Grade, o, offered, wantFree)
		}
	}
	if counts["active"] == 0 || counts["frozen"] == 0 {
		t.Fatalf("offers by status %v, want active and frozen accounts", counts)
	}
	t.Logf("offers by status %v", counts)
}

func notNil(r *billing.Rate) bool { return r != nil }

func equalPtr[T comparable](a, b *T) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
