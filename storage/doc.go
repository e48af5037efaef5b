// Package storage is where the pipeline's files live: a Root is a local
// directory or a prefix of an object-store bucket (S3 or any S3-compatible
// store, Google Cloud Storage, Azure Blob Storage, or memory), opened from
// a path or a URL, with the operations a batch over Parquet needs.
//
// Every write is atomic per file: a Writer's bytes appear under their
// name only when Close succeeds, all at once, and never after Abort, a
// failure or a crash. Locally that is a temporary file, fsynced and
// renamed (or linked, for CreateIfAbsent) into place; on an object store a
// multipart upload, completed on Close, whose parts bound the writer's
// memory whatever the file's size. CreateIfAbsent is the conditional write
// object stores offer in place of rename (If-None-Match: *): of several
// writers of one name, one wins and the others get ErrExist.
//
// Reads are ranged: a File is an io.ReaderAt whose misses on an object
// store fetch a window that grows while the reads continue one another,
// so a Parquet reader that reads a footer and then a few column chunks
// moves little more than those bytes.
//
// Names are slash-separated paths relative to their root, as io/fs has
// them. Object stores have no directories: a directory there is a prefix
// that keys continue with "/", listed as a common prefix; it exists as
// long as an object is under it.
//
// Errors are typed for the caller's decisions: ErrNotExist and ErrExist
// (fs.ErrNotExist and fs.ErrExist), and ErrTransient (IsTransient) for a
// store that is unreachable, overloaded or timing out, worth a retry
// later; every other failure is permanent.
package storage
