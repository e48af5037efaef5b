//go:build gcs

package storage

// Google Cloud Storage (gs://), in a build with -tags gcs: its client
// brings gRPC, OpenTelemetry and xDS with it, whose package
// initialisation alone adds some 27 MiB to the resident memory of every
// command, so that a build without the tag leaves it out.
import _ "gocloud.dev/blob/gcsblob"
