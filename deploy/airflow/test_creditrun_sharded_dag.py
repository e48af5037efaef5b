"""Tests of creditrun_sharded_dag.py without Airflow: the airflow and
pendulum modules it imports are stubbed, the KubernetesPodOperator among
them, and the pods are fakes.

    cd deploy/airflow && python3 -m unittest -v test_creditrun_sharded_dag

(.airflowignore keeps Airflow from parsing this file as a DAG file.)
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import sys
import types
import unittest
from pathlib import Path
from types import SimpleNamespace as NS
from unittest import mock

HERE = Path(__file__).parent


class AirflowException(Exception):
    pass


class AirflowFailException(AirflowException):  # as in Airflow: a subclass
    pass


class DAG:
    current = None

    def __init__(self, dag_id, **kwargs):
        self.dag_id = dag_id
        self.kwargs = kwargs
        self.tasks = {}

    def __enter__(self):
        DAG.current = self
        return self

    def __exit__(self, *exc):
        DAG.current = None
        return False


class Task:
    """What the DAG file uses of a task: an id, its arguments, its
    downstream tasks (>>), its output (an XComArg)."""

    def register(self, task_id, kwargs):
        self.task_id = task_id
        self.kwargs = kwargs
        self.downstream = []
        if task_id in DAG.current.tasks:
            raise AssertionError(f"task {task_id} defined twice")
        DAG.current.tasks[task_id] = self

    def __rshift__(self, other):
        self.downstream.append(other.task_id)
        return other

    @property
    def output(self):
        return XComArg(self)


class XComArg:
    def __init__(self, task):
        self.task = task


class PythonOperator(Task):
    def __init__(self, task_id, python_callable, **kwargs):
        self.python_callable = python_callable
        self.register(task_id, kwargs)


class MappedOperator(Task):
    def __init__(self, cls, partial_kwargs, mapped_kwargs):
        self.operator_class = cls
        self.mapped_kwargs = mapped_kwargs
        self.register(partial_kwargs["task_id"], partial_kwargs)


class KubernetesPodOperator(Task):
    """The provider's operator as far as the DAG relies on it: partial and
    expand, base_container_name, and cleanup raising AirflowException
    when the pod did not succeed."""

    BASE_CONTAINER_NAME = "base"

    def __init__(self, task_id, base_container_name=None, register=True, **kwargs):
        self.base_container_name = base_container_name or self.BASE_CONTAINER_NAME
        if register:
            self.register(task_id, kwargs)
        else:
            self.task_id = task_id

    @classmethod
    def partial(cls, **kwargs):
        return NS(expand=lambda **mapped: MappedOperator(cls, kwargs, mapped))

    def cleanup(self, pod, remote_pod, xcom_result=None, context=None):
        if remote_pod.status.phase != "Succeeded":
            raise AirflowException(f"Pod {pod.metadata.name} returned a failure.")


def stub_modules() -> dict[str, types.ModuleType]:
    def module(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        return m

    return {
        "pendulum": module("pendulum", parse=lambda s, tz=None: dt.datetime.fromisoformat(s).replace(tzinfo=dt.timezone.utc)),
        "airflow": module("airflow", DAG=DAG),
        "airflow.exceptions": module("airflow.exceptions", AirflowException=AirflowException, AirflowFailException=AirflowFailException),
        "airflow.operators": module("airflow.operators"),
        "airflow.operators.python": module("airflow.operators.python", PythonOperator=PythonOperator),
        "airflow.providers": module("airflow.providers"),
        "airflow.providers.cncf": module("airflow.providers.cncf"),
        "airflow.providers.cncf.kubernetes": module("airflow.providers.cncf.kubernetes"),
        "airflow.providers.cncf.kubernetes.operators": module("airflow.providers.cncf.kubernetes.operators"),
        "airflow.providers.cncf.kubernetes.operators.pod": module("airflow.providers.cncf.kubernetes.operators.pod", KubernetesPodOperator=KubernetesPodOperator),
    }


def load(name):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    with mock.patch.dict(sys.modules, stub_modules()):
        spec.loader.exec_module(mod)
    return mod


# The command line of sharded nights: the flags each subcommand may take.
ALLOWED = {
    "run": {"--as-of", "--events", "--out", "--policy", "--shards", "--shard"},
    "commit": {"--as-of", "--out", "--shards"},
}


def parse(argv):
    """A creditrun command line as (subcommand, {flag: value})."""
    sub, rest = argv[0], argv[1:]
    if len(rest) % 2:
        raise AssertionError(f"{argv}: a flag without its value")
    flags = dict(zip(rest[::2], rest[1::2]))
    if len(flags) != len(rest) // 2:
        raise AssertionError(f"{argv}: a flag given twice")
    unknown = set(flags) - ALLOWED[sub]
    if unknown:
        raise AssertionError(f"{argv}: flags {sorted(unknown)} are not creditrun {sub}'s")
    return sub, flags


def pod(phase, code=None, container="base", disrupted=False):
    """A pod as the Kubernetes client returns it, ended in phase."""
    statuses = []
    if code is not None:
        statuses.append(NS(name=container, state=NS(terminated=NS(exit_code=code))))
    conditions = [NS(type="DisruptionTarget", status="True")] if disrupted else [NS(type="Ready", status="False")]
    return NS(metadata=NS(name="creditrun-shard-abc"), status=NS(phase=phase, container_statuses=statuses, conditions=conditions))


class Shape(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = load("creditrun_sharded_dag")
        cls.dag = cls.m.dag

    def test_dag(self):
        self.assertEqual(self.dag.dag_id, "creditrun_sharded")
        self.assertEqual(self.dag.kwargs["max_active_runs"], 1)
        self.assertTrue(self.dag.kwargs["catchup"])
        args = self.dag.kwargs["default_args"]
        self.assertTrue(args["depends_on_past"])
        self.assertTrue(args["wait_for_downstream"])

    def test_graph(self):
        # plan_shards -> N mapped shard tasks -> commit
        tasks = self.dag.tasks
        self.assertEqual(list(tasks), ["plan_shards", "shard", "commit"])
        self.assertEqual(tasks["plan_shards"].downstream, ["shard"])
        self.assertEqual(tasks["shard"].downstream, ["commit"])
        self.assertEqual(tasks["commit"].downstream, [])
        shard = tasks["shard"]
        self.assertIsInstance(shard, MappedOperator)
        self.assertIs(shard.operator_class, self.m.CreditrunPodOperator)
        self.assertEqual(list(shard.mapped_kwargs), ["arguments"])
        self.assertIs(shard.mapped_kwargs["arguments"].task, tasks["plan_shards"])
        self.assertIsInstance(tasks["commit"], self.m.CreditrunPodOperator)
        self.assertTrue(issubclass(self.m.CreditrunPodOperator, KubernetesPodOperator))

    def test_n_mapped_shards(self):
        # What Airflow does at run time: one mapped shard per element of
        # plan_shards' return value.
        plan = self.dag.tasks["plan_shards"]
        kwargs = dict(plan.kwargs["op_kwargs"])
        self.assertEqual(kwargs["as_of"], "{{ ds }}")
        for n in (1, 4, 17):
            with self.subTest(shards=n):
                kwargs.update(as_of="2025-03-02", shards=str(n))
                mapped = plan.python_callable(**kwargs)
                self.assertEqual(len(mapped), n)
                for k, argv in enumerate(mapped):
                    sub, flags = parse(argv)
                    self.assertEqual(sub, "run")
                    self.assertEqual(flags, {
                        "--as-of": "2025-03-02", "--events": "$(CREDITRUN_EVENTS)", "--out": "$(CREDITRUN_OUT)",
                        "--policy": "/etc/creditrun/policy.yaml", "--shards": str(n), "--shard": str(k),
                    })

    def test_bad_shard_count_fails_without_retry(self):
        for shards in ("0", "-1", "x", "", "4.5", str(self.m.MAX_SHARDS + 1)):
            with self.subTest(shards=shards):
                with self.assertRaises(AirflowFailException):
                    self.m.plan_shards("2025-03-02", shards)

    def test_commit_uses_the_planned_count(self):
        commit = self.dag.tasks["commit"]
        sub, flags = parse(commit.kwargs["arguments"])
        self.assertEqual(sub, "commit")
        self.assertEqual(flags["--as-of"], "{{ ds }}")
        self.assertEqual(flags["--out"], "$(CREDITRUN_OUT)")
        try:
            import jinja2
        except ImportError:
            self.skipTest("jinja2 not installed: the --shards template is not rendered")
        planned = self.m.plan_shards("2025-03-02", "6")
        ti = NS(xcom_pull=lambda task_ids: planned if task_ids == "plan_shards" else None)
        self.assertEqual(jinja2.Template(flags["--shards"]).render(ti=ti), "6")

    def test_pods(self):
        template = HERE / "creditrun-pod.yaml"
        for task_id in ("shard", "commit"):
            kwargs = self.dag.tasks[task_id].kwargs
            with self.subTest(task=task_id):
                self.assertEqual(kwargs["cmds"], ["/usr/local/bin/creditrun"])
                self.assertEqual(Path(kwargs["pod_template_file"]), template.resolve())
                self.assertTrue(kwargs["get_logs"])
                # Only exit 75 is retried: retries exist, and cleanup decides.
                self.assertGreater(kwargs["retries"], 0)
        self.assertIn("    - name: base\n", template.read_text())
        self.assertEqual(self.dag.tasks["plan_shards"].kwargs["retries"], 0)

    def test_pod_template_from_the_environment(self):
        with mock.patch.dict(os.environ, {"CREDITRUN_POD_TEMPLATE": "/opt/creditrun/pod.yaml"}):
            m = load("creditrun_sharded_dag")
        self.assertEqual(m.dag.tasks["shard"].kwargs["pod_template_file"], "/opt/creditrun/pod.yaml")

    def test_same_exit_codes_as_the_nightly_dag(self):
        nightly = load("creditrun_dag")
        for name in ("EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_REJECTED", "EXIT_BEHIND", "EXIT_TEMPORARY"):
            self.assertEqual(getattr(self.m, name), getattr(nightly, name), name)

    def test_import_leaves_no_stub_behind(self):
        self.assertIsNot(getattr(sys.modules.get("airflow"), "DAG", None), DAG)


class Retries(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = load("creditrun_sharded_dag")

    def cleanup(self, remote_pod):
        op = self.m.CreditrunPodOperator(task_id="shard", register=False)
        op.cleanup(remote_pod, remote_pod)

    def test_succeeded(self):
        self.assertIsNone(self.cleanup(pod("Succeeded", 0)))

    def test_temporary_is_retried(self):
        # AirflowException, not its subclass AirflowFailException: the
        # task's retries apply.
        with self.assertRaises(AirflowException) as cm:
            self.cleanup(pod("Failed", 75))
        self.assertIs(type(cm.exception), AirflowException)
        self.assertIn("exited 75", str(cm.exception))

    def test_permanent_fails_without_retry(self):
        for code in (1, 2, 3, 4, 5, 64, 126, 127, 137, 143, 255):
            with self.subTest(code=code):
                with self.assertRaises(AirflowFailException) as cm:
                    self.cleanup(pod("Failed", code))
                self.assertIn(f"exited {code}", str(cm.exception))

    def test_only_75_retries(self):
        for code in range(1, 256):
            try:
                self.cleanup(pod("Failed", code))
            except AirflowFailException:
                self.assertNotEqual(code, 75)
            except AirflowException:
                self.assertEqual(code, 75)
            else:
                self.fail(f"exit {code} raised nothing")

    def test_disrupted_or_no_exit_code_is_retried(self):
        for p in (pod("Failed"), pod("Failed", 137, disrupted=True), pod("Failed", 1, container="istio-proxy")):
            with self.subTest(pod=p):
                with self.assertRaises(AirflowException) as cm:
                    self.cleanup(p)
                self.assertIs(type(cm.exception), AirflowException)

    def test_the_base_container_decides(self):
        op = self.m.CreditrunPodOperator(task_id="commit", base_container_name="creditrun", register=False)
        with self.assertRaises(AirflowFailException):
            op.cleanup(pod("Failed", 1, container="creditrun"), pod("Failed", 1, container="creditrun"))

    def test_message_names_the_cause(self):
        with self.assertRaises(AirflowFailException) as cm:
            self.cleanup(pod("Failed", 4))
        self.assertIn("behind", str(cm.exception))
        self.assertIn("creditrun-shard-abc", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
