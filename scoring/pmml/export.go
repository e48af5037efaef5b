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

// Export writes cfg's scorecard as a PMML 4.4 Scorecard model: a
// DataField and MiningField per feature (categorical ones with their
// categories), a Characteristic per characteristic with its reason code
// and baseline, an Attribute per bin (ranges as greaterOrEqual/lessThan,
// categories as SimpleSetPredicate isIn, the missing bin as isMissing),
// reasonCodeAlgorithm pointsBelow and initialScore 0, and Output fields
// for the score and the top scoring.NumReasons reason codes. Import of the
// result gives back the same scorecard.
func Export(w io.Writer, cfg *scoring.Config) error {
	doc := document{Xmlns: Namespace, Version: "4.4",
		Header: header{Description: "creditrun scorecard " + cfg.Scorecard.Name, Application: &application{Name: "creditrun"}}}
	sc := scorecardElem{
		ModelName: cfg.Scorecard.Name, FunctionName: "regression", UseReasonCodes: "true",
		ReasonCodeAlgorithm: "pointsBelow", InitialScore: "0", BaselineMethod: "other",
	}
	var seen []string
	for _, ch := range cfg.Scorecard.Characteristics {
		id, ok := scoring.FeatureByName(ch.Feature)
		if !ok {
			return fmt.Errorf("%w: unknown feature %q", ErrUnsupported, ch.Feature)
		}
		if !slices.Contains(seen, ch.Feature) {
			seen = append(seen, ch.Feature)
			info := id.Info()
			df := dataField{Name: ch.Feature, Optype: "continuous", DataType: "double"}
			if info.Kind == scoring.KindCategory {
				df.Optype, df.DataType = "categorical", "string"
				for _, c := range info.Categories {
					df.Values = append(df.Values, value{c})
				}
			}
			doc.DataDictionary.Fields = append(doc.DataDictionary.Fields, df)
			sc.MiningSchema.Fields = append(sc.MiningSchema.Fields, miningField{Name: ch.Feature, UsageType: "active"})
		}
		ce := characteristicElem{Name: ch.Name, ReasonCode: ch.Reason, BaselineScore: strconv.Itoa(int(ch.Baseline))}
		for _, b := range ch.Bins {
			a := attributeElem{PartialScore: strconv.Itoa(int(b.Points))}
			a.Predicates = []predicate{binPredicate(ch.Feature, b)}
			ce.Attributes = append(ce.Attributes, a)
		}
		sc.Characteristics.List = append(sc.Characteristics.List, ce)
	}
	doc.DataDictionary.Fields = append(doc.DataDictionary.Fields, dataField{Name: "score", Optype: "continuous", DataType: "double"})
	doc.DataDictionary.NumberOfFields = len(doc.DataDictionary.Fields)
	sc.MiningSchema.Fields = append(sc.MiningSchema.Fields, miningField{Name: "score", UsageType: "target"})
	sc.Output = &output{Fields: []outputField{{Name: "final_score", Optype: "continuous", DataType: "double", Feature: "predictedValue"}}}
	for k := 1; k <= scoring.NumReasons; k++ {
		sc.Output.Fields = append(sc.Output.Fields, outputField{Name: "reason_" + strconv.Itoa(k), Optype: "categorical",
			DataType: "string", Feature: "reasonCode", Rank: k})
	}
	doc.Scorecards = []scorecardElem{sc}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write PMML: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func simple(field, op string, v float64) predicate {
	s := strconv.FormatFloat(v, 'g', -1, 64)
	return predicate{XMLName: xml.Name{Local: "SimplePredicate"}, Field: field, Operator: op, Value: &s}
}

// binPredicate is the predicate of one bin.
func binPredicate(field string, b scoring.Bin) predicate {
	switch {
	case b.Missing:
		return predicate{XMLName: xml.Name{Local: "SimplePredicate"}, Field: field, Operator: "isMissing"}
	case len(b.Categories) > 0:
		q := make([]string, len(b.Categories))
		for i, c := range b.Categories {
			q[i] = `"` + strings.ReplaceAll(c, `"`, `\"`) + `"`
		}
		return predicate{XMLName: xml.Name{Local: "SimpleSetPredicate"}, Field: field, BooleanOperator: "isIn",
			Array: &array{N: len(q), Type: "string", Value: strings.Join(q, " ")}}
	case math.IsInf(b.From, -1) && math.IsInf(b.To, 1):
		return predicate{XMLName: xml.Name{Local: "SimplePredicate"}, Field: field, Operator: "isNotMissing"}
	case math.IsInf(b.From, -1):
		return simple(field, "lessThan", b.To)
	case math.IsInf(b.To, 1):
		return simple(field, "greaterOrEqual", b.From)
	}
	return predicate{XMLName: xml.Name{Local: "CompoundPredicate"}, BooleanOperator: "and",
		Children: []predicate{simple(field, "greaterOrEqual", b.From), simple(field, "lessThan", b.To)}}
}
