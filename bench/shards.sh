#!/usr/bin/env bash
# bench/shards.sh — 1, 2 and 4 shards of one night, processes one after the
# other on this machine: CPU seconds, wall and peak RSS of every shard and
# of the commit (GNU time), the bytes of the parts and of the published
# date. A book of ACCOUNTS accounts is generated, its first night run from
# the master; then, for each shard count N, the second night (from the
# first night's single snapshot) and the third (from the second's N parts)
# are run as N shards and a commit; last, the same two nights as plain runs.
#   ACCOUNTS=300000 BENCH_DIR=/tmp/creditrun-shards bench/shards.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ACCOUNTS=${ACCOUNTS:-300000}
DIR=${BENCH_DIR:-/tmp/creditrun-shards}
make -s build
BIN=$PWD/bin/creditrun
mkdir -p "$DIR"
ev=$DIR/events
[ -d "$ev" ] || "$BIN" gen --accounts "$ACCOUNTS" --days 3 --start 2025-03-01 --seed 5 --out "$ev" >/dev/null
t() { # label, command…: stdout to a file, not /dev/null (a character device, which the commands take for a terminal)
  local label=$1; shift
  /usr/bin/time -f "$label wall=%e user=%U sys=%S maxrss_kb=%M" "$@" 2>>"$DIR/time.err" >"$DIR/stdout.txt" ||
    { echo "FAILED $label"; tail -5 "$DIR/time.err"; exit 1; }
  tail -1 "$DIR/time.err"
}
rm -rf "$DIR/base" "$DIR"/out* "$DIR/plain" "$DIR/time.err"
t "base night 2025-03-01 (from master)" "$BIN" run --as-of 2025-03-01 --events "$ev" --out "$DIR/base" --state "$ev/accounts" --log-level warn
for N in 1 2 4; do
  out=$DIR/out$N; cp -a "$DIR/base" "$out"
  for D in 2025-03-02 2025-03-03; do
    for k in $(seq 0 $((N-1))); do
      t "N=$N $D shard $k" "$BIN" run --as-of $D --events "$ev" --out "$out" --shards $N --shard $k --log-level warn
    done
    echo "N=$N $D parts_bytes=$(du -sb "$out/_shards" | cut -f1)"
    t "N=$N $D commit" "$BIN" commit --as-of $D --out "$out" --shards $N --log-level warn
    echo "N=$N $D published_bytes=$(du -sb "$out/as_of=$D" | cut -f1) state_bytes=$(du -sb "$out/as_of=$D/state" | cut -f1)"
  done
done
out=$DIR/plain; cp -a "$DIR/base" "$out"
for D in 2025-03-02 2025-03-03; do
  t "plain $D run" "$BIN" run --as-of $D --events "$ev" --out "$out" --log-level warn
  echo "plain $D published_bytes=$(du -sb "$out/as_of=$D" | cut -f1)"
done
