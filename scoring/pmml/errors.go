package pmml

import "errors"

// ErrUnsupported is a PMML document creditrun cannot turn into a policy's
// scorecard: no Scorecard model, a field that is not a creditrun feature, a
// predicate or score form it does not read. Errors wrap it with where.
var ErrUnsupported = errors.New("unsupported PMML scorecard")

// ErrInvalid is a document that is not well-formed PMML.
var ErrInvalid = errors.New("invalid PMML")
