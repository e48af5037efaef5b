"""creditrun nightly close as an Airflow 2.x DAG (Airflow 2.6 or later).

One DAG run per business date D, in order:

    wait_for_events  (sensor)  the dt= partitions that can hold D's events exist
    creditrun_run    (bash)    creditrun run --as-of D ...

Scheduling
----------
The DAG is scheduled daily in UTC: the run whose logical date is D starts at
00:00 UTC on D+1 and closes business date D = ``{{ ds }}``. Upstream cuts the
event partitions by UTC date, so that is the first moment dt=D can be
complete; for Shanghai (UTC+8) business date D needs dt=D-1 and dt=D, and the
sensor waits for both (a zone behind UTC needs dt=D and dt=D+1: the sensor
works that out from the time zone).

Do not move the schedule to Asia/Shanghai and keep ``{{ ds }}``: ``ds`` is the
UTC date of the logical date, so a run scheduled at 02:30 Shanghai would get
the date before the one it means to close.

catchup=True, max_active_runs=1 and depends_on_past=True: the runs of one
output directory are a chain (the run for D reads the state the run for D-1
wrote), so Airflow runs them one at a time, oldest first, and a failed date
stops the dates after it until it is fixed and cleared. creditrun also takes
OUT/.lock itself, so a manual run during a DAG run fails fast (exit 1, the
lock holder named) instead of corrupting anything.

Exit codes and retries
----------------------
creditrun exits 0 published; 1 failed, nothing published; 2 bad usage or
policy file; 3 too many rejected input rows (beyond --max-reject-ratio),
nothing published. Exit 1 is retried (a transient I/O error, a lock held by a
run that is finishing). Exits 2 and 3 will not change on a retry: they need a
person (fix the policy or the command; look at the rejects upstream), so the
task fails at once, without retries, and alerts.

How: BashOperator's ``skip_on_exit_code`` turns exits 2 and 3 into an
AirflowSkipException, and CreditrunBashOperator (below, ten lines) turns that
into an AirflowFailException, which fails the task without retrying it.
``skip_on_exit_code`` alone is not enough: a skipped task is not a failure,
sends no alert, and with depends_on_past a skipped date would let the next
date run.

Settings
--------
Airflow Variables, read when the task runs (templates, so the scheduler does
not query them while parsing the file):

    creditrun_bin            /usr/local/bin/creditrun
    creditrun_events         /data/creditrun/events
    creditrun_out            /data/creditrun/out
    creditrun_policy         ""  (the built-in policy)
    creditrun_time_zone      Asia/Shanghai  (must equal the policy's billing.time_zone)
    creditrun_args           ""  extra flags, e.g. "--workers 8 --max-reject-ratio 0.001"
    creditrun_input_marker   ""  a file each needed dt= partition must hold
                                 (e.g. _SUCCESS); "" = the directory is enough

Environment of the scheduler (read while parsing, so no Variable lookup):

    CREDITRUN_START_DATE     first business date the DAG closes (2025-01-01).
                             The first date ever must be run by hand with
                             --state ACCOUNTS_MASTER; start the DAG the day after.
    CREDITRUN_ALERT_EMAIL    comma-separated addresses mailed on failure ("")

See docs/operations.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pendulum
from airflow import DAG
from airflow.exceptions import AirflowFailException, AirflowSkipException
from airflow.operators.bash import BashOperator
from airflow.sensors.python import PythonSensor

log = logging.getLogger(__name__)

# Exit codes of creditrun that a retry cannot fix.
EXIT_USAGE = 2  # bad usage or policy file
EXIT_REJECTED = 3  # too many rejected input rows
NO_RETRY_EXIT_CODES = (EXIT_USAGE, EXIT_REJECTED)

# Datasets whose dt= partitions must be present; requests/ is optional and
# checked only when it exists.
REQUIRED_DATASETS = ("transactions", "repayments")
OPTIONAL_DATASETS = ("requests",)


class CreditrunBashOperator(BashOperator):
    """A BashOperator for creditrun: exits 2 and 3 fail without retry.

    Exit 1 (and any other non-zero exit) fails the task the usual way, so
    the task's retries apply to it.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("skip_on_exit_code", list(NO_RETRY_EXIT_CODES))
        super().__init__(**kwargs)

    def execute(self, context):
        try:
            return super().execute(context)
        except AirflowSkipException as e:
            raise AirflowFailException(
                f"creditrun exited with a code that a retry cannot fix ({e}): "
                "2 = bad usage or policy file, 3 = too many rejected input rows; "
                "nothing was published. See the task log and docs/operations.md."
            ) from e


def utc_partitions(as_of: str, time_zone: str) -> list[str]:
    """The UTC dates (dt= partitions) that can hold events of business date
    as_of in time_zone: from the UTC date of its first instant to that of its
    last."""
    tz = ZoneInfo(time_zone)
    day = dt.date.fromisoformat(as_of)
    start = dt.datetime.combine(day, dt.time(), tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz)
    first = start.astimezone(dt.timezone.utc).date()
    last = (end - dt.timedelta(microseconds=1)).astimezone(dt.timezone.utc).date()
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def missing_partitions(events: str, as_of: str, time_zone: str, marker: str = "") -> list[str]:
    """The dt= partitions needed for as_of that are not there yet.

    A dataset that is a plain file or a directory without dt= partitions
    holds every day and is not checked; a missing required dataset is.
    """
    root = Path(events)
    missing = []
    for ds in REQUIRED_DATASETS + OPTIONAL_DATASETS:
        path = root / ds
        if not path.exists():
            if ds in REQUIRED_DATASETS:
                missing.append(ds)
            continue
        if not path.is_dir() or not any(path.glob("dt=*")):
            continue
        for d in utc_partitions(as_of, time_zone):
            part = path / f"dt={d}"
            if not part.is_dir():
                missing.append(f"{ds}/dt={d}")
            elif marker and not (part / marker).exists():
                missing.append(f"{ds}/dt={d}/{marker}")
    return missing


def events_ready(events: str, as_of: str, time_zone: str, marker: str = "") -> bool:
    missing = missing_partitions(events, as_of, time_zone, marker)
    if missing:
        log.info("creditrun input for %s not ready, missing: %s", as_of, " ".join(missing))
        return False
    return True


def alert_on_failure(context) -> None:
    """Failure callback: one line naming the date, the task and the cause.

    Replace or extend with the team's pager (Slack, PagerDuty, ...); mail
    goes out through email_on_failure when CREDITRUN_ALERT_EMAIL is set.
    """
    ti = context.get("task_instance")
    log.error(
        "creditrun ALERT: %s for business date %s failed (try %s): %s",
        getattr(ti, "task_id", "?"),
        context.get("ds"),
        getattr(ti, "try_number", "?"),
        context.get("exception"),
    )


# The business date is {{ ds }}: see "Scheduling" above.
RUN_COMMAND = """
set -euo pipefail
args=(run --as-of "{{ ds }}" --events "$CREDITRUN_EVENTS" --out "$CREDITRUN_OUT")
if [[ -n "$CREDITRUN_POLICY" ]]; then
  args+=(--policy "$CREDITRUN_POLICY")
fi
read -r -a extra <<<"$CREDITRUN_ARGS"
exec "$CREDITRUN_BIN" "${args[@]}" "${extra[@]}"
"""

alert_email = [a.strip() for a in os.environ.get("CREDITRUN_ALERT_EMAIL", "").split(",") if a.strip()]

default_args = {
    "owner": "creditrun",
    "depends_on_past": True,
    "retries": 3,
    "retry_delay": dt.timedelta(minutes=10),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(hours=1),
    "on_failure_callback": alert_on_failure,
    "email": alert_email,
    "email_on_failure": bool(alert_email),
    "email_on_retry": False,
}

with DAG(
    dag_id="creditrun_nightly",
    description="creditrun: close one business date (statements, overdue, scores, limits)",
    schedule="@daily",  # 00:00 UTC: see "Scheduling" above
    start_date=pendulum.parse(os.environ.get("CREDITRUN_START_DATE", "2025-01-01"), tz="UTC"),
    catchup=True,
    max_active_runs=1,
    default_args=default_args,
    dagrun_timeout=dt.timedelta(hours=20),
    tags=["creditrun"],
    doc_md=__doc__,
) as dag:
    wait_for_events = PythonSensor(
        task_id="wait_for_events",
        python_callable=events_ready,
        op_kwargs={
            "events": "{{ var.value.get('creditrun_events', '/data/creditrun/events') }}",
            "as_of": "{{ ds }}",
            "time_zone": "{{ var.value.get('creditrun_time_zone', 'Asia/Shanghai') }}",
            "marker": "{{ var.value.get('creditrun_input_marker', '') }}",
        },
        mode="reschedule",  # frees the worker slot between pokes
        poke_interval=10 * 60,
        timeout=12 * 60 * 60,  # then fail and alert: upstream is late
        retries=0,
    )

    creditrun_run = CreditrunBashOperator(
        task_id="creditrun_run",
        bash_command=RUN_COMMAND,
        env={
            "CREDITRUN_BIN": "{{ var.value.get('creditrun_bin', '/usr/local/bin/creditrun') }}",
            "CREDITRUN_EVENTS": "{{ var.value.get('creditrun_events', '/data/creditrun/events') }}",
            "CREDITRUN_OUT": "{{ var.value.get('creditrun_out', '/data/creditrun/out') }}",
            "CREDITRUN_POLICY": "{{ var.value.get('creditrun_policy', '') }}",
            "CREDITRUN_ARGS": "{{ var.value.get('creditrun_args', '') }}",
        },
        append_env=True,  # keep PATH, HOME, ... of the worker
        execution_timeout=dt.timedelta(hours=6),
    )

    wait_for_events >> creditrun_run
