package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/scoring"
)

// parser walks the YAML tree, filling the configs and collecting problems.
// lines maps each setting's path ("limits.grades[2].increase") to its line,
// so that the configs' Validate errors, which name paths, get lines too.
type parser struct {
	probs []Problem
	lines map[string]int
	// complete: the file is a full policy (no `extends: default`), so
	// every mapping must set every one of its keys; a file cut short is
	// then an error, not a policy whose missing part takes the defaults.
	complete bool
}

func (p *parser) errorf(line int, format string, args ...any) {
	p.probs = append(p.probs, Problem{Line: line, Msg: fmt.Sprintf(format, args...)})
}

// fields are the keys a mapping accepts, each with its decoder.
type fields map[string]func(n *yaml.Node, path string)

// mapping decodes a mapping node: every key must be known and appear once.
func (p *parser) mapping(n *yaml.Node, path string, f fields) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "%s: want a mapping of settings, got %s", orRoot(path), describe(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		full := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			p.errorf(k.Line, "%s: duplicate key (first at line %d)", full, first)
			continue
		}
		seen[k.Value] = k.Line
		dec, ok := f[k.Value]
		if !ok {
			p.errorf(k.Line, "%s: unknown key %q%s", orRoot(path), k.Value, suggest(k.Value, f))
			continue
		}
		p.lines[full] = k.Line
		dec(v, full)
	}
}

// section decodes a mapping that a full policy must set whole: the root
// (every section) and the sections of plain settings. optional are the
// keys it may leave out all the same (a baseline).
func (p *parser) section(n *yaml.Node, path string, f fields, optional ...string) {
	p.mapping(n, path, f)
	n = deref(n)
	if !p.complete || n.Kind != yaml.MappingNode {
		return
	}
	var missing []string
	for key := range f {
		if key == extendsKey || slices.Contains(optional, key) {
			continue
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			found = found || n.Content[i].Value == key
		}
		if !found {
			missing = append(missing, key)
		}
	}
	if len(missing) == 0 {
		return
	}
	sort.Strings(missing)
	line := n.Line
	if path == "" {
		line = lastLine(n)
	}
	p.errorf(line, "%s: missing %s: a full policy sets every section and setting (a file cut short?); "+
		"a partial one says `%s: default` and takes the default of what it leaves out",
		orRoot(path), strings.Join(missing, ", "), extendsKey)
}

// extendsKey is the top-level key of a partial policy: `extends: default`.
const extendsKey = "extends"

// lastLine is the line of the last node under n.
func lastLine(n *yaml.Node) int {
	for len(n.Content) > 0 {
		n = n.Content[len(n.Content)-1]
	}
	return n.Line
}

// extends reports whether the root mapping says `extends: default`.
func extends(root *yaml.Node) bool {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == extendsKey {
			return true
		}
	}
	return false
}

// MaxBytes is the largest policy file read: the shipped one is some 20 KiB,
// and a file of megabytes (a pasted list, a wrong file) would cost memory
// and time out of proportion before being refused anyway.
const MaxBytes = 1 << 20

// required reports each of keys that a mapping node lacks.
func (p *parser) required(n *yaml.Node, path string, keys ...string) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return
	}
	for _, key := range keys {
		found := false
		for i := 0; i < len(n.Content); i += 2 {
			found = found || n.Content[i].Value == key
		}
		if !found {
			p.errorf(n.Line, "%s: %s is required", path, key)
		}
	}
}

// sequence decodes a sequence node item by item.
func (p *parser) sequence(n *yaml.Node, path string, item func(i int, n *yaml.Node, path string)) int {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n.Line, "%s: want a list, got %s", path, describe(n))
		return -1
	}
	for i, c := range n.Content {
		ip := path + "[" + strconv.Itoa(i) + "]"
		p.lines[ip] = c.Line
		item(i, c, ip)
	}
	return len(n.Content)
}

// scalar returns n if it is a non-null scalar with one of the tags.
func (p *parser) scalar(n *yaml.Node, path, want string, tags ...string) (*yaml.Node, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || !slices.Contains(tags, n.ShortTag()) {
		p.errorf(n.Line, "%s: want %s, got %s", path, want, describe(n))
		return nil, false
	}
	return n, true
}

func (p *parser) int64(n *yaml.Node, path string, lo, hi int64) (int64, bool) {
	s, ok := p.scalar(n, path, "a whole number", "!!int")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(s.Value, "_", ""), 0, 64)
	if err != nil || v < lo || v > hi {
		p.errorf(s.Line, "%s: %s is out of range %d..%d", path, s.Value, lo, hi)
		return 0, false
	}
	return v, true
}

func (p *parser) int(dst *int) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if v, ok := p.int64(n, path, math.MinInt32, math.MaxInt32); ok {
			*dst = int(v)
		}
	}
}

func (p *parser) int32(dst *int32) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if v, ok := p.int64(n, path, math.MinInt32, math.MaxInt32); ok {
			*dst = int32(v)
		}
	}
}

func (p *parser) bool(dst *bool) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if s, ok := p.scalar(n, path, "true or false", "!!bool"); ok {
			_ = s.Decode(dst)
		}
	}
}

func (p *parser) str(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if s, ok := p.scalar(n, path, "a text", "!!str"); ok {
			*dst = s.Value
		}
	}
}

// rate decodes a fraction exactly from the scalar's text (never a float64).
func (p *parser) rate(dst *billing.Rate) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		s, ok := p.scalar(n, path, "a fraction such as 0.0005", "!!int", "!!float")
		if !ok {
			return
		}
		r, err := billing.ParseRate(s.Value)
		if err != nil {
			p.errorf(s.Line, "%s: %s is not a rate with at most 6 decimals", path, s.Value)
			return
		}
		*dst = r
	}
}

// money decodes a yuan amount exactly from the scalar's text.
func (p *parser) money(dst *billing.Money) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		s, ok := p.scalar(n, path, "an amount in yuan such as 10.00", "!!int", "!!float")
		if !ok {
			return
		}
		m, err := billing.ParseMoney(s.Value)
		if err != nil {
			p.errorf(s.Line, "%s: %s is not an amount with at most 2 decimals", path, s.Value)
			return
		}
		*dst = m
	}
}

// float decodes a finite number; strconv rounds the text correctly, so a
// bin edge equals the feature value it is written as.
func (p *parser) float(dst *float64) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		s, ok := p.scalar(n, path, "a number", "!!int", "!!float")
		if !ok {
			return
		}
		v, err := strconv.ParseFloat(strings.ReplaceAll(s.Value, "_", ""), 64)
		if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
			p.errorf(s.Line, "%s: %s is not a finite number", path, s.Value)
			return
		}
		*dst = v
	}
}

// list reads a sequence into dst, each element with elem.
func list[T any](p *parser, dst *[]T, elem func(*T) func(*yaml.Node, string)) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		out := []T{}
		p.sequence(n, path, func(_ int, c *yaml.Node, ip string) {
			var v T
			elem(&v)(c, ip)
			out = append(out, v)
		})
		*dst = out
	}
}

func (p *parser) strs(dst *[]string) func(*yaml.Node, string) { return list(p, dst, p.str) }

func (p *parser) ints(dst *[]int) func(*yaml.Node, string) { return list(p, dst, p.int) }

func (p *parser) int32s(dst *[]int32) func(*yaml.Node, string) { return list(p, dst, p.int32) }

// Parse reads a policy file strictly: unknown keys, wrong types and invalid
// settings are problems, all of them reported in one *ProblemsError whose
// lines read "name:line: message". A setting the file leaves out takes the
// shipped default. Version is the first 12 hex digits of the file's SHA-256.
func Parse(name string, data []byte) (*Policy, error) {
	if len(data) > MaxBytes {
		return nil, &ProblemsError{Name: name, Problems: []Problem{tooLarge(int64(len(data)))}}
	}
	pol := &Policy{
		Billing: billing.DefaultConfig(),
		Scoring: scoring.DefaultConfig(),
		Version: version(data),
		Source:  name,
	}
	p := &parser{lines: map[string]int{}}
	root, err := decode(data)
	if err != nil {
		p.probs = append(p.probs, *err)
		return nil, p.result(name)
	}
	p.complete = !extends(root)
	p.document(root, pol)
	pol.Scoring.Limits.FreezeDPD = pol.Billing.FreezeDPD
	// A setting that did not decode keeps its previous value; validation
	// problems on a line that already has a problem are its consequences.
	decoded := p.probs
	p.probs = nil
	p.validate(pol)
	bad := map[int]bool{}
	for _, pr := range decoded {
		bad[pr.Line] = true
	}
	for _, pr := range p.probs {
		if pr.Line == 0 || !bad[pr.Line] {
			decoded = append(decoded, pr)
		}
	}
	p.probs = decoded
	if len(p.probs) > 0 {
		return nil, p.result(name)
	}
	return pol, nil
}

// tooLarge is the problem of a file above MaxBytes.
func tooLarge(size int64) Problem {
	return Problem{Msg: fmt.Sprintf("%d bytes: a policy file is at most %d bytes (%d KiB); not parsed", size, MaxBytes, MaxBytes>>10)}
}

var lineRE = regexp.MustCompile(`line (\d+): `)

// decode parses the YAML text into its root mapping node.
func decode(data []byte) (*yaml.Node, *Problem) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Problem{Msg: "empty policy file"}
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if m := lineRE.FindStringSubmatchIndex(msg); m != nil {
			line, _ = strconv.Atoi(msg[m[2]:m[3]])
			msg = msg[:m[0]] + msg[m[1]:]
		}
		return nil, &Problem{Line: line, Msg: "invalid YAML: " + msg}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Problem{Line: extra.Line, Msg: "a second YAML document: a policy file holds one"}
	}
	if len(doc.Content) == 0 {
		return nil, &Problem{Msg: "empty policy file"}
	}
	budget := maxNodes
	if line, ok := withinBudget(doc.Content[0], &budget); !ok {
		return nil, &Problem{Line: line, Msg: fmt.Sprintf("more than %d YAML nodes once aliases are expanded: a policy file needs far fewer", maxNodes)}
	}
	return doc.Content[0], nil
}

// maxNodes bounds the nodes the parser visits once aliases are followed:
// a few anchors that refer to each other can stand for billions of nodes in
// a file of a few hundred bytes (the "billion laughs"). The shipped policy
// has under 600.
const maxNodes = 20_000

// withinBudget counts the nodes under n, following aliases, against budget.
// It stops as soon as the budget is spent, returning the line it reached.
func withinBudget(n *yaml.Node, budget *int) (int, bool) {
	if *budget--; *budget < 0 {
		return n.Line, false
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return withinBudget(n.Alias, budget)
	}
	for _, c := range n.Content {
		if line, ok := withinBudget(c, budget); !ok {
			return line, false
		}
	}
	return 0, true
}

func (p *parser) result(name string) error {
	sort.SliceStable(p.probs, func(i, j int) bool {
		a, b := p.probs[i].Line, p.probs[j].Line
		if a == 0 || b == 0 {
			return a != 0 && b == 0
		}
		return a < b
	})
	// A setting two validators check (billing's and scoring's freeze_dpd)
	// is reported once: drop a problem that repeats one on the same line.
	type key struct {
		line int
		msg  string
	}
	seen := map[key]bool{}
	probs := p.probs[:0]
	for _, pr := range p.probs {
		k := key{pr.Line, strings.ReplaceAll(pr.Msg, ":", "")}
		if !seen[k] {
			seen[k] = true
			probs = append(probs, pr)
		}
	}
	return &ProblemsError{Name: name, Problems: probs}
}

// document decodes the root mapping.
func (p *parser) document(root *yaml.Node, pol *Policy) {
	b := &pol.Billing
	s := &pol.Scoring
	p.section(root, "", fields{
		extendsKey: func(n *yaml.Node, path string) {
			if v, ok := p.scalar(n, path, "default", "!!str"); ok && v.Value != "default" {
				p.errorf(v.Line, "%s: %q: the only policy a file extends is default", path, v.Value)
			}
		},
		"billing": func(n *yaml.Node, path string) {
			p.section(n, path, fields{
				"time_zone":                       p.str(&b.TimeZone),
				"currency":                        p.str(&b.Currency),
				"due_days":                        p.int(&b.DueDays),
				"installment_options":             p.int32s(&b.InstallmentOptions),
				"apr_cap":                         p.rate(&b.APRCap),
				"max_fee_rate":                    p.rate(&b.MaxFeeRate),
				"min_installment_amount":          p.money(&b.MinInstallmentAmount),
				"local_timestamps_zone":           p.str(&b.LocalTimestampsZone),
				"minimum_rate":                    p.rate(&b.MinimumRate),
				"minimum_floor":                   p.money(&b.MinimumFloor),
				"revolving_daily_rate":            p.rate(&b.RevolvingDailyRate),
				"waterfall":                       p.waterfall(&b.Waterfall),
				"payoff_charges_fees":             p.bool(&b.PayoffChargesFees),
				"max_deferral_cycles":             p.int32(&b.MaxDeferralCycles),
				"billing_day_change_after_months": p.int(&b.BillingDayChangeAfterMonths),
				"refund_window_days":              p.int(&b.RefundWindowDays),
				"history_cycles":                  p.int(&b.HistoryCycles),
				"late_window_days":                p.int(&b.LateWindowDays),
			}, "local_timestamps_zone") // empty when inputs carry zoned timestamps
		},
		"collections": func(n *yaml.Node, path string) {
			p.section(n, path, fields{
				"penalty_daily_rate":  p.rate(&b.PenaltyDailyRate),
				"freeze_dpd":          p.int32(&b.FreezeDPD),
				"unfreeze_clean_days": p.int(&b.UnfreezeCleanDays),
				"no_unfreeze_grades":  p.strs(&b.NoUnfreezeGrades),
				"charge_off_dpd":      p.int32(&b.ChargeOffDPD),
			})
		},
		"notices": func(n *yaml.Node, path string) {
			p.section(n, path, fields{
				"reminder_days":          p.ints(&b.ReminderDays),
				"reminder_days_by_grade": p.reminderByGrade(&b.ReminderDaysByGrade),
				"overdue_notice_dpd":     p.int32s(&b.OverdueNoticeDPD),
				"channels":               p.channels(&b.Channels),
				"default_channel":        p.str(&b.DefaultChannel),
			})
		},
		"offers": func(n *yaml.Node, path string) {
			p.section(n, path, fields{
				"pricing": p.pricing(&b.Offers.Pricing),
			})
		},
		"scaling": func(n *yaml.Node, path string) {
			p.section(n, path, fields{
				"pdo":        p.float(&s.Scaling.PDO),
				"base_score": p.float(&s.Scaling.BaseScore),
				"base_odds":  p.float(&s.Scaling.BaseOdds),
			})
		},
		"grades":    p.grades(&s.Grades),
		"scorecard": p.scorecard(&s.Scorecard),
		"limits":    p.limits(&s.Limits),
		"incidents": func(n *yaml.Node, path string) {
			p.section(n, path, fields{
				"grace_days":  p.int(&b.IncidentGraceDays),
				"memory_days": p.int(&b.IncidentMemoryDays),
			})
		},
		"reopen": func(n *yaml.Node, path string) {
			r := &s.Limits.Reopen
			p.section(n, path, fields{
				"wait_days":       p.int(&r.WaitDays),
				"lookback_months": p.int(&r.LookbackMonths),
				"grades":          p.strs(&r.Grades),
			})
		},
		"monitoring": func(n *yaml.Node, path string) {
			m := &s.Monitoring
			p.section(n, path, fields{
				"psi_warn":    p.float(&m.PSIWarn),
				"score_bands": p.int32s(&m.ScoreBands),
				"baseline":    p.baseline(&m.Baseline),
			}, "baseline")
		},
	})
}

func (p *parser) waterfall(dst *[]billing.Component) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		out := []billing.Component{}
		p.sequence(n, path, func(_ int, c *yaml.Node, ip string) {
			var s string
			p.str(&s)(c, ip)
			if s == "" {
				return
			}
			k, ok := billing.ComponentByName(s)
			if !ok {
				p.errorf(c.Line, "%s: unknown component %q (want penalty, revolving_fee, installment_fee, installment_principal or purchase)", ip, s)
				return
			}
			out = append(out, k)
		})
		*dst = out
	}
}

// pricing decodes offers.pricing: a sequence of grades, each with its
// fee rate per installment count and its interest-free counts.
func (p *parser) pricing(dst *[]billing.GradePricing) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		out := []billing.GradePricing{}
		count := p.sequence(n, path, func(_ int, c *yaml.Node, ip string) {
			var g billing.GradePricing
			p.mapping(c, ip, fields{
				"grade": p.str(&g.Grade),
				"fee_rates": func(n *yaml.Node, path string) {
					n = deref(n)
					if n.Kind != yaml.MappingNode {
						p.errorf(n.Line, "%s: want a mapping of installment count to monthly fee rate, got %s", path, describe(n))
						return
					}
					for i := 0; i+1 < len(n.Content); i += 2 {
						k := n.Content[i]
						full := path + "." + k.Value
						periods, ok := p.int64(k, full, 1, 60)
						if !ok {
							continue
						}
						if g.FeeRates == nil {
							g.FeeRates = map[int32]billing.Rate{}
						}
						if _, dup := g.FeeRates[int32(periods)]; dup {
							p.errorf(k.Line, "%s: duplicate installment count", full)
							continue
						}
						var r billing.Rate
						p.rate(&r)(n.Content[i+1], full)
						g.FeeRates[int32(periods)] = r
					}
				},
				"interest_free": p.int32s(&g.InterestFree),
			})
			p.required(c, ip, "grade")
			// Problems billing finds in this grade's pricing point here.
			p.lines["offers.pricing."+g.Grade] = c.Line
			out = append(out, g)
		})
		if count >= 0 {
			*dst = out
		}
	}
}

func (p *parser) reminderByGrade(dst *map[string][]int) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		n = deref(n)
		if n.Kind != yaml.MappingNode {
			p.errorf(n.Line, "%s: want a mapping of grade to days, got %s", path, describe(n))
			return
		}
		out := map[string][]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			full := path + "." + k.Value
			if _, dup := out[k.Value]; dup {
				p.errorf(k.Line, "%s: duplicate grade", full)
				continue
			}
			p.lines[full] = k.Line
			var days []int
			p.ints(&days)(n.Content[i+1], full)
			out[k.Value] = days
		}
		*dst = out
	}
}

// noticeKinds are the notice kinds a policy can route.
var noticeKinds = []billing.NoticeKind{
	billing.NoticeStatement, billing.NoticeDueReminder, billing.NoticePaymentMissed, billing.NoticeOverdue,
	billing.NoticeDeductFailed, billing.NoticeLimitChanged, billing.NoticeActivated, billing.NoticeDeclined,
	billing.NoticeFrozen, billing.NoticeUnfrozen, billing.NoticeClosed, billing.NoticeChargedOff,
	billing.NoticeRequestDeclined,
}

// channelNames are the channels the messaging system knows.
var channelNames = []string{"sms", "push", "email"}

func (p *parser) channels(dst *map[billing.NoticeKind]string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		n = deref(n)
		if n.Kind != yaml.MappingNode {
			p.errorf(n.Line, "%s: want a mapping of notice kind to channel, got %s", path, describe(n))
			return
		}
		out := map[billing.NoticeKind]string{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			kind := billing.NoticeKind(k.Value)
			full := path + "." + k.Value
			if !slices.Contains(noticeKinds, kind) {
				p.errorf(k.Line, "%s: unknown notice kind %q (want one of %v)", path, k.Value, noticeKinds)
				continue
			}
			if _, dup := out[kind]; dup {
				p.errorf(k.Line, "%s: duplicate notice kind", full)
				continue
			}
			p.lines[full] = k.Line
			var ch string
			p.str(&ch)(n.Content[i+1], full)
			out[kind] = ch
		}
		*dst = out
	}
}

func (p *parser) grades(dst *[]scoring.Grade) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		out := []scoring.Grade{}
		count := p.sequence(n, path, func(i int, c *yaml.Node, ip string) {
			var g scoring.Grade
			hasMin := false
			p.mapping(c, ip, fields{
				"grade": p.str(&g.Name),
				"min_score": func(n *yaml.Node, path string) {
					hasMin = true
					p.int32(&g.MinScore)(n, path)
				},
			})
			p.required(c, ip, "grade")
			last := i == len(deref(n).Content)-1
			switch {
			case last && hasMin:
				p.errorf(p.lines[ip+".min_score"], "%s.min_score: the last grade takes every lower score: leave its min_score out", ip)
			case !last && !hasMin:
				p.errorf(c.Line, "%s: min_score is required (only the last grade has none)", ip)
			}
			out = append(out, g)
		})
		if count >= 0 {
			*dst = out
		}
	}
}

func (p *parser) scorecard(sc *scoring.Scorecard) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		p.mapping(n, path, fields{
			"name": p.str(&sc.Name),
			"characteristics": func(n *yaml.Node, path string) {
				out := []scoring.Characteristic{}
				p.sequence(n, path, func(_ int, c *yaml.Node, ip string) {
					out = append(out, p.characteristic(c, ip))
				})
				sc.Characteristics = out
			},
		})
	}
}

func (p *parser) characteristic(n *yaml.Node, path string) scoring.Characteristic {
	var ch scoring.Characteristic
	hasBaseline := false
	p.mapping(n, path, fields{
		"name":    p.str(&ch.Name),
		"feature": p.str(&ch.Feature),
		"reason":  p.str(&ch.Reason),
		"baseline_points": func(n *yaml.Node, path string) {
			hasBaseline = true
			p.int32(&ch.Baseline)(n, path)
		},
		"bins": func(n *yaml.Node, path string) {
			p.sequence(n, path, func(_ int, c *yaml.Node, ip string) {
				ch.Bins = append(ch.Bins, p.bin(c, ip))
			})
		},
	})
	p.required(n, path, "feature", "reason", "bins")
	if ch.Name == "" {
		ch.Name = ch.Feature
	}
	if !hasBaseline && len(ch.Bins) > 0 {
		ch.Baseline = math.MinInt32
		for _, b := range ch.Bins {
			ch.Baseline = max(ch.Baseline, b.Points)
		}
	}
	return ch
}

func (p *parser) bin(n *yaml.Node, path string) scoring.Bin {
	b := scoring.Bin{From: math.Inf(-1), To: math.Inf(1)}
	var hasRange bool
	p.mapping(n, path, fields{
		"from": func(n *yaml.Node, path string) { hasRange = true; p.float(&b.From)(n, path) },
		"to":   func(n *yaml.Node, path string) { hasRange = true; p.float(&b.To)(n, path) },
		"categories": func(n *yaml.Node, path string) {
			p.strs(&b.Categories)(n, path)
			if len(b.Categories) == 0 {
				p.errorf(deref(n).Line, "%s: want at least one category", path)
			}
		},
		"missing": p.bool(&b.Missing),
		"points":  p.int32(&b.Points),
	})
	p.required(n, path, "points")
	switch {
	case hasRange && (b.Missing || len(b.Categories) > 0):
		p.errorf(deref(n).Line, "%s: a bin is a range (from/to), a set of categories or the missing bin, not several", path)
	case b.Missing && len(b.Categories) > 0:
		p.errorf(deref(n).Line, "%s: the missing bin has no categories", path)
	}
	if b.Missing || len(b.Categories) > 0 {
		b.From, b.To = 0, 0
	}
	return b
}

func (p *parser) limits(l *scoring.Limits) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		p.mapping(n, path, fields{
			"max_limit":                p.money(&l.MaxLimit),
			"max_increase":             p.money(&l.MaxIncrease),
			"round_to":                 p.money(&l.RoundTo),
			"increase_cooling_days":    p.int(&l.IncreaseCoolingDays),
			"decrease_cooling_days":    p.int(&l.DecreaseCoolingDays),
			"increase_min_utilization": p.rate(&l.IncreaseMinUtilization),
			"utilization_cycles":       p.int(&l.UtilizationCycles),
			"increase_clean_cycles":    p.int(&l.IncreaseCleanCycles),
			"delinquency_cycles":       p.int(&l.DelinquencyCycles),
			"delinquency_dpd":          p.int32(&l.DelinquencyDPD),
			"delinquency_cut":          p.rate(&l.DelinquencyCut),
			"cut_below_balance":        p.bool(&l.CutBelowBalance),
			"grades": func(n *yaml.Node, path string) {
				out := []scoring.GradeLimit{}
				p.sequence(n, path, func(_ int, c *yaml.Node, ip string) {
					var g scoring.GradeLimit
					p.mapping(c, ip, fields{
						"grade":     p.str(&g.Grade),
						"decline":   p.bool(&g.Decline),
						"initial":   p.money(&g.Initial),
						"increase":  p.rate(&g.Increase),
						"max_limit": p.money(&g.MaxLimit),
						"decrease":  p.rate(&g.Decrease),
					})
					p.required(c, ip, "grade")
					out = append(out, g)
				})
				l.Grades = out
			},
		})
	}
}

func (p *parser) baseline(dst *[]scoring.DistributionRow) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		n = deref(n)
		if n.Kind != yaml.MappingNode {
			p.errorf(n.Line, "%s: want a mapping of distribution name to {bin: count}, got %s", path, describe(n))
			return
		}
		var out []scoring.DistributionRow
		for i := 0; i+1 < len(n.Content); i += 2 {
			name, bins := n.Content[i], deref(n.Content[i+1])
			if bins.Kind != yaml.MappingNode {
				p.errorf(bins.Line, "%s.%s: want a mapping of bin label to count, got %s", path, name.Value, describe(bins))
				continue
			}
			for j := 0; j+1 < len(bins.Content); j += 2 {
				k := bins.Content[j]
				var count int64
				if v, ok := p.int64(bins.Content[j+1], path+"."+name.Value+"."+k.Value, 0, math.MaxInt64); ok {
					count = v
				}
				p.lines[path+"["+strconv.Itoa(len(out))+"]"] = k.Line
				out = append(out, scoring.DistributionRow{Name: name.Value, Bin: k.Value, Count: count})
			}
		}
		*dst = out
	}
}

// deref follows an alias.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// describe names what a node holds, for "want X, got Y".
func describe(n *yaml.Node) string {
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing"
		case "!!str":
			return fmt.Sprintf("the text %q", n.Value)
		case "!!bool":
			return "the boolean " + n.Value
		case "!!int", "!!float":
			return "the number " + n.Value
		}
		return n.Value
	}
	return "nothing"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orRoot(path string) string {
	if path == "" {
		return "policy"
	}
	return path
}

// suggest proposes the closest known key to a mistyped one.
func suggest(key string, f fields) string {
	best, dist := "", 4
	known := make([]string, 0, len(f))
	for k := range f {
		known = append(known, k)
	}
	sort.Strings(known)
	for _, k := range known {
		if d := editDistance(key, k); d < dist {
			best, dist = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return " (known: " + strings.Join(known, ", ") + ")"
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
