package pmml

import "encoding/xml"

// The PMML 4.4 elements a scorecard uses. Element names match in any
// namespace, so documents of PMML 4.2 and 4.3 read too.

// Namespace is the PMML 4.4 namespace Export writes.
const Namespace = "http://www.dmg.org/PMML-4_4"

type document struct {
	XMLName        xml.Name        `xml:"PMML"`
	Xmlns          string          `xml:"xmlns,attr,omitempty"`
	Version        string          `xml:"version,attr"`
	Header         header          `xml:"Header"`
	DataDictionary dataDictionary  `xml:"DataDictionary"`
	Scorecards     []scorecardElem `xml:"Scorecard"`
	// Other models of the document are not read.
}

type header struct {
	Copyright   string       `xml:"copyright,attr,omitempty"`
	Description string       `xml:"description,attr,omitempty"`
	Application *application `xml:"Application"`
}

type application struct {
	Name    string `xml:"name,attr"`
	Version string `xml:"version,attr,omitempty"`
}

type dataDictionary struct {
	NumberOfFields int         `xml:"numberOfFields,attr,omitempty"`
	Fields         []dataField `xml:"DataField"`
}

type dataField struct {
	Name     string  `xml:"name,attr"`
	Optype   string  `xml:"optype,attr"`
	DataType string  `xml:"dataType,attr"`
	Values   []value `xml:"Value"`
}

type value struct {
	Value string `xml:"value,attr"`
}

type scorecardElem struct {
	ModelName           string          `xml:"modelName,attr,omitempty"`
	FunctionName        string          `xml:"functionName,attr"`
	UseReasonCodes      string          `xml:"useReasonCodes,attr,omitempty"`
	ReasonCodeAlgorithm string          `xml:"reasonCodeAlgorithm,attr,omitempty"`
	InitialScore        string          `xml:"initialScore,attr,omitempty"`
	BaselineScore       string          `xml:"baselineScore,attr,omitempty"`
	BaselineMethod      string          `xml:"baselineMethod,attr,omitempty"`
	MiningSchema        miningSchema    `xml:"MiningSchema"`
	Output              *output         `xml:"Output"`
	Characteristics     characteristics `xml:"Characteristics"`
}

type miningSchema struct {
	Fields []miningField `xml:"MiningField"`
}

type miningField struct {
	Name                    string `xml:"name,attr"`
	UsageType               string `xml:"usageType,attr,omitempty"`
	MissingValueReplacement string `xml:"missingValueReplacement,attr,omitempty"`
	InvalidValueTreatment   string `xml:"invalidValueTreatment,attr,omitempty"`
}

type output struct {
	Fields []outputField `xml:"OutputField"`
}

type outputField struct {
	Name     string `xml:"name,attr"`
	Optype   string `xml:"optype,attr,omitempty"`
	DataType string `xml:"dataType,attr,omitempty"`
	Feature  string `xml:"feature,attr,omitempty"`
	Rank     int    `xml:"rank,attr,omitempty"`
}

type characteristics struct {
	List []characteristicElem `xml:"Characteristic"`
}

type characteristicElem struct {
	Name          string          `xml:"name,attr,omitempty"`
	ReasonCode    string          `xml:"reasonCode,attr,omitempty"`
	BaselineScore string          `xml:"baselineScore,attr,omitempty"`
	Attributes    []attributeElem `xml:"Attribute"`
}

type attributeElem struct {
	ReasonCode   string      `xml:"reasonCode,attr,omitempty"`
	PartialScore string      `xml:"partialScore,attr,omitempty"`
	Complex      *struct{}   `xml:"ComplexPartialScore"`
	Extensions   []struct{}  `xml:"Extension"`
	Predicates   []predicate `xml:",any"`
}

// predicate is any of SimplePredicate, SimpleSetPredicate,
// CompoundPredicate, True and False, told apart by XMLName.
type predicate struct {
	XMLName         xml.Name
	Field           string      `xml:"field,attr,omitempty"`
	Operator        string      `xml:"operator,attr,omitempty"`
	Value           *string     `xml:"value,attr"`
	BooleanOperator string      `xml:"booleanOperator,attr,omitempty"`
	Array           *array      `xml:"Array"`
	Children        []predicate `xml:",any"`
}

type array struct {
	N     int    `xml:"n,attr,omitempty"`
	Type  string `xml:"type,attr"`
	Value string `xml:",chardata"`
}
