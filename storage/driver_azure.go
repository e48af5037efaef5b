//go:build azure

package storage

// Azure Blob Storage (azblob://), in a build with -tags azure: its SDK
// adds some 11 MiB to the resident memory of every command, so that a
// build without the tag leaves it out.
import _ "gocloud.dev/blob/azureblob"
