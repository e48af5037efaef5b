package pipeline_test

import (
	"context"
	"os"
	"testing"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline"
)

func TestZZMem(t *testing.T) {
	if os.Getenv("ZZ") == "" {
		t.Skip()
	}
	o := pipeline.DefaultOptions()
	o.Events, o.Out, o.State = "/tmp/rj/events", t.TempDir(), "/tmp/rj/events/accounts"
	_, err := pipeline.Run(context.Background(), o, billing.NewDate(2025, 3, 1))
	t.Log(err)
}
