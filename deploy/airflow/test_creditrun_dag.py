"""Tests of creditrun_dag.py without Airflow: the airflow and pendulum modules
it imports are stubbed, and creditrun is a fake process.

    cd deploy/airflow && python3 -m unittest -v test_creditrun_dag

(.airflowignore keeps Airflow from parsing this file as a DAG file.)
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import logging
import sys
import types
import unittest
from pathlib import Path
from unittest import mock


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


class PythonOperator:
    def __init__(self, task_id, python_callable, **kwargs):
        self.task_id = task_id
        self.python_callable = python_callable
        self.kwargs = kwargs
        DAG.current.tasks[task_id] = self


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
    }


def load_dag_module():
    path = Path(__file__).with_name("creditrun_dag.py")
    spec = importlib.util.spec_from_file_location("creditrun_dag", path)
    mod = importlib.util.module_from_spec(spec)
    with mock.patch.dict(sys.modules, stub_modules()):
        spec.loader.exec_module(mod)
    return mod


class FakeProcess:
    """A finished creditrun: its output lines and its exit code."""

    def __init__(self, code: int, lines=(), fail_with: BaseException | None = None):
        self.code = code
        self.lines = list(lines)
        self.fail_with = fail_with
        self.terminated = False
        self.argv = None

    @property
    def stdout(self):
        for line in self.lines:
            yield line
        if self.fail_with is not None:
            raise self.fail_with

    def wait(self, timeout=None):
        return self.code

    def terminate(self):
        self.terminated = True

    def kill(self):
        self.terminated = True


def popen_of(proc: FakeProcess):
    def popen(argv, **kwargs):
        proc.argv = argv
        return proc

    return popen


class ExitCodeMapping(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = load_dag_module()

    def close(self, code, **kwargs):
        proc = FakeProcess(code, **kwargs)
        self.m.close_business_date("2025-03-02", "/bin/creditrun", "/ev", "/out", popen=popen_of(proc))
        return proc

    def test_published(self):
        proc = self.close(0)
        self.assertFalse(proc.terminated)

    def test_temporary_is_retried(self):
        # AirflowException, not its subclass AirflowFailException: the
        # task's retries apply.
        with self.assertRaises(AirflowException) as cm:
            self.close(75)
        self.assertIs(type(cm.exception), AirflowException)
        self.assertIn("exited 75", str(cm.exception))

    def test_permanent_fails_without_retry(self):
        for code in (1, 2, 3, 4, 5, 64, 126, 127, 137, -9):
            with self.subTest(code=code):
                with self.assertRaises(AirflowFailException) as cm:
                    self.close(code)
                self.assertIn(f"exited {code}", str(cm.exception))

    def test_only_75_retries(self):
        for code in range(-15, 256):
            if code == 0:
                continue
            try:
                self.m.check_exit(code, "2025-03-02")
            except AirflowFailException:
                self.assertNotEqual(code, 75)
            except AirflowException:
                self.assertEqual(code, 75)
            else:
                self.fail(f"check_exit({code}) raised nothing")
        self.assertIsNone(self.m.check_exit(0, "2025-03-02"))

    def test_runs_the_catch_up(self):
        proc = FakeProcess(0)
        self.m.close_business_date("2025-03-02", "/bin/creditrun", "/ev", "/out", policy="/etc/p.yaml",
                                   args="--workers 8 --max-reject-ratio 0.001", popen=popen_of(proc))
        self.assertEqual(proc.argv, [
            "/bin/creditrun", "backfill", "--catch-up", "--to", "2025-03-02", "--events", "/ev", "--out", "/out",
            "--policy", "/etc/p.yaml", "--workers", "8", "--max-reject-ratio", "0.001",
        ])
        proc = FakeProcess(0)
        self.m.close_business_date("2025-03-02", "/bin/creditrun", "/ev", "/out", popen=popen_of(proc))
        self.assertNotIn("--policy", proc.argv)

    def test_output_goes_to_the_task_log(self):
        line = '{"level":"error","kind":"locked","retryable":true,"exit_code":75,"message":"creditrun failed"}'
        with self.assertLogs(self.m.log, logging.INFO) as logs:
            with self.assertRaises(AirflowException):
                self.close(75, lines=[line + "\n"])
        self.assertIn(line, [r.getMessage() for r in logs.records])

    def test_real_process(self):
        # The default popen: a real child, its output read line by line.
        code = """import sys; print('{"message":"stage done"}'); sys.exit(int(sys.argv[1]))"""
        with self.assertLogs(self.m.log, logging.INFO) as logs:
            self.assertEqual(self.m.run_creditrun([sys.executable, "-c", code, "75"]), 75)
        self.assertIn('{"message":"stage done"}', [r.getMessage() for r in logs.records])
        self.assertEqual(self.m.run_creditrun([sys.executable, "-c", code, "0"]), 0)

    def test_binary_not_found_fails_without_retry(self):
        with self.assertRaises(AirflowFailException):
            self.m.close_business_date("2025-03-02", "/nonexistent/creditrun", "/ev", "/out")

    def test_stopped_task_stops_creditrun(self):
        class Timeout(BaseException):  # what Airflow raises in a task it stops
            pass

        proc = FakeProcess(0, lines=["{}\n"], fail_with=Timeout())
        with self.assertRaises(Timeout):
            self.m.close_business_date("2025-03-02", "/bin/creditrun", "/ev", "/out", popen=popen_of(proc))
        self.assertTrue(proc.terminated)


class DAGShape(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = load_dag_module()

    def test_dag(self):
        dag = self.m.dag
        self.assertEqual(dag.dag_id, "creditrun_nightly")
        self.assertEqual(dag.kwargs["max_active_runs"], 1)
        self.assertTrue(dag.kwargs["catchup"])
        self.assertTrue(dag.kwargs["default_args"]["depends_on_past"])
        self.assertGreater(dag.kwargs["default_args"]["retries"], 0)
        self.assertEqual(list(dag.tasks), ["creditrun_run"])

    def test_task(self):
        task = self.m.dag.tasks["creditrun_run"]
        self.assertIs(task.python_callable, self.m.close_business_date)
        self.assertEqual(task.kwargs["op_kwargs"]["as_of"], "{{ ds }}")
        doc = task.kwargs["doc_md"]
        for row in ("| 0 |", "| 75 |", "| 1 |", "| 2 |", "| 3 |", "| 4 |"):
            self.assertIn(row, doc)

    def test_import_leaves_no_stub_behind(self):
        self.assertIsNot(getattr(sys.modules.get("airflow"), "DAG", None), DAG)

if __name__ == "__main__":
    unittest.main()
