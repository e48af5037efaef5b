package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/pipeline/source"
	"github.com/creditrun/creditrun/report"
)

var reportCommand = command{"report", "--out DIR [--from D1] [--to D2] [--html FILE]",
	"write the HTML report of a night and of the book over a range", cmdReport}

func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report")
	out := fs.String("out", "", "the published book, as run and backfill wrote it: a directory or a URL such as s3://bucket/prefix (required)")
	var from, to dateFlag
	fs.Var(&from, "from", "first date of the range views (default: the first published date)")
	fs.Var(&to, "to", "the night shown, and the last date of the range (default: the last published date)")
	html := fs.String("html", "", "the HTML file to write (default: OUT/report_FROM_TO.html, on object storage too)")
	pos, err := parse(fs, args, stdout, stderr)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: creditrun report: --out is required", pipeline.ErrUsage)
	}
	if source.IsURL(*out) {
		path, err := objectReport(ctx, *out, from.d, to.d, *html)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, path)
		return nil
	}
	path, err := writeReport(*out, from.d, to.d, *html)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, path)
	return nil
}

// writeReport writes the report of the published dates from..to of out
// (0: the first and the last) to path (empty: in out) and returns where.
func writeReport(out string, from, to billing.Date, path string) (string, error) {
	name, data, err := renderReport(out, out, from, to)
	if err != nil {
		return "", err
	}
	if path == "" {
		path = filepath.Join(out, name)
	}
	return path, writeAside(path, data)
}

// renderReport renders the report of the published dates from..to of the
// local output root out, which it names shown, and returns its default
// name in the output root.
func renderReport(out, shown string, from, to billing.Date) (name string, data []byte, err error) {
	b, err := pipeline.ReadReport(out, from, to)
	if err != nil {
		return "", nil, err
	}
	b.Out = shown
	var buf bytes.Buffer
	if err := report.Render(&buf, b); err != nil {
		return "", nil, err
	}
	return fmt.Sprintf("report_%s_%s.html", b.From, b.To), buf.Bytes(), nil
}

// writeAside writes data to path, aside first and renamed.
func writeAside(path string, data []byte) error {
	// Written aside and renamed: a reader never sees half a report.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
