package billing

import "fmt"

// RejectImmutable is an accounts feed row that would change what never
// changes for an account: customer_id, opened_on or billing_day.
const RejectImmutable = "immutable_column"

// Profile is what the platform's accounts feed says tonight of an account
// the book knows (the latest row of the day).
type Profile struct {
	CustomerID string
	OpenedOn   Date
	BillingDay int32
	// Status is the platform's: frozen and closed are applied under the
	// lifecycle rules (see Close); pending and active change nothing, the
	// night decides those.
	Status           Status
	ExternalScore    int32
	HasExternalScore bool
	Fraud            bool
	Src              Source
}

// applyProfile refreshes the account from the feed: the bureau score and
// the fraud flag take effect tonight (a raised flag freezes the account in
// this night's lifecycle step; a cleared one lets the unfreeze rules apply
// again). A platform freeze freezes an active account now; a platform
// closure is a closure request, completed once nothing is owed. A row that
// would change an immutable column is a rejected row and changes nothing.
func (r *run) applyProfile(p *Profile) {
	a := r.a
	key := fmt.Sprint(a.ID)
	switch {
	case p.CustomerID != a.CustomerID:
		r.rejectDetail(DatasetAccounts, key, RejectImmutable, "customer_id: the book has "+a.CustomerID, p.Src)
		return
	case p.OpenedOn != a.OpenedOn:
		r.rejectDetail(DatasetAccounts, key, RejectImmutable, "opened_on: the book has "+a.OpenedOn.String(), p.Src)
		return
	case p.BillingDay != a.BillingDay:
		r.rejectDetail(DatasetAccounts, key, RejectImmutable, fmt.Sprintf("billing_day: the book has %d (a customer changes it with a change_billing_day request)", a.BillingDay), p.Src)
		return
	}
	a.ExternalScore, a.HasExternalScore = p.ExternalScore, p.HasExternalScore
	a.Fraud = p.Fraud
	switch p.Status {
	case Frozen:
		if a.Status == Active {
			a.Status, a.FrozenOn = Frozen, r.day
			r.notify(NoticeFrozen, r.day.String(), 0, 0)
		}
	case Closed:
		if a.Status.Live() && !a.CloseRequested {
			a.CloseRequested, a.ClosedBy = true, ClosedByPlatform
			a.Note = "closure requested by the platform"
		}
	}
}

func (r *run) rejectDetail(dataset, key, reason, detail string, src Source) {
	r.out.Rejects = append(r.out.Rejects, EventReject{Dataset: dataset, Key: key, Reason: reason, Detail: detail, Src: src})
}
