#!/usr/bin/env bash
# bench/s3.sh — a night with --out on object storage against the same night
# on local disk: versitygw (VERSITYGW, default .tools/bin/versitygw) on
# loopback over a directory of the same disk, a book of ACCOUNTS accounts
# (default 300000) generated into BENCH_DIR. The first night (from the
# master) is published once each way; then the second night runs RUNS
# times each way, alternately (local, S3, local, S3, …), so that the other
# work of a shared machine weighs on both alike. Each line: wall seconds,
# user+system CPU seconds of creditrun, peak RSS, and for S3 the bytes
# uploaded and downloaded (creditrun's log), the requests versitygw served
# (its access log) and the CPU seconds versitygw spent.
set -euo pipefail
cd "$(dirname "$0")/.."
ACCOUNTS=${ACCOUNTS:-300000}
RUNS=${RUNS:-3}
DIR=${BENCH_DIR:-/tmp/creditrun-s3bench}
VGW=${VERSITYGW:-$PWD/.tools/bin/versitygw}
START=2025-01-01
NEXT=2025-01-02
mkdir -p "$DIR"
make -s build
BIN=$PWD/bin/creditrun
EV="$DIR/events-${ACCOUNTS}x2"
[ -f "$EV/.done" ] || { rm -rf "$EV"; "$BIN" gen --accounts "$ACCOUNTS" --days 2 --start "$START" --seed 1 --out "$EV" >/dev/null && touch "$EV/.done"; }

# The server, on a free port, logging every request.
rm -rf "$DIR/s3" "$DIR/local" "$DIR/work"; mkdir -p "$DIR/s3/bench" "$DIR/work"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=benchsecret AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=http://127.0.0.1:$PORT AWS_S3_USE_PATH_STYLE=true
rmdir "$DIR/s3/bench"
ROOT_ACCESS_KEY=$AWS_ACCESS_KEY_ID ROOT_SECRET_KEY=$AWS_SECRET_ACCESS_KEY \
  "$VGW" --port 127.0.0.1:$PORT --quiet --access-log "$DIR/access.log" posix "$DIR/s3" >"$DIR/vgw.log" 2>&1 &
VGW_PID=$!
trap 'kill $VGW_PID 2>/dev/null' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "$AWS_ENDPOINT_URL/" && break; sleep 0.1; done
curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
  -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" -X PUT "$AWS_ENDPOINT_URL/bench" >/dev/null
OUT=s3://bench/out

cpu_of() { awk '{print ($14+$15)/100}' "/proc/$1/stat"; } # utime+stime, clock ticks of 1/100 s
# timed NAME CMD… : one line of figures for one night.
timed() {
  local name=$1; shift
  local req0 vcpu0 log="$DIR/.log"
  req0=$(wc -l <"$DIR/access.log" 2>/dev/null || echo 0); vcpu0=$(cpu_of $VGW_PID)
  /usr/bin/time -f "%e %U %S %M" -o "$DIR/.time" "$@" >/dev/null 2>"$log" || { cat "$log" >&2; exit 1; }
  local req vcpu up down
  req=$(( $(wc -l <"$DIR/access.log") - req0 )); vcpu=$(awk -v a="$vcpu0" -v b="$(cpu_of $VGW_PID)" 'BEGIN{printf "%.2f", b-a}')
  up=$(grep -o '"bytes_uploaded":[0-9]*' "$log" | tail -1 | cut -d: -f2 || true)
  down=$(grep -o '"bytes_downloaded":[0-9]*' "$log" | tail -1 | cut -d: -f2 || true)
  awk -v n="$name" -v r="$req" -v vc="$vcpu" -v up="${up:-0}" -v down="${down:-0}" \
    '{printf "%-6s wall %6.2f s  cpu %6.2f s  rss %5d MiB  up %6.1f MiB  down %6.1f MiB  requests %5d  versitygw cpu %5.2f s\n", n, $1, $2+$3, $4/1024, up/1048576, down/1048576, (n=="local")?0:r, (n=="local")?0:vc}' "$DIR/.time"
}

echo "first night $START, $ACCOUNTS accounts, from the master:"
timed local "$BIN" run --as-of $START --events "$EV" --out "$DIR/local" --state "$EV/accounts" --log-level info
timed s3 "$BIN" run --as-of $START --events "$EV" --out $OUT --work "$DIR/work" --state "$EV/accounts" --log-level info
echo "second night $NEXT, alternately ($RUNS each; each S3 run commits the date again):"
for i in $(seq "$RUNS"); do
  rm -rf "$DIR/local/as_of=$NEXT"
  timed local "$BIN" run --as-of $NEXT --events "$EV" --out "$DIR/local" --log-level info
  timed s3 "$BIN" run --as-of $NEXT --events "$EV" --out $OUT --work "$DIR/work" --log-level info
done
echo "published on the store, bytes of one night (du of the local as_of=$NEXT): $(du -sb "$DIR/local/as_of=$NEXT" | cut -f1)"
