"""creditrun nightly close as an Airflow 2.x DAG (Airflow 2.6 or later).

One DAG run per business date D, one task:

    creditrun_run  (python)  creditrun backfill --catch-up --to D ...

``backfill --catch-up --to D`` publishes every date from the day after the
latest date published before D up to D: just D on a normal night, and every
missed date as well when the book is behind. So a book that is behind (exit 4
of ``creditrun run``) never needs a second task or a person, but for the very
first date, which is run by hand with ``--state`` (see below).

The task acts on creditrun's exit code only, never on its messages:

| exit | meaning | the task |
|---|---|---|
| 0 | published | succeeds |
| 75 | temporary, nothing published: input not landed, output locked by a live run, transient I/O, interrupted | fails with AirflowException: retried (``retries`` below, every ``retry_delay``) |
| 1 | failed permanently, nothing published: schema error, unreadable input, bad or tampered state, broken money invariant, internal error | fails with AirflowFailException: no retry, alert |
| 2 | bad usage or invalid policy file | no retry, alert |
| 3 | rejected input rows above ``--max-reject-ratio``, nothing published | no retry, alert |
| 4 | behind with nothing to catch up from: no date is published yet | no retry, alert: run the first date by hand with ``--state`` |
| other | not a creditrun exit code (killed by a signal), or the binary cannot be started | no retry, alert |

Scheduling
----------
The DAG is scheduled daily in UTC: the run whose logical date is D starts at
00:00 UTC on D+1 and closes business date D = ``{{ ds }}``. Upstream cuts the
event partitions by UTC date, so that is the first moment dt=D can be
complete. creditrun checks that the partitions D needs have landed (for
Shanghai, UTC+8: dt=D-1 and dt=D) and exits 75 until they have, so the
retries are the wait for upstream: 36 retries 20 minutes apart give it
12 hours, then the task fails and alerts.

Do not move the schedule to Asia/Shanghai and keep ``{{ ds }}``: ``ds`` is the
UTC date of the logical date, so a run scheduled at 02:30 Shanghai would get
the date before the one it means to close.

catchup=True, max_active_runs=1 and depends_on_past=True: the runs of one
output directory are a chain (the run for D reads the state the run for D-1
wrote), so Airflow runs them one at a time, oldest first, and a failed date
stops the dates after it until it is fixed and cleared. creditrun also holds
OUT/.lock while it runs, so a manual run during a DAG run makes one of them
exit 75 at once instead of corrupting anything.

Settings
--------
Airflow Variables, read when the task runs (templates, so the scheduler does
not query them while parsing the file):

    creditrun_bin            /usr/local/bin/creditrun
    creditrun_events         /data/creditrun/events
    creditrun_out            /data/creditrun/out
    creditrun_policy         ""  (the built-in policy)
    creditrun_args           ""  extra flags, e.g. "--workers 8 --max-reject-ratio 0.001"

Environment of the scheduler (read while parsing, so no Variable lookup):

    CREDITRUN_START_DATE     first business date the DAG closes (2025-01-01).
                             The first date ever must be run by hand with
                             --state ACCOUNTS_MASTER; start the DAG the day after.
    CREDITRUN_ALERT_EMAIL    comma-separated addresses mailed on failure ("")

A book closed in shards on Kubernetes has its own DAG beside this one,
creditrun_sharded_dag.py. See docs/operations.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shlex
import subprocess

import pendulum
from airflow import DAG
from airflow.exceptions import AirflowException, AirflowFailException
from airflow.operators.python import PythonOperator

log = logging.getLogger(__name__)

# creditrun's exit codes.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REJECTED = 3
EXIT_BEHIND = 4
EXIT_TEMPORARY = 75  # sysexits' EX_TEMPFAIL: the only code a retry can fix

# What each exit code but 0 means, for the task's failure message.
MEANINGS = {
    EXIT_FAILED: "failed permanently (bad input, bad state, broken invariant or internal error); fix the cause, then clear the task",
    EXIT_USAGE: "bad usage or invalid policy file; fix the command or the policy (creditrun policy check FILE), then clear the task",
    EXIT_REJECTED: "too many rejected input rows (above --max-reject-ratio); inspect upstream, then clear the task",
    EXIT_BEHIND: "behind with nothing to catch up from: no date is published yet; run the first date by hand with --state, then clear the task",
    EXIT_TEMPORARY: "temporary (input not landed, output locked, transient I/O or interrupted); retried",
}


def creditrun_argv(binary: str, as_of: str, events: str, out: str, policy: str = "", args: str = "") -> list[str]:
    """The command that closes as_of and every date missed before it."""
    argv = [binary, "backfill", "--catch-up", "--to", as_of, "--events", events, "--out", out]
    if policy:
        argv += ["--policy", policy]
    return argv + shlex.split(args)


def check_exit(code: int, as_of: str) -> None:
    """Maps creditrun's exit code to the task's outcome: 0 succeeds, 75 raises
    AirflowException (the task's retries apply), anything else raises
    AirflowFailException (failed at once, no retry)."""
    if code == EXIT_OK:
        return
    if code < 0:
        meaning = f"killed by signal {-code}"
    else:
        meaning = MEANINGS.get(code, "not one of creditrun's exit codes")
    msg = f"creditrun for business date {as_of} exited {code}: {meaning}; nothing more was published. The task log's last creditrun line is its JSON error (kind, hint)."
    if code == EXIT_TEMPORARY:
        raise AirflowException(msg)
    raise AirflowFailException(msg)


def run_creditrun(argv: list[str], popen=subprocess.Popen) -> int:
    """Runs argv, copying its output (creditrun's JSON log lines) to the task
    log, and returns its exit code (negative: the signal that killed it).

    If the task is stopped meanwhile (a timeout, a kill from the UI), creditrun
    is sent SIGTERM: it stops, publishes nothing of the date it was on, and
    releases its lock."""
    proc = popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in proc.stdout:
            log.info("%s", line.rstrip("\n"))
        return proc.wait()
    except BaseException:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise


def close_business_date(as_of: str, binary: str, events: str, out: str, policy: str = "", args: str = "", popen=subprocess.Popen) -> None:
    """The task: close as_of, catching up what was missed, and map the exit
    code (see check_exit)."""
    argv = creditrun_argv(binary, as_of, events, out, policy, args)
    log.info("running %s", shlex.join(argv))
    try:
        code = run_creditrun(argv, popen)
    except OSError as e:  # not started: no binary, not executable
        raise AirflowFailException(f"creditrun for business date {as_of} could not be started: {e}; check the creditrun_bin Variable") from e
    check_exit(code, as_of)


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


TASK_DOC = """\
Runs `creditrun backfill --catch-up --to {{ ds }}`: publishes the business
date and any date missed before it. Acts on the exit code only:

| exit | meaning | the task |
|---|---|---|
| 0 | published | succeeds |
| 75 | temporary: input not landed, output locked, transient I/O, interrupted; nothing published | retried |
| 1 | failed permanently (bad input, bad state, broken invariant, internal) | fails, no retry |
| 2 | bad usage or invalid policy file | fails, no retry |
| 3 | rejected rows above --max-reject-ratio | fails, no retry |
| 4 | no date published yet: run the first date by hand with --state | fails, no retry |

The task log's last creditrun line is its JSON error: kind, retryable,
exit_code, error, hint. See docs/operations.md.
"""

alert_email = [a.strip() for a in os.environ.get("CREDITRUN_ALERT_EMAIL", "").split(",") if a.strip()]

default_args = {
    "owner": "creditrun",
    "depends_on_past": True,
    # Only exit 75 is retried: the other codes raise AirflowFailException.
    "retries": 36,
    "retry_delay": dt.timedelta(minutes=20),
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
    creditrun_run = PythonOperator(
        task_id="creditrun_run",
        python_callable=close_business_date,
        op_kwargs={
            "as_of": "{{ ds }}",  # see "Scheduling" above
            "binary": "{{ var.value.get('creditrun_bin', '/usr/local/bin/creditrun') }}",
            "events": "{{ var.value.get('creditrun_events', '/data/creditrun/events') }}",
            "out": "{{ var.value.get('creditrun_out', '/data/creditrun/out') }}",
            "policy": "{{ var.value.get('creditrun_policy', '') }}",
            "args": "{{ var.value.get('creditrun_args', '') }}",
        },
        execution_timeout=dt.timedelta(hours=6),
        doc_md=TASK_DOC,
    )
