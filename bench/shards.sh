#!/usr/bin/env bash
# bench/shards.sh — 1, 2 and 4 shards of one night, processes one after the
# other on this machine: CPU seconds, wall and peak RSS of every shard and
# of the commit (GNU time), the bytes of the parts and of the published
# date. A book of ACCOUNTS accounts is generated, its first night run from
# the master; then, in each of ROUNDS rounds and for each binary of BINS
# (default: this tree's build), the plain run and each shard count N run
# the second night (from the first night's single snapshot) and the third
# (from the second's N parts, the steady state of a sharded book) as N
# shards and a commit. The order of the shard counts turns from round to
# round, so that the other work of a shared machine weighs on each alike;
# the totals per night are summed at the end. PROFILE=1 writes a CPU
# profile of every shard of the last round's 4-shard third night.
#   ACCOUNTS=300000 ROUNDS=2 BENCH_DIR=/tmp/creditrun-shards bench/shards.sh
#   BINS="bin/creditrun /tmp/old/creditrun" bench/shards.sh   # two builds, alternately
set -euo pipefail
cd "$(dirname "$0")/.."
ACCOUNTS=${ACCOUNTS:-300000}
ROUNDS=${ROUNDS:-2}
DIR=${BENCH_DIR:-/tmp/creditrun-shards}
make -s build
BINS=${BINS:-$PWD/bin/creditrun}
read -ra bins <<<"$BINS"
mkdir -p "$DIR"
ev=$DIR/events
[ -d "$ev" ] || "${bins[0]}" gen --accounts "$ACCOUNTS" --days 3 --start 2025-03-01 --seed 5 --out "$ev" >/dev/null
echo "events_bytes=$(du -sb "$ev" | cut -f1) files=$(find "$ev" -name '*.parquet' | wc -l)"
LOG=$DIR/times.log
t() { # label, command…: stdout to a file, not /dev/null (a character device, which the commands take for a terminal)
  local label=$1; shift
  /usr/bin/time -f "$label wall=%e user=%U sys=%S maxrss_kb=%M" "$@" 2>>"$DIR/time.err" >"$DIR/stdout.txt" ||
    { echo "FAILED $label"; tail -5 "$DIR/time.err"; exit 1; }
  tail -1 "$DIR/time.err" | tee -a "$LOG"
}
rm -rf "$DIR/base" "$DIR"/out* "$DIR/time.err" "$DIR"/prof-* "$LOG"
t "base night 2025-03-01 (from master)" "${bins[0]}" run --as-of 2025-03-01 --events "$ev" --out "$DIR/base" --state "$ev/accounts" --log-level warn
orders=("0 1 2 4" "4 2 1 0" "2 0 4 1" "1 4 0 2")
for r in $(seq 1 "$ROUNDS"); do
  for b in "${!bins[@]}"; do
    BIN=${bins[$b]}
    for N in ${orders[$(( (r - 1) % 4 ))]}; do
      tag="round=$r bin=$b N=$N"
      out=$DIR/out; rm -rf "$out"; cp -a "$DIR/base" "$out"
      for D in 2025-03-02 2025-03-03; do
        if [ "$N" = 0 ]; then
          t "$tag $D plain" "$BIN" run --as-of $D --events "$ev" --out "$out" --log-level warn
        else
          for k in $(seq 0 $((N-1))); do
            prof=()
            if [ "${PROFILE:-0}" = 1 ] && [ "$r" = "$ROUNDS" ] && [ "$N" = 4 ] && [ $D = 2025-03-03 ]; then
              prof=(--cpuprofile "$DIR/prof-bin$b-shard$k.pprof")
            fi
            t "$tag $D shard $k" "$BIN" run --as-of $D --events "$ev" --out "$out" --shards $N --shard $k --log-level warn "${prof[@]}"
          done
          echo "$tag $D parts_bytes=$(du -sb "$out/_shards" | cut -f1)"
          t "$tag $D commit" "$BIN" commit --as-of $D --out "$out" --shards $N --log-level warn
        fi
        echo "$tag $D published_bytes=$(du -sb "$out/as_of=$D" | cut -f1) state_bytes=$(du -sb "$out/as_of=$D/state" | cut -f1)"
      done
    done
  done
done
rm -rf "$DIR/out"
# CPU seconds (user + sys) of every process of a night, commit included, summed over the rounds;
# the longest process's wall (the night's wall when the shards run at once on N machines) and the
# commit's.
echo
echo "Totals over $ROUNDS rounds (CPU-s per night, mean; longest shard and commit wall, mean):"
awk -v rounds="$ROUNDS" '
  $1 ~ /^round=/ {
    split($2, bb, "="); split($3, nn, "="); key = bb[2] " " nn[2] " " $4
    for (i = 5; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    cpu[key] += v["user"] + v["sys"]
    if ($5 == "commit") cw[key] += v["wall"]
    else { r = $1; if (v["wall"] > lw[key, r]) { lw[key, r] = v["wall"] } }
    keys[key] = 1; rs[r] = 1
  }
  END {
    for (k in keys) {
      w = 0; for (r in rs) w += lw[k, r]
      split(k, p, " ")
      printf "  bin=%s N=%s %s  cpu_s=%.2f  longest_wall_s=%.2f  commit_wall_s=%.2f\n", p[1], p[2], p[3], cpu[k] / rounds, w / rounds, cw[k] / rounds
    }
  }' "$LOG" | sort
