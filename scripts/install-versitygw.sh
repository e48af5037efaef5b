#!/usr/bin/env bash
# Installs versitygw, the S3 server the storage tests start on loopback,
# into .tools/bin/ (ignored by git), building it from the Go module proxy
# (about a minute). Does nothing when that version is already there.
# Prints the binary's path; the tests find it there, or at $VERSITYGW.
set -euo pipefail
cd "$(dirname "$0")/.."
version=v1.8.0
tools="$PWD/.tools"
bin="$tools/bin/versitygw"
stamp="$tools/bin/.versitygw-$version"
if [ -x "$bin" ] && [ -f "$stamp" ]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$tools/bin"
rm -f "$tools/bin"/.versitygw-*
GOBIN="$tools/bin" GOFLAGS=-trimpath go install "github.com/versity/versitygw/cmd/versitygw@$version" >&2
touch "$stamp"
echo "$bin"
