"""creditrun's sharded nightly close as an Airflow 2.x DAG (Airflow 2.6 or
later, with the cncf.kubernetes provider), for books too large for one
machine. Every shard is a pod on Kubernetes.

One DAG run per business date D, three tasks:

    plan_shards        (python)  the shards of the night: N from the creditrun_shards Variable
    shard [mapped, N]  (pod)     creditrun run --as-of D --events E --out O --policy P --shards N --shard K
    commit             (pod)     creditrun commit --as-of D --out O --shards N

``plan_shards`` fixes N for the run: its list, one command line per shard,
is what ``shard`` is mapped over (dynamic task mapping), and ``commit``
reads N from it too. So N may change from one night to the next (set the
Variable), and a shard cleared days later runs with its night's N.

Shard K closes its fixed range of accounts for D and writes its part where
no reader sees it; ``commit`` checks that all N parts are there and were
written under the same inputs and policy, runs the book-level checks and
publishes D. Until ``commit`` succeeds nothing of D is visible.

Each task acts on creditrun's exit code only, never on its messages:

| exit | meaning | the task |
|---|---|---|
| 0 | done (shard: its part written; commit: published) | succeeds |
| 75 | temporary, nothing published: input not landed, output locked, transient I/O, interrupted; for commit also a shard's part not there yet | fails with AirflowException: retried (``retries`` below) |
| 1 | failed permanently: bad input, bad or tampered state, broken money invariant, parts that disagree | fails with AirflowFailException: no retry, alert |
| 2 | bad usage or invalid policy file | no retry, alert |
| 3 | rejected input rows above the threshold | no retry, alert |
| 4 | behind: no state of D-1 to start from | no retry, alert |
| other | not a creditrun exit code (137: out of memory) | no retry, alert |
| none | the pod ended without an exit code of creditrun's (evicted, preempted, its node lost) | retried |

A shard that fails stops no other shard: the others finish and keep their
parts, and once the cause is fixed, clearing the failed shard's mapped task
runs it again alone; ``commit`` then runs by itself. ``commit`` runs only
when every shard succeeded.

Scheduling is that of creditrun_dag.py (see its "Scheduling"): daily at
00:00 UTC, business date D = ``{{ ds }}``, catchup=True, max_active_runs=1.
The runs of one output are a chain, so every task waits for its own task
and the tasks after it in the run before (``wait_for_downstream``): the
shards of D start only once D-1 is committed. The first date ever is run
by hand (``creditrun run --state``), and a book that is behind is caught up
by hand (a sharded ``creditrun backfill``, then ``creditrun commit --from
--to``): this DAG does not catch up by itself.

Settings
--------
Where the book is (EVENTS, OUT), the S3 credentials and the policy are the
cluster's: the ConfigMaps and the Secret of deploy/kubernetes/config.yaml,
which the pod template creditrun-pod.yaml (beside this file) reads. Airflow
Variables, read when a task runs:

    creditrun_shards       4          shards of each night
    creditrun_image        registry.example.com/creditrun:latest
    creditrun_namespace    creditrun  Kubernetes namespace of the pods

Environment of the scheduler (read while parsing):

    CREDITRUN_START_DATE    first business date the DAG closes (2025-01-01)
    CREDITRUN_ALERT_EMAIL   comma-separated addresses mailed on failure ("")
    CREDITRUN_POD_TEMPLATE  the pod template (creditrun-pod.yaml beside this file)

See docs/operations.md, "Sharded nights on Airflow".
"""

from __future__ import annotations

import datetime as dt
import logging
import os

import pendulum
from airflow import DAG
from airflow.exceptions import AirflowException, AirflowFailException
from airflow.operators.python import PythonOperator
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

log = logging.getLogger(__name__)

# creditrun's exit codes (cmd/creditrun/main.go).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REJECTED = 3
EXIT_BEHIND = 4
EXIT_TEMPORARY = 75  # the only code a retry can fix

MEANINGS = {
    EXIT_FAILED: "failed permanently (bad input, bad state, broken invariant, parts that disagree or internal error); fix the cause, then clear the task",
    EXIT_USAGE: "bad usage or invalid policy file; fix the command or the policy (creditrun policy check FILE), then clear the task",
    EXIT_REJECTED: "too many rejected input rows; inspect upstream, then clear the task",
    EXIT_BEHIND: "behind: no state of the day before; publish it first (see docs/operations.md, Catching up), then clear the task",
    EXIT_TEMPORARY: "temporary (input not landed, output locked, transient I/O, interrupted, or a shard's part not there yet); retried",
}

BINARY = "/usr/local/bin/creditrun"
POLICY = "/etc/creditrun/policy.yaml"  # the creditrun-policy ConfigMap, mounted by the pod template
# The most shards one night may have: a guard against a typo in the Variable.
MAX_SHARDS = 1024


def shard_argv(as_of: str, shards: int, shard: int) -> list[str]:
    """The arguments of shard `shard` of `shards` for business date as_of.
    EVENTS and OUT are the pod's environment (the creditrun-settings
    ConfigMap), which Kubernetes substitutes for $(...)."""
    return [
        "run", "--as-of", as_of,
        "--events", "$(CREDITRUN_EVENTS)", "--out", "$(CREDITRUN_OUT)",
        "--policy", POLICY,
        "--shards", str(shards), "--shard", str(shard),
    ]


def commit_argv(as_of: str, shards: str) -> list[str]:
    """The arguments of the commit of as_of's `shards` shards."""
    return ["commit", "--as-of", as_of, "--out", "$(CREDITRUN_OUT)", "--shards", shards]


def plan_shards(as_of: str, shards: str) -> list[list[str]]:
    """The task plan_shards: one command line per shard of the night, what
    the shard task is mapped over. Fails without retry on a shard count
    that is not a whole number from 1 to MAX_SHARDS."""
    try:
        n = int(shards)
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_SHARDS:
        raise AirflowFailException(f"the creditrun_shards Variable is {shards!r}: want a whole number from 1 to {MAX_SHARDS}")
    log.info("business date %s: %d shards", as_of, n)
    return [shard_argv(as_of, n, k) for k in range(n)]


def pod_exit(remote_pod, container: str) -> tuple[int | None, bool]:
    """The exit code of the pod's container (None: it has none), and
    whether the pod was disrupted (evicted, preempted, its node drained)."""
    status = getattr(remote_pod, "status", None)
    code = None
    for cs in getattr(status, "container_statuses", None) or []:
        terminated = getattr(getattr(cs, "state", None), "terminated", None)
        if cs.name == container and terminated is not None:
            code = terminated.exit_code
    disrupted = any(
        c.type == "DisruptionTarget" and c.status == "True" for c in getattr(status, "conditions", None) or []
    )
    return code, disrupted


def check_exit(code: int | None, disrupted: bool, what: str) -> None:
    """Maps the outcome of a failed pod to the task's: AirflowException
    (the task's retries apply) for exit 75 and for a pod that ended without
    creditrun's verdict, AirflowFailException (failed at once) for any other
    exit code."""
    if code == EXIT_OK and not disrupted:
        return
    if code is None or disrupted:
        raise AirflowException(f"{what}: the pod ended without creditrun's exit code (evicted, preempted or its node lost); retried")
    meaning = MEANINGS.get(code, "not one of creditrun's exit codes (137: out of memory)")
    msg = f"{what} exited {code}: {meaning}. The pod log's last creditrun line is its JSON error (kind, hint)."
    if code == EXIT_TEMPORARY:
        raise AirflowException(msg)
    raise AirflowFailException(msg)


class CreditrunPodOperator(KubernetesPodOperator):
    """A KubernetesPodOperator whose failures follow creditrun's exit code
    (see check_exit): only exit 75, and a pod that was disrupted, are
    retried."""

    def cleanup(self, pod, remote_pod, *args, **kwargs):
        try:
            return super().cleanup(pod, remote_pod, *args, **kwargs)
        except AirflowFailException:
            raise
        except AirflowException as failed:
            code, disrupted = pod_exit(remote_pod, self.base_container_name)
            name = getattr(getattr(pod, "metadata", None), "name", "?")
            try:
                check_exit(code, disrupted, f"creditrun {self.task_id} (pod {name})")
            except AirflowException as e:
                raise e from failed
            raise


def alert_on_failure(context) -> None:
    """Failure callback: one line naming the date, the task, the shard and
    the cause. Replace or extend with the team's pager."""
    ti = context.get("task_instance")
    log.error(
        "creditrun ALERT: %s[%s] for business date %s failed (try %s): %s",
        getattr(ti, "task_id", "?"),
        getattr(ti, "map_index", "?"),
        context.get("ds"),
        getattr(ti, "try_number", "?"),
        context.get("exception"),
    )


SHARD_DOC = """\
One shard of the night: `creditrun run --as-of {{ ds }} --shards N --shard K`
closes shard K's accounts and writes its part, unpublished. Exit 75 is
retried; 1, 2, 3, 4 or any other code fail at once. A failed shard stops no
other: fix the cause and clear this mapped task alone, and commit follows.
"""

COMMIT_DOC = """\
`creditrun commit --as-of {{ ds }} --shards N`: checks every part, runs the
book-level checks and publishes the date. Exit 75 (a part not there yet,
output locked, transient I/O) is retried; 1 (parts that disagree, a broken
invariant), 2, 3, 4 fail at once.
"""

alert_email = [a.strip() for a in os.environ.get("CREDITRUN_ALERT_EMAIL", "").split(",") if a.strip()]
pod_template = os.environ.get("CREDITRUN_POD_TEMPLATE") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "creditrun-pod.yaml")

default_args = {
    "owner": "creditrun",
    # The runs are a chain: each task waits for the same task and the ones
    # after it in the run before, so the shards of D start once D-1 is
    # committed (wait_for_downstream implies depends_on_past).
    "depends_on_past": True,
    "wait_for_downstream": True,
    "on_failure_callback": alert_on_failure,
    "email": alert_email,
    "email_on_failure": bool(alert_email),
    "email_on_retry": False,
}

# What every creditrun pod shares. The pod template holds the settings,
# the credentials, the policy, the resources and the hardening.
pod_args = {
    "pod_template_file": pod_template,
    "image": "{{ var.value.get('creditrun_image', 'registry.example.com/creditrun:latest') }}",
    "namespace": "{{ var.value.get('creditrun_namespace', 'creditrun') }}",
    "cmds": [BINARY],
    "get_logs": True,
    "startup_timeout_seconds": 600,
    # Failed pods stay for `kubectl logs` and `kubectl describe`.
    "on_finish_action": "delete_succeeded_pod",
}

with DAG(
    dag_id="creditrun_sharded",
    description="creditrun: close one business date in N shards on Kubernetes, then commit it",
    schedule="@daily",  # 00:00 UTC: see creditrun_dag.py's "Scheduling"
    start_date=pendulum.parse(os.environ.get("CREDITRUN_START_DATE", "2025-01-01"), tz="UTC"),
    catchup=True,
    max_active_runs=1,
    default_args=default_args,
    dagrun_timeout=dt.timedelta(hours=20),
    tags=["creditrun"],
    doc_md=__doc__,
) as dag:
    plan = PythonOperator(
        task_id="plan_shards",
        python_callable=plan_shards,
        op_kwargs={
            "as_of": "{{ ds }}",
            "shards": "{{ var.value.get('creditrun_shards', '4') }}",
        },
        retries=0,
    )
    shard = CreditrunPodOperator.partial(
        task_id="shard",
        name="creditrun-shard",
        labels={"app.kubernetes.io/name": "creditrun", "app.kubernetes.io/component": "shard"},
        # Exit 75: 36 retries 20 minutes apart give upstream 12 hours to land.
        retries=36,
        retry_delay=dt.timedelta(minutes=20),
        execution_timeout=dt.timedelta(hours=6),
        doc_md=SHARD_DOC,
        **pod_args,
    ).expand(arguments=plan.output)
    commit = CreditrunPodOperator(
        task_id="commit",
        name="creditrun-commit",
        labels={"app.kubernetes.io/name": "creditrun", "app.kubernetes.io/component": "commit"},
        # N as plan_shards fixed it for this run.
        arguments=commit_argv("{{ ds }}", "{{ ti.xcom_pull(task_ids='plan_shards') | length }}"),
        retries=6,
        retry_delay=dt.timedelta(minutes=5),
        execution_timeout=dt.timedelta(hours=2),
        doc_md=COMMIT_DOC,
        **pod_args,
    )
    plan >> shard >> commit
