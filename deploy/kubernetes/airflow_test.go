package kubernetes

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// The sharded Airflow DAG: its task graph (plan, N mapped shards, commit)
// and its retries by exit code, checked by its unittest with the airflow
// modules stubbed (Airflow itself is not needed).
func TestShardedAirflowDAG(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	cmd := exec.Command(python, "-m", "unittest", "-v", "test_creditrun_sharded_dag")
	cmd.Dir = "../airflow"
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 -m unittest: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("OK")) || bytes.Contains(out, []byte("Ran 0 tests")) {
		t.Errorf("python3 -m unittest ran nothing:\n%s", out)
	}
}
