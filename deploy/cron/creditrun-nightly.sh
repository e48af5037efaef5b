#!/usr/bin/env bash
# creditrun-nightly.sh — close yesterday's business date, catching up if behind.
#
# Called by cron (see creditrun.cron). It:
#   1. works out yesterday's business date D in the policy's time zone (not
#      the host's), unless a date is given as the first argument;
#   2. does nothing if D is already published (OUT/as_of=D/_SUCCESS), so
#      that a second attempt of the same night is harmless;
#   3. counts the dates missing since the latest date published before D
#      (the as_of=*/_SUCCESS directories) and, when there are more than
#      CREDITRUN_MAX_CATCHUP, leaves them to a person (exit 4);
#   4. runs `creditrun backfill --catch-up --to D`, which publishes every
#      date from the day after the latest published one up to D (just D on
#      a normal night);
#   5. acts on creditrun's exit code alone, never on its messages:
#        0   published: done, silent;
#        75  temporary (input not landed, output locked by a live run,
#            transient I/O, interrupted): runs it again every
#            CREDITRUN_RETRY_INTERVAL seconds for up to CREDITRUN_INPUT_WAIT
#            seconds, then exits 75 and leaves D to the next attempt;
#        1   failed permanently, 2 bad usage or policy file, 3 too many
#            rejected input rows, 4 behind with nothing to catch up from:
#            stops at once and alerts, a retry cannot fix them;
#   6. appends everything, creditrun's JSON log lines and its own, to
#      $CREDITRUN_LOG_DIR/creditrun-D.log, and on failure prints to stderr,
#      so that cron mails it (MAILTO), one line saying what happened and
#      creditrun's last log line (its JSON error). Success is silent.
#
# No flock: creditrun holds OUT/.lock itself while it runs. A second run on
# the same output exits 75 at once, and is retried like any temporary
# failure.
#
# Exit status: creditrun's (0 published; 1 failed permanently; 2 bad usage
# or policy file; 3 too many rejected rows; 4 behind and not caught up; 75
# temporary, nothing published, try later), or 64 for a bad argument or
# setting of this script. Whatever the status, a date once published stays
# published: a catch-up that fails on one date keeps the dates before it.
#
# Settings (environment; the defaults suit the layout in docs/operations.md):
#   CREDITRUN_BIN             the binary                 (/usr/local/bin/creditrun)
#   CREDITRUN_EVENTS          input root                 (/data/creditrun/events)
#   CREDITRUN_OUT             output root                (/data/creditrun/out)
#   CREDITRUN_POLICY          policy file                (empty: the built-in policy)
#   CREDITRUN_TZ              business time zone         (empty: the policy's
#                             billing.time_zone, else Asia/Shanghai)
#   CREDITRUN_LOG_DIR         log directory              (/var/log/creditrun)
#   CREDITRUN_ARGS            extra flags, word-split    (e.g. "--workers 8 --max-reject-ratio 0.001")
#   CREDITRUN_INPUT_WAIT      seconds to keep retrying exit 75 before giving
#                             the date up to the next attempt (0: no retry)
#   CREDITRUN_RETRY_INTERVAL  seconds between two attempts (300)
#   CREDITRUN_MAX_CATCHUP     most dates one catch-up may publish (31); a
#                             longer gap is left to a person
set -euo pipefail

bin=${CREDITRUN_BIN:-/usr/local/bin/creditrun}
events=${CREDITRUN_EVENTS:-/data/creditrun/events}
out=${CREDITRUN_OUT:-/data/creditrun/out}
policy=${CREDITRUN_POLICY:-}
tz=${CREDITRUN_TZ:-}
log_dir=${CREDITRUN_LOG_DIR:-/var/log/creditrun}
read -r -a extra <<<"${CREDITRUN_ARGS:-}"
wait_s=${CREDITRUN_INPUT_WAIT:-0}
interval=${CREDITRUN_RETRY_INTERVAL:-300}
max_catchup=${CREDITRUN_MAX_CATCHUP:-31}

for setting in "CREDITRUN_INPUT_WAIT=$wait_s" "CREDITRUN_RETRY_INTERVAL=$interval" "CREDITRUN_MAX_CATCHUP=$max_catchup"; do
	if ! [[ ${setting#*=} =~ ^[0-9]+$ ]]; then
		printf 'creditrun-nightly: %s: want a whole number\n' "$setting" >&2
		exit 64
	fi
done

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
# ("source":"creditrun" for creditrun's own lines that were not JSON). A
# value of digits only is written as a number.
log() {
	local level=$1 msg=$2 line
	shift 2
	line="{\"level\":\"$level\",\"source\":\"${log_source:-nightly}\""
	while (($# >= 2)); do
		if [[ $2 =~ ^(0|[1-9][0-9]{0,17})$ ]]; then
			line+=",$(json_str "$1"):$2"
		else
			line+=",$(json_str "$1"):$(json_str "$2")"
		fi
		shift 2
	done
	line+=",\"time\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",\"message\":$(json_str "$msg")}"
	printf '%s\n' "$line" >>"$log_file"
}

# last_line is creditrun's last output line of the latest attempt: on
# failure, its JSON error (kind, retryable, exit_code, error, hint). It is
# passed on to a person, never read here.
last_line=

# finish CODE MESSAGE: log the outcome; on failure tell cron (stderr, so
# MAILTO mails it); exit CODE.
finish() {
	local code=$1 msg=$2
	if ((code == 0)); then
		log info "$msg" as_of "$as_of" exit_code "$code"
		exit 0
	fi
	log error "$msg" as_of "$as_of" exit_code "$code"
	printf 'creditrun-nightly: %s: %s (exit %s; log %s)\n' "$as_of" "$msg" "$code" "$log_file" >&2
	if [[ -n $last_line ]]; then
		printf '%s\n' "$last_line" >&2
	fi
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

# epoch_day DATE is the number of whole days from 1970-01-01 to DATE.
epoch_day() {
	echo $(($(date -u -d "$1" +%s) / 86400))
}

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
if ! [[ $as_of =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || [[ $(date -u -d "$as_of" +%F 2>/dev/null) != "$as_of" ]]; then
	printf 'creditrun-nightly: bad business date %q (want YYYY-MM-DD)\n' "$as_of" >&2
	exit 64
fi

mkdir -p "$log_dir"
log_file=$log_dir/creditrun-$as_of.log
log info "nightly start" as_of "$as_of" time_zone "$tz" out "$out" host "$(hostname)"

# published DATE: OUT/as_of=DATE is published (a directory without
# _SUCCESS never is).
published() {
	[[ -e $out/as_of=$1/_SUCCESS ]]
}

# last_published_before DATE prints the latest date before DATE published
# in OUT, or nothing.
last_published_before() {
	local dir d last=
	for dir in "$out"/as_of=*/; do
		d=${dir%/}
		d=${d##*/as_of=}
		if [[ $d =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ && $d < $1 ]] && published "$d"; then
			last=$d # the glob sorts by name, and dates sort as names
		fi
	done
	printf '%s' "$last"
}

if published "$as_of"; then
	finish 0 "already published, nothing to do"
fi

common=(--events "$events" --out "$out")
if [[ -n $policy ]]; then
	common+=(--policy "$policy")
fi
common+=("${extra[@]}")

# as_json copies creditrun's output, wrapping the lines that are not JSON
# (usage text) so that the log file is JSON lines throughout.
as_json() {
	local line log_source=creditrun
	while IFS= read -r line || [[ -n $line ]]; do
		case $line in
		'{'*) printf '%s\n' "$line" ;;
		*) log info "$line" ;;
		esac
	done
}

# run_creditrun ARGS...: run the binary, appending its output to the log;
# sets rc to its exit status and last_line to its last output line.
run_creditrun() {
	local start
	start=$(stat -c %s "$log_file")
	log info "exec" command "creditrun $*" attempt "$attempt"
	set +e
	"$bin" "$@" 2>&1 | as_json >>"$log_file"
	rc=${PIPESTATUS[0]}
	set -e
	last_line=$(tail -c +"$((start + 1))" "$log_file" | grep -v '"source":"nightly"' | tail -n 1 || true)
}

# A signal to this script ends it after the current attempt (creditrun
# handles the signal itself, exits 75 and publishes nothing).
stop=
trap 'stop=1' INT TERM HUP

deadline=$((SECONDS + wait_s))
attempt=0
while :; do
	attempt=$((attempt + 1))
	last=$(last_published_before "$as_of")
	if [[ -n $last ]]; then
		gap=$(($(epoch_day "$as_of") - $(epoch_day "$last")))
		if ((gap > max_catchup)); then
			finish 4 "behind: $gap dates from $(add_days "$last" 1) to $as_of are not published, more than CREDITRUN_MAX_CATCHUP=$max_catchup; run creditrun backfill --catch-up --to $as_of by hand"
		fi
		if ((gap > 1)); then
			log warn "catching up" from "$(add_days "$last" 1)" to "$as_of" days "$gap"
		fi
	fi
	run_creditrun backfill --catch-up --to "$as_of" "${common[@]}"
	if ((rc != 75)) || [[ -n $stop ]] || ((SECONDS >= deadline)); then
		break
	fi
	pause=$((deadline - SECONDS < interval ? deadline - SECONDS : interval))
	log info "temporary failure, trying again" as_of "$as_of" exit_code 75 attempt "$attempt" retry_in_s "$pause"
	sleep "$pause" || true
	if [[ -n $stop ]]; then
		break
	fi
done

case $rc in
0) finish 0 "nightly done" ;;
75)
	if [[ -n $stop ]]; then
		finish 75 "interrupted after $attempt attempt(s), nothing published for $as_of; the next attempt runs it"
	fi
	finish 75 "temporary failure (input not landed, output locked, transient I/O or interrupted) after $attempt attempt(s) in ${wait_s}s, nothing published for $as_of; the next attempt retries"
	;;
1) finish 1 "failed permanently (bad input, bad state, broken invariant or internal error): a retry will not help; $as_of is not published" ;;
2) finish 2 "bad usage or invalid policy file: fix the command or the policy; nothing published" ;;
3) finish 3 "too many rejected input rows (above --max-reject-ratio): inspect upstream; $as_of is not published" ;;
4)
	if [[ -z $last ]]; then
		finish 4 "behind: no date is published in $out; the first date runs by hand with --state (the accounts master)"
	fi
	finish 4 "behind: no state to catch up from; $as_of is not published"
	;;
*) finish "$rc" "creditrun ended with exit $rc (not one of its exit codes: killed, or not found); $as_of is not published" ;;
esac
