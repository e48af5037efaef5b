package source

import (
	"fmt"
	"strconv"
	"unicode/utf8"

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
		return 0, ReasonOutOfRange, rangeDetail(c, i, name)
	}
	return v, "", ""
}

// rangeDetail names the column and the value that does not fit.
func rangeDetail(c *colData, i int, name string) string {
	return name + "=" + c.rawText(i) + ": out of range"
}

// text returns row i of a string column: ok is false when it is null or
// empty; a value that is not UTF-8 or longer than maxBytes is a reject.
func text(c *colData, i int, name string, maxBytes int) (s []byte, ok bool, reason, detail string) {
	s, ok = c.bytes(i)
	if !ok {
		return nil, false, "", ""
	}
	if !utf8.Valid(s) {
		return nil, false, ReasonInvalidUTF8, quoted(name, s) + ": not UTF-8"
	}
	if len(s) > maxBytes {
		return nil, false, ReasonIDTooLong, fmt.Sprintf("%s: %d bytes, at most %d", name, len(s), maxBytes)
	}
	return s, true, "", ""
}

// required is text for a column that must be present.
func required(c *colData, i int, name string, maxBytes int) (s []byte, reason, detail string) {
	s, ok, reason, detail := text(c, i, name, maxBytes)
	if reason == "" && !ok {
		return nil, ReasonNullRequired, name
	}
	return s, reason, detail
}

// optional returns row i of a nullable numeric column: ok is false when
// null; a value out of range is a reject.
func optional(c *colData, i int, name string) (v int64, ok bool, reason, detail string) {
	v, st := c.num(i)
	switch st {
	case absent:
		return 0, false, "", ""
	case invalid:
		return 0, false, ReasonOutOfRange, rangeDetail(c, i, name)
	}
	return v, true, "", ""
}

// quoted is name="value", escaped so that the detail is UTF-8 whatever the
// bytes; a long value is cut.
func quoted(name string, b []byte) string {
	if len(b) > maxKeyBytes {
		return name + "=" + strconv.Quote(string(b[:maxKeyBytes])) + "…"
	}
	return name + "=" + strconv.Quote(string(b))
}

func moneyDetail(name string, v int64) string { return name + "=" + billing.Money(v).String() }

func intDetail(name string, v int64) string { return fmt.Sprintf("%s=%d", name, v) }
