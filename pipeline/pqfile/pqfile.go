// Package pqfile reads and writes whole Parquet files of Go row structs with
// parquet-go: the project's own outputs and state, whose schemas it defines
// by struct tags. Files are written to be durable (fsynced before close) and
// deterministic (same rows, same bytes). Inputs from other writers are read
// by pipeline/source instead.
package pqfile

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"

	"github.com/klauspost/compress/s2"
)

// Options every file is written with: snappy (cheap, and read by every
// engine), row groups small enough that readers can stream them, and
// pages of 64 KiB: a night writes some 250 columns at once and the writer
// holds a page buffer for each, so the page size is part of its memory.
func writerOptions() []parquet.WriterOption {
	return []parquet.WriterOption{
		parquet.Compression(&fastSnappy{}),
		parquet.MaxRowsPerRowGroup(256 << 10),
		parquet.PageBufferSize(64 << 10),
		parquet.CreatedBy("creditrun", "", ""),
	}
}

// fastSnappy is the SNAPPY codec with the fast block encoder: parquet-go's
// own goes through klauspost's snappy.Encode, which always takes the
// slower "better" path. The blocks are standard snappy; any reader decodes
// them.
type fastSnappy struct{ snappy.Codec }

func (*fastSnappy) Encode(dst, src []byte) ([]byte, error) { return s2.EncodeSnappy(dst, src), nil }

// Writer streams rows of T into one file.
type Writer[T any] struct {
	f    *os.File
	w    *parquet.GenericWriter[T]
	rows int64
}

// Create creates path and returns a writer for rows of T.
func Create[T any](path string) (*Writer[T], error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &Writer[T]{f: f, w: parquet.NewGenericWriter[T](f, writerOptions()...)}, nil
}

// Write appends rows.
func (w *Writer[T]) Write(rows []T) error {
	if len(rows) == 0 {
		return nil
	}
	n, err := w.w.Write(rows)
	w.rows += int64(n)
	if err != nil {
		return fmt.Errorf("write %s: %w", w.f.Name(), err)
	}
	return nil
}

// Rows returns how many rows were written.
func (w *Writer[T]) Rows() int64 { return w.rows }

// Close flushes the footer, fsyncs and closes the file.
func (w *Writer[T]) Close() error {
	err := w.w.Close()
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close %s: %w", w.f.Name(), err)
	}
	return nil
}

// Abort closes the file without caring for its content (the caller removes
// the temporary directory it is in). It is safe on a nil writer.
func (w *Writer[T]) Abort() {
	if w != nil {
		w.f.Close()
	}
}

// WriteFile writes rows to path in one go.
func WriteFile[T any](path string, rows []T) error {
	w, err := Create[T](path)
	if err != nil {
		return err
	}
	if err := w.Write(rows); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// ReadFile reads every row of path into a slice of T. The file must have
// been written by this package (or have the same schema).
func ReadFile[T any](path string) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r := parquet.NewGenericReader[T](pf)
	defer r.Close()
	rows := make([]T, pf.NumRows())
	n := 0
	for n < len(rows) {
		k, err := r.Read(rows[n:])
		n += k
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
	if n != len(rows) {
		return nil, fmt.Errorf("read %s: got %d rows, footer says %d", path, n, len(rows))
	}
	return rows, nil
}
