// Package objout publishes a local directory tree on an object store,
// which has no rename, as object-store committers do: the tree is staged
// on local disk, uploaded under a prefix of its own that no reader looks
// at, listed with every object's size and SHA-256 in a manifest, and
// published by one create-if-absent write of a numbered commit pointer.
//
// The layout of a partition P (as_of=2025-07-04, or a shard's part) in the
// store:
//
//	P/run=ID/…                 the objects of one run, as the tree had them
//	P/run=ID/_objects.json     its manifest: every object, size and SHA-256
//	P/_commits/000001.json     the first commit pointer: names a run's manifest
//	P/_commits/000002.json     a rerun's, and so on
//
// A reader takes the highest pointer, reads the manifest it names (whose
// size and SHA-256 the pointer records) and reads only the objects the
// manifest lists; a partition without a pointer is not published. A run
// that dies before its pointer is written leaves a prefix no pointer
// names, which GC removes once it is old enough.
//
// The package is a library: it never logs and knows nothing of what the
// objects hold.
package objout
