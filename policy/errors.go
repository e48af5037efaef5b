package policy

import (
	"strconv"
	"strings"
)

// Problem is one mistake in a policy file. Line is 1-based; 0 when the
// problem concerns a setting the file leaves to its default.
type Problem struct {
	Line int
	Msg  string
}

// ProblemsError lists every problem found in a policy file, in line order.
type ProblemsError struct {
	Name     string // the file's name
	Problems []Problem
}

// Error formats each problem on its own line as "name:line: message".
func (e *ProblemsError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Name)
		if p.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(p.Line))
		}
		b.WriteString(": ")
		b.WriteString(p.Msg)
	}
	return b.String()
}
