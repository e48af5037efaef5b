package source

import (
	"fmt"
	"io/fs"
)

// Landing says how a night decides that a dataset's partitions have landed.
// The zero value accepts any partition that holds a Parquet file and refuses
// a night whose needed partition is missing.
type Landing struct {
	// RequireMarker: every partition a night needs must hold _SUCCESS (the
	// Hadoop, Spark and Airflow convention for "this partition is
	// complete"), and an unpartitioned directory must hold one at its root.
	// Without it a partition with or without _SUCCESS is taken as landed
	// once it holds a Parquet file.
	RequireMarker bool
	// Sparse: a partition the night needs that does not exist is a day
	// without rows, for writers that make no directory for an empty day
	// (DuckDB COPY … PARTITION_BY, Spark partitionBy). A dataset with no
	// data at all, or one a writer is still writing (_temporary/,
	// .spark-staging), is still not landed.
	Sparse bool
}

// Warning is something a dataset holds that a night skips without failing:
// a __HIVE_DEFAULT_PARTITION__ (rows whose partition key was null), a
// symbolic link back to a directory above it, a neighbouring partition that
// has not landed.
type Warning struct {
	Dataset string
	Path    string
	What    string
}

func (w Warning) String() string { return w.Dataset + " " + w.Path + ": " + w.What }

// NotLandedError reports that a dataset does not yet hold what a night
// needs: upstream has not landed it, or is still writing it. Running would
// publish a night without its events. It wraps ErrNotLanded (and
// fs.ErrNotExist when the dataset itself does not exist).
type NotLandedError struct {
	Dataset string
	// Path is the dataset, or the directory at fault within it.
	Path string
	// Partition is the partition at fault as its directory is named
	// (dt=2025-03-10, year=2025/month=03/day=10); empty for the dataset as
	// a whole.
	Partition string
	// Reason says what is missing and, where it is legitimate, how to run
	// anyway.
	Reason string

	notExist bool
}

func (e *NotLandedError) Error() string {
	return fmt.Sprintf("%s %s (%s)", e.Dataset, e.Reason, e.Path)
}

func (e *NotLandedError) Unwrap() []error {
	if e.notExist {
		return []error{ErrNotLanded, fs.ErrNotExist}
	}
	return []error{ErrNotLanded}
}

const (
	sparseHint = "if its writer makes no partition for a day without rows (DuckDB PARTITION_BY, Spark partitionBy), run in sparse mode (--sparse-partitions)"
	emptyHint  = "an empty day is an empty Parquet file, not an empty directory"
)
