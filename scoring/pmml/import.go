package pmml

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/creditrun/creditrun/scoring"
)

// Import reads a PMML document's Scorecard model and returns base with its
// scorecard in place of base's (scaling, grades, limits and monitoring stay
// base's), validated, and notes on what the conversion did that a reader
// of the result should know.
//
// Each Characteristic becomes a characteristic of its one field, which
// must be a creditrun feature (see scoring.FeatureByName). Its Attributes
// are evaluated as PMML does — in order, the first whose predicate is TRUE
// wins, with PMML's three-valued logic for missing values — over every
// category of a categorical feature, every interval between the edges the
// predicates name for a numeric one, and the missing value (or the
// MiningField's missingValueReplacement); each becomes a bin, adjacent
// intervals of one attribute one bin. A value no attribute takes is an
// error, as it is for a PMML consumer.
//
// Scores: initialScore is added to the first characteristic's points;
// fractional partial scores are rounded to whole points (noted). Reason
// codes: a characteristic's reasonCode (or its attributes' one, which must
// then agree) and baselineScore (or the model's); with
// reasonCodeAlgorithm="pointsAbove" — a higher score is riskier — every
// score is negated, so that the score ranks goodness as creditrun's do and
// the ranking of reason codes (points − baseline, largest first) is kept.
func Import(r io.Reader, base *scoring.Config) (scoring.Config, []string, error) {
	var doc document
	dec := xml.NewDecoder(r)
	if err := dec.Decode(&doc); err != nil {
		return scoring.Config{}, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if len(doc.Scorecards) == 0 {
		return scoring.Config{}, nil, fmt.Errorf("%w: the document has no Scorecard model", ErrUnsupported)
	}
	if len(doc.Scorecards) > 1 {
		return scoring.Config{}, nil, fmt.Errorf("%w: the document has %d Scorecard models; want one", ErrUnsupported, len(doc.Scorecards))
	}
	sc := &doc.Scorecards[0]
	var notes []string
	note := func(format string, a ...any) { notes = append(notes, fmt.Sprintf(format, a...)) }

	fields := map[string]dataField{}
	for _, f := range doc.DataDictionary.Fields {
		fields[f.Name] = f
	}
	replacement := map[string]string{}
	for _, m := range sc.MiningSchema.Fields {
		if m.MissingValueReplacement != "" {
			replacement[m.Name] = m.MissingValueReplacement
		}
	}
	sign := 1.0
	switch sc.ReasonCodeAlgorithm {
	case "", "pointsBelow":
	case "pointsAbove":
		sign = -1
		note("reasonCodeAlgorithm pointsAbove: a higher score was riskier; every score is negated so that a higher score is better and reason codes rank the same")
	default:
		return scoring.Config{}, nil, fmt.Errorf("%w: reasonCodeAlgorithm %q: want pointsBelow or pointsAbove", ErrUnsupported, sc.ReasonCodeAlgorithm)
	}
	useReasons := sc.UseReasonCodes != "false"
	num := func(what, s string) (float64, error) {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("%w: %s %q: want a number", ErrInvalid, what, s)
		}
		return v, nil
	}
	initial := 0.0
	if sc.InitialScore != "" {
		v, err := num("initialScore", sc.InitialScore)
		if err != nil {
			return scoring.Config{}, nil, err
		}
		initial = v
	}
	modelBaseline := math.NaN()
	if sc.BaselineScore != "" {
		v, err := num("baselineScore", sc.BaselineScore)
		if err != nil {
			return scoring.Config{}, nil, err
		}
		modelBaseline = v
	}

	card := scoring.Scorecard{Name: sc.ModelName}
	if card.Name == "" {
		card.Name = "pmml-import"
	}
	var rounded float64
	round := func(v float64) int32 {
		r := math.Round(v)
		rounded = max(rounded, math.Abs(r-v))
		return int32(max(math.MinInt32, min(math.MaxInt32, r)))
	}
	// A characteristic of True alone (R's scorecard writes its base points
	// so) is a constant: it joins the initial score.
	var list []characteristicElem
	for _, ce := range sc.Characteristics.List {
		if len(ce.Attributes) > 0 && ce.Attributes[0].Complex == nil && len(ce.Attributes[0].Predicates) == 1 && ce.Attributes[0].Predicates[0].XMLName.Local == "True" {
			field := ""
			for ai := range ce.Attributes {
				for pi := range ce.Attributes[ai].Predicates {
					_ = fieldsOf(&ce.Attributes[ai].Predicates[pi], &field, "")
				}
			}
			if field == "" {
				v, err := num(fmt.Sprintf("Characteristic %q partialScore", ce.Name), ce.Attributes[0].PartialScore)
				if err != nil {
					return scoring.Config{}, nil, err
				}
				initial += v
				note("characteristic %q, a constant %s, is added to the initial score", ce.Name, strconv.FormatFloat(v, 'g', -1, 64))
				continue
			}
		}
		list = append(list, ce)
	}
	if len(list) == 0 {
		return scoring.Config{}, nil, fmt.Errorf("%w: the Scorecard has no characteristic on a field", ErrUnsupported)
	}
	for ci, ce := range list {
		where := fmt.Sprintf("Characteristic %d", ci+1)
		if ce.Name != "" {
			where = fmt.Sprintf("Characteristic %q", ce.Name)
		}
		ch, base, err := characteristic(&ce, where, fields, replacement)
		if err != nil {
			return scoring.Config{}, nil, err
		}
		if ch.Name == "" {
			ch.Name = ch.Feature
		}
		for k := 2; slices.ContainsFunc(card.Characteristics, func(c scoring.Characteristic) bool { return c.Name == ch.Name }); k++ {
			ch.Name = fmt.Sprintf("%s_%d", ch.Feature, k)
		}
		// Partial scores, with the initial score on the first characteristic.
		add := 0.0
		if ci == 0 {
			add = initial
		}
		best := math.Inf(-1)
		for i := range ch.Bins {
			ch.Bins[i].Points = round(sign * (ch.points[i] + add))
			best = max(best, sign*(ch.points[i]+add))
		}
		bl := base
		if math.IsNaN(bl) {
			bl = modelBaseline
		}
		switch {
		case !math.IsNaN(bl):
			ch.Baseline = round(sign * (bl + add))
		default:
			if useReasons {
				note("%s has no baselineScore: its best partial score serves as the baseline", where)
			}
			ch.Baseline = round(best)
		}
		if !useReasons || ch.Reason == "" {
			if useReasons {
				note("%s has no reasonCode: its name serves", where)
			}
			ch.Reason = strings.ToUpper(ch.Name)
		}
		card.Characteristics = append(card.Characteristics, ch.Characteristic)
	}
	if initial != 0 {
		note("initialScore %s is added to the points of the first characteristic", strconv.FormatFloat(initial, 'g', -1, 64))
	}
	if !useReasons {
		note("useReasonCodes is false: every characteristic reports its own name as reason code, against its best bin")
	}
	if rounded > 0 {
		note("partial scores are rounded to whole points (by up to %.3g)", rounded)
	}
	cfg := *base
	cfg.Scorecard = card
	cfg.Monitoring.Baseline = nil
	if err := cfg.Validate(); err != nil {
		return scoring.Config{}, nil, fmt.Errorf("%w: the imported scorecard is not valid: %w", ErrUnsupported, err)
	}
	return cfg, notes, nil
}

// importedChar is a characteristic with its bins' partial scores as read.
type importedChar struct {
	scoring.Characteristic
	points []float64
}

// val is one value of a feature, as predicates see it.
type val struct {
	missing bool
	num     float64
	cat     string
}

type tri int8

const (
	triFalse tri = iota
	triTrue
	triUnknown
)

func characteristic(ce *characteristicElem, where string, fields map[string]dataField, replacement map[string]string) (importedChar, float64, error) {
	var out importedChar
	out.Name = ce.Name
	baseline := math.NaN()
	if ce.BaselineScore != "" {
		v, err := strconv.ParseFloat(strings.TrimSpace(ce.BaselineScore), 64)
		if err != nil {
			return out, 0, fmt.Errorf("%w: %s: baselineScore %q: want a number", ErrInvalid, where, ce.BaselineScore)
		}
		baseline = v
	}
	if len(ce.Attributes) == 0 {
		return out, 0, fmt.Errorf("%w: %s has no Attribute", ErrInvalid, where)
	}
	// The one field, the partial scores, the reason code.
	field := ""
	scores := make([]float64, len(ce.Attributes))
	reason := ce.ReasonCode
	for ai := range ce.Attributes {
		a := &ce.Attributes[ai]
		aw := fmt.Sprintf("%s, Attribute %d", where, ai+1)
		if a.Complex != nil {
			return out, 0, fmt.Errorf("%w: %s: ComplexPartialScore (want partialScore)", ErrUnsupported, aw)
		}
		if len(a.Predicates) != 1 {
			return out, 0, fmt.Errorf("%w: %s: want one predicate, got %d", ErrInvalid, aw, len(a.Predicates))
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(a.PartialScore), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return out, 0, fmt.Errorf("%w: %s: partialScore %q: want a number", ErrInvalid, aw, a.PartialScore)
		}
		scores[ai] = v
		if err := fieldsOf(&a.Predicates[0], &field, aw); err != nil {
			return out, 0, err
		}
		if a.ReasonCode != "" {
			if ce.ReasonCode == "" && reason != "" && reason != a.ReasonCode {
				return out, 0, fmt.Errorf("%w: %s: reason code %q differs from %q of another attribute; creditrun keeps one reason code per characteristic",
					ErrUnsupported, aw, a.ReasonCode, reason)
			}
			if ce.ReasonCode == "" {
				reason = a.ReasonCode
			}
		}
	}
	if field == "" {
		return out, 0, fmt.Errorf("%w: %s: its predicates name no field", ErrUnsupported, where)
	}
	id, ok := scoring.FeatureByName(field)
	if !ok {
		return out, 0, fmt.Errorf("%w: %s: field %q is not a creditrun feature (the scores table's columns are)", ErrUnsupported, where, field)
	}
	info := id.Info()
	out.Feature, out.Reason = field, reason
	categorical := info.Kind == scoring.KindCategory
	if df, ok := fields[field]; ok {
		if categorical != (df.Optype == "categorical" || df.Optype == "ordinal" || df.DataType == "string") {
			return out, 0, fmt.Errorf("%w: %s: field %q is %s/%s in the DataDictionary, but creditrun's %s is %s",
				ErrUnsupported, where, field, df.Optype, df.DataType, field, map[bool]string{true: "categorical", false: "numeric"}[categorical])
		}
	}
	pick := func(v val) (int, error) {
		for ai := range ce.Attributes {
			t, err := eval(&ce.Attributes[ai].Predicates[0], v, categorical)
			if err != nil {
				return 0, fmt.Errorf("%s, Attribute %d: %w", where, ai+1, err)
			}
			if t == triTrue {
				return ai, nil
			}
		}
		return -1, nil
	}
	addBin := func(b scoring.Bin, ai int) {
		out.Bins = append(out.Bins, b)
		out.points = append(out.points, scores[ai])
	}
	if categorical {
		var groups [][]string
		var owner []int
		for _, cat := range info.Categories {
			ai, err := pick(val{cat: cat})
			if err != nil {
				return out, 0, err
			}
			if ai < 0 {
				return out, 0, fmt.Errorf("%w: %s: category %q of %s matches no attribute", ErrUnsupported, where, cat, field)
			}
			if k := slices.Index(owner, ai); k >= 0 {
				groups[k] = append(groups[k], cat)
			} else {
				owner, groups = append(owner, ai), append(groups, []string{cat})
			}
		}
		// Bins in the attributes' order.
		for ai := range ce.Attributes {
			if k := slices.Index(owner, ai); k >= 0 {
				addBin(scoring.Bin{Categories: groups[k]}, ai)
			}
		}
	} else {
		edges := edgesOf(ce, info.Kind)
		lo := math.Inf(-1)
		prevAI := -2
		for k := 0; k <= len(edges); k++ {
			hi := math.Inf(1)
			if k < len(edges) {
				hi = edges[k]
			}
			rep := lo
			if math.IsInf(lo, -1) {
				rep = -math.MaxFloat64
				if !math.IsInf(hi, 1) {
					rep = math.Nextafter(hi, math.Inf(-1))
					if integral(info.Kind) {
						rep = hi - 1
					}
				}
			}
			ai, err := pick(val{num: rep})
			if err != nil {
				return out, 0, err
			}
			if ai < 0 {
				return out, 0, fmt.Errorf("%w: %s: values of %s in [%s, %s) match no attribute", ErrUnsupported, where, field, scoring.FormatEdge(lo), scoring.FormatEdge(hi))
			}
			if ai == prevAI {
				out.Bins[len(out.Bins)-1].To = hi
			} else {
				addBin(scoring.Bin{From: lo, To: hi}, ai)
			}
			prevAI, lo = ai, hi
		}
	}
	if info.CanBeMissing {
		mv := val{missing: true}
		if r, ok := replacement[field]; ok {
			if categorical {
				mv = val{cat: r}
			} else {
				v, err := strconv.ParseFloat(strings.TrimSpace(r), 64)
				if err != nil {
					return out, 0, fmt.Errorf("%w: MiningField %s: missingValueReplacement %q: want a number", ErrInvalid, field, r)
				}
				mv = val{num: v}
			}
		}
		ai, err := pick(mv)
		if err != nil {
			return out, 0, err
		}
		if ai < 0 {
			return out, 0, fmt.Errorf("%w: %s: %s can be missing and no attribute takes a missing value (add an isMissing attribute or a missingValueReplacement)",
				ErrUnsupported, where, field)
		}
		addBin(scoring.Bin{Missing: true}, ai)
	}
	return out, baseline, nil
}

// fieldsOf checks that the predicate names only the one field of its
// characteristic (recording it in field) and that its elements are known.
func fieldsOf(p *predicate, field *string, where string) error {
	switch p.XMLName.Local {
	case "True", "False":
		return nil
	case "SimplePredicate", "SimpleSetPredicate":
		if p.Field == "" {
			return fmt.Errorf("%w: %s: %s without a field", ErrInvalid, where, p.XMLName.Local)
		}
		if *field != "" && *field != p.Field {
			return fmt.Errorf("%w: %s: predicates on %q and %q; creditrun's characteristics cut one feature each", ErrUnsupported, where, *field, p.Field)
		}
		*field = p.Field
		return nil
	case "CompoundPredicate":
		for i := range p.Children {
			if p.Children[i].XMLName.Local == "Extension" {
				continue
			}
			if err := fieldsOf(&p.Children[i], field, where); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("%w: %s: predicate %s (want SimplePredicate, SimpleSetPredicate, CompoundPredicate, True or False)", ErrUnsupported, where, p.XMLName.Local)
}

// integral reports whether a feature of the kind only takes whole numbers.
func integral(k scoring.Kind) bool {
	switch k {
	case scoring.KindCount, scoring.KindDays, scoring.KindMonths, scoring.KindScore:
		return true
	}
	return false
}

// edgesOf returns, ascending, the points where a predicate of the
// characteristic can change its value: for a number v, v itself and the
// next number above it (whole numbers for a whole-number feature), so
// that every predicate is constant on each [edge, next edge).
func edgesOf(ce *characteristicElem, kind scoring.Kind) []float64 {
	var edges []float64
	addVal := func(s string) {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return // eval reports it
		}
		if integral(kind) {
			edges = append(edges, math.Ceil(v), math.Floor(v)+1)
		} else {
			edges = append(edges, v, math.Nextafter(v, math.Inf(1)))
		}
	}
	var walk func(p *predicate)
	walk = func(p *predicate) {
		if p.Value != nil {
			addVal(*p.Value)
		}
		if p.Array != nil {
			for _, s := range arrayValues(p.Array.Value) {
				addVal(s)
			}
		}
		for i := range p.Children {
			walk(&p.Children[i])
		}
	}
	for i := range ce.Attributes {
		for j := range ce.Attributes[i].Predicates {
			walk(&ce.Attributes[i].Predicates[j])
		}
	}
	slices.Sort(edges)
	return slices.Compact(edges)
}

// eval evaluates a predicate on a value with PMML's three-valued logic.
func eval(p *predicate, v val, categorical bool) (tri, error) {
	switch p.XMLName.Local {
	case "True":
		return triTrue, nil
	case "False":
		return triFalse, nil
	case "SimplePredicate":
		switch p.Operator {
		case "isMissing":
			return of(v.missing), nil
		case "isNotMissing":
			return of(!v.missing), nil
		}
		if p.Value == nil {
			return 0, fmt.Errorf("%w: SimplePredicate %s without a value", ErrInvalid, p.Operator)
		}
		if v.missing {
			return triUnknown, nil
		}
		if categorical {
			switch p.Operator {
			case "equal":
				return of(v.cat == *p.Value), nil
			case "notEqual":
				return of(v.cat != *p.Value), nil
			}
			return 0, fmt.Errorf("%w: operator %s on the categorical field %s", ErrUnsupported, p.Operator, p.Field)
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(*p.Value), 64)
		if err != nil {
			return 0, fmt.Errorf("%w: SimplePredicate value %q: want a number", ErrInvalid, *p.Value)
		}
		switch p.Operator {
		case "equal":
			return of(v.num == x), nil
		case "notEqual":
			return of(v.num != x), nil
		case "lessThan":
			return of(v.num < x), nil
		case "lessOrEqual":
			return of(v.num <= x), nil
		case "greaterThan":
			return of(v.num > x), nil
		case "greaterOrEqual":
			return of(v.num >= x), nil
		}
		return 0, fmt.Errorf("%w: SimplePredicate operator %q", ErrUnsupported, p.Operator)
	case "SimpleSetPredicate":
		if p.Array == nil {
			return 0, fmt.Errorf("%w: SimpleSetPredicate without an Array", ErrInvalid)
		}
		if v.missing {
			return triUnknown, nil
		}
		in := false
		for _, s := range arrayValues(p.Array.Value) {
			if categorical {
				in = in || s == v.cat
				continue
			}
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return 0, fmt.Errorf("%w: Array value %q: want a number", ErrInvalid, s)
			}
			in = in || x == v.num
		}
		switch p.BooleanOperator {
		case "isIn":
			return of(in), nil
		case "isNotIn":
			return of(!in), nil
		}
		return 0, fmt.Errorf("%w: SimpleSetPredicate booleanOperator %q: want isIn or isNotIn", ErrUnsupported, p.BooleanOperator)
	case "CompoundPredicate":
		var kids []tri
		for i := range p.Children {
			if p.Children[i].XMLName.Local == "Extension" {
				continue
			}
			t, err := eval(&p.Children[i], v, categorical)
			if err != nil {
				return 0, err
			}
			kids = append(kids, t)
		}
		switch p.BooleanOperator {
		case "and":
			if slices.Contains(kids, triFalse) {
				return triFalse, nil
			}
			if slices.Contains(kids, triUnknown) {
				return triUnknown, nil
			}
			return triTrue, nil
		case "or":
			if slices.Contains(kids, triTrue) {
				return triTrue, nil
			}
			if slices.Contains(kids, triUnknown) {
				return triUnknown, nil
			}
			return triFalse, nil
		case "xor":
			if slices.Contains(kids, triUnknown) {
				return triUnknown, nil
			}
			n := 0
			for _, t := range kids {
				if t == triTrue {
					n++
				}
			}
			return of(n%2 == 1), nil
		case "surrogate":
			for _, t := range kids {
				if t != triUnknown {
					return t, nil
				}
			}
			return triUnknown, nil
		}
		return 0, fmt.Errorf("%w: CompoundPredicate booleanOperator %q", ErrUnsupported, p.BooleanOperator)
	}
	return 0, fmt.Errorf("%w: predicate %s", ErrUnsupported, p.XMLName.Local)
}

func of(b bool) tri {
	if b {
		return triTrue
	}
	return triFalse
}

// arrayValues splits an Array's content: values separated by spaces, a
// value with spaces in double quotes (a quote inside escaped as \").
func arrayValues(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"':
			var b strings.Builder
			i++
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
				i++
			}
			i++
			out = append(out, b.String())
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r", rune(s[j])) {
				j++
			}
			out = append(out, s[i:j])
			i = j
		}
	}
	return out
}
