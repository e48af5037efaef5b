#!/usr/bin/env bash
# creditrun-nightly.sh — close yesterday's business date, catching up if behind.
#
# Called by cron (see creditrun.cron). It:
#   1. works out yesterday's business date in the policy's time zone (not the
#      host's), unless a date is given as the first argument;
#   2. checks that the upstream dt= partitions which can hold that day's
#      events are there (events are cut by UTC date, so a business day spans
#      two of them), and gives up with exit 75 if they are not;
#   3. runs `creditrun run --as-of D`;
#   4. if that fails (exit 1) because an earlier date has no state, and the
#      message names the catch-up command (`creditrun backfill --from X --to D`),
#      runs that backfill, which publishes every missing date up to D;
#   5. appends everything, creditrun's JSON log lines and its own, to
#      $CREDITRUN_LOG_DIR/creditrun-D.log, and on failure prints one line to
#      stderr so that cron mails it (MAILTO) — success is silent.
#
# No flock: creditrun takes OUT/.lock itself. A second run on the same output
# fails at once with exit 1 and names the holder (host, pid, start time);
# a lock left by a dead process of this host is cleared by the next run.
#
# Exit status: creditrun's (0 published; 1 failed, nothing published; 2 bad
# usage or policy; 3 too many rejects, nothing published), or 75 when the
# input partitions are not there yet (nothing was run), or 64 for a bad
# argument to this script.
#
# Settings (environment; the defaults suit the layout in docs/operations.md):
#   CREDITRUN_BIN           the binary                 (/usr/local/bin/creditrun)
#   CREDITRUN_EVENTS        input root                 (/data/creditrun/events)
#   CREDITRUN_OUT           output root                (/data/creditrun/out)
#   CREDITRUN_POLICY        policy file                (empty: the built-in policy)
#   CREDITRUN_TZ            business time zone         (empty: the policy's
#                           billing.time_zone, else Asia/Shanghai)
#   CREDITRUN_LOG_DIR       log directory              (/var/log/creditrun)
#   CREDITRUN_ARGS          extra flags, word-split    (e.g. "--workers 8 --max-reject-ratio 0.001")
#   CREDITRUN_INPUT_MARKER  file each needed dt= partition must hold, e.g.
#                           _SUCCESS (empty: the directory is enough)
#   CREDITRUN_INPUT_WAIT    seconds to wait for the partitions (0)
#   CREDITRUN_MAX_CATCHUP   most days a catch-up backfill may span (31); a
#                           longer gap is left to a person
set -euo pipefail

bin=${CREDITRUN_BIN:-/usr/local/bin/creditrun}
events=${CREDITRUN_EVENTS:-/data/creditrun/events}
out=${CREDITRUN_OUT:-/data/creditrun/out}
policy=${CREDITRUN_POLICY:-}
tz=${CREDITRUN_TZ:-}
log_dir=${CREDITRUN_LOG_DIR:-/var/log/creditrun}
read -r -a extra <<<"${CREDITRUN_ARGS:-}"
marker=${CREDITRUN_INPUT_MARKER:-}
wait_s=${CREDITRUN_INPUT_WAIT:-0}
max_catchup=${CREDITRUN_MAX_CATCHUP:-31}

# json_str quotes a string for JSON.
json_str() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\t'/\\t}
	s=${s//$'\n'/\\n}
	s=${s//$'\r'/\\r}
	printf '"%s"' "$s"
}

log_file=/dev/null
# log LEVEL MESSAGE [KEY VALUE]...: one JSON line, shaped like creditrun's
# own (level, time, message), with "source":"nightly" to tell them apart
# ("source":"creditrun" for creditrun's own lines that were not JSON).
log() {
	local level=$1 msg=$2 line
	shift 2
	line="{\"level\":\"$level\",\"source\":\"${log_source:-nightly}\""
	while (($# >= 2)); do
		line+=",$(json_str "$1"):$(json_str "$2")"
		shift 2
	done
	line+=",\"time\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",\"message\":$(json_str "$msg")}"
	printf '%s\n' "$line" >>"$log_file"
}

# fail CODE MESSAGE: log, tell cron (stderr, so MAILTO mails it), exit.
fail() {
	local code=$1 msg=$2
	log error "$msg" exit_code "$code"
	printf 'creditrun-nightly: %s (exit %s; log %s)\n' "$msg" "$code" "$log_file" >&2
	exit "$code"
}

# The business time zone: the policy's billing.time_zone unless overridden.
if [[ -z $tz && -n $policy ]]; then
	tz=$(awk '
		/^[^[:space:]#]/ { inb = ($0 ~ /^billing:/) }
		inb && /^[[:space:]]+time_zone:/ { v = $2; gsub(/["'\''"]/, "", v); print v; exit }
	' "$policy" 2>/dev/null || true)
fi
tz=${tz:-Asia/Shanghai}

# add_days DATE N prints the calendar date N days after DATE. (Whole days
# of UTC seconds: GNU date would read the "+1" of "00:00 +1 day" as a UTC
# offset.)
add_days() {
	date -u -d "@$(($(date -u -d "$1" +%s) + $2 * 86400))" +%F
}

# The business date: the first argument, or yesterday in the business zone.
if (($# > 0)); then
	as_of=$1
else
	as_of=$(add_days "$(TZ=$tz date +%F)" -1)
fi
if ! [[ $as_of =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || ! date -d "$as_of" >/dev/null 2>&1; then
	printf 'creditrun-nightly: bad business date %q (want YYYY-MM-DD)\n' "$as_of" >&2
	exit 64
fi

mkdir -p "$log_dir"
log_file=$log_dir/creditrun-$as_of.log
log info "nightly start" as_of "$as_of" time_zone "$tz" out "$out" host "$(hostname)"

# The UTC dates (dt= partitions) that can hold events of business date
# as_of in zone tz: from the UTC date of its first instant to that of its
# last. Shanghai (UTC+8): D−1 and D; a zone behind UTC: D and D+1.
needed_partitions() {
	local first last d
	first=$(TZ=$tz date -d "$as_of" +%s)
	last=$(($(TZ=$tz date -d "$(add_days "$as_of" 1)" +%s) - 1))
	d=$(date -u -d "@$first" +%F)
	last=$(date -u -d "@$last" +%F)
	while [[ ! $d > $last ]]; do
		printf '%s\n' "$d"
		d=$(add_days "$d" 1)
	done
}

# missing_partitions prints each needed partition that is not there yet, for
# the datasets that are Hive-partitioned (a plain file or directory holds
# every day and is not checked). requests/ is optional.
missing_partitions() {
	local ds dt dir
	for ds in transactions repayments requests; do
		[[ -d $events/$ds ]] || continue
		compgen -G "$events/$ds/dt=*" >/dev/null || continue
		for dt in $(needed_partitions); do
			dir=$events/$ds/dt=$dt
			if [[ ! -d $dir ]] || [[ -n $marker && ! -e $dir/$marker ]]; then
				printf '%s\n' "$ds/dt=$dt${marker:+/$marker}"
			fi
		done
	done
}

deadline=$((SECONDS + wait_s))
while missing=$(missing_partitions) && [[ -n $missing ]]; do
	if ((SECONDS >= deadline)); then
		fail 75 "input not ready for $as_of: missing $(echo "$missing" | paste -sd' ')"
	fi
	log info "waiting for input" as_of "$as_of" missing "$(echo "$missing" | paste -sd' ')"
	sleep 60
done

common=(--events "$events" --out "$out")
if [[ -n $policy ]]; then
	common+=(--policy "$policy")
fi
common+=("${extra[@]}")

# as_json copies creditrun's output, wrapping the lines that are not JSON
# (its final "creditrun: error" line, usage text) so that the log file is
# JSON lines throughout.
as_json() {
	local line log_source=creditrun
	while IFS= read -r line || [[ -n $line ]]; do
		case $line in
		'{'*) printf '%s\n' "$line" ;;
		creditrun:*) log error "$line" ;;
		*) log info "$line" ;;
		esac
	done
}

# run_creditrun ARGS...: run the binary, appending its output to the log; sets
# rc to its exit status and attempt_log to what this attempt wrote.
attempt_log=
run_creditrun() {
	local start
	start=$(stat -c %s "$log_file" 2>/dev/null || echo 0)
	log info "exec" command "creditrun $*"
	set +e
	"$bin" "$@" 2>&1 | as_json >>"$log_file"
	rc=${PIPESTATUS[0]}
	set -e
	attempt_log=$(tail -c +"$((start + 1))" "$log_file")
}

run_creditrun run --as-of "$as_of" "${common[@]}"

# An earlier date has no state: creditrun names the catch-up backfill.
# shellcheck disable=SC2016 # the backquotes are literal, part of the message
catch_up_re='catch up with `creditrun backfill --from ([0-9]{4}-[0-9]{2}-[0-9]{2}) --to ([0-9]{4}-[0-9]{2}-[0-9]{2})`'
if ((rc == 1)) && [[ $attempt_log =~ $catch_up_re ]]; then
	from=${BASH_REMATCH[1]}
	to=${BASH_REMATCH[2]}
	days=$((($(date -u -d "$to" +%s) - $(date -u -d "$from" +%s)) / 86400 + 1))
	if [[ $to != "$as_of" ]]; then
		fail 1 "catch-up for $as_of names --to $to: not running it"
	fi
	if ((days > max_catchup)); then
		fail 1 "$as_of needs a backfill of $days days ($from..$to), more than CREDITRUN_MAX_CATCHUP=$max_catchup: run it by hand"
	fi
	log warn "catching up" from "$from" to "$to" days "$days"
	run_creditrun backfill --from "$from" --to "$to" "${common[@]}"
fi

case $rc in
0) log info "nightly done" as_of "$as_of" exit_code 0 ;;
1) fail 1 "creditrun failed for $as_of, nothing published" ;;
2) fail 2 "creditrun: bad usage or policy for $as_of, nothing published" ;;
3) fail 3 "creditrun: too many rejected input rows for $as_of, nothing published" ;;
*) fail "$rc" "creditrun ended with exit $rc for $as_of" ;;
esac
