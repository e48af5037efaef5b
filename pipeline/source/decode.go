package source

import (
	"fmt"
	"strconv"

	"github.com/creditrun/creditrun/billing"
)

// need returns row i of a numeric column that must be present, or the
// reject it calls for.
func need(c *colData, i int, name string) (v int64, reason, detail string) {
	v, st := c.num(i)
	switch st {
	case absent:
		return 0, ReasonNullRequired, name
	case invalid:
		return 0, ReasonOutOfRange, name + ": value out of range"
	}
	return v, "", ""
}

// optional returns row i of a nullable numeric column: ok is false when
// null; a value out of range is a reject.
func optional(c *colData, i int, name string) (v int64, ok bool, reason, detail string) {
	v, st := c.num(i)
	switch st {
	case absent:
		return 0, false, "", ""
	case invalid:
		return 0, false, ReasonOutOfRange, name + ": value out of range"
	}
	return v, true, "", ""
}

func quoted(name string, b []byte) string { return name + "=" + strconv.Quote(string(b)) }

func moneyDetail(name string, v int64) string { return name + "=" + billing.Money(v).String() }

func intDetail(name string, v int64) string { return fmt.Sprintf("%s=%d", name, v) }
