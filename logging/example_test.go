package logging_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pipewatch/pipewatch/logging"
	"go.uber.org/zap"
)

// fixedClock always tells the same time, so the output below is stable.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// Open both logs, log a step, record an audit event, then check the audit
// chain the way `pipewatch audit verify` would.
func Example() {
	dir, err := os.MkdirTemp("", "pipewatch-logs")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	logs, err := logging.New(logging.Options{
		Dir:     dir,
		Console: os.Stdout, // the human-readable copy; nil means stderr
		Clock:   fixedClock{time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	logs.Main.Info("step completed",
		zap.String(logging.FieldPipeline, "churn"),
		zap.String(logging.FieldStep, "train"),
		zap.Duration(logging.FieldDuration, 1500*time.Millisecond))
	err = logs.Audit.Record(logging.AuditModelDeploy, "alice", map[string]any{"model": "churn", "version": "v7"})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := logs.Close(); err != nil {
		fmt.Println(err)
		return
	}

	audit, _ := os.ReadFile(filepath.Join(dir, "audit.log"))
	fmt.Print(string(audit))
	files, _ := logging.AuditFiles(dir)
	fmt.Println("audit chain:", logging.VerifyAudit(files...))
	// Output:
	// 2026-11-26T09:30:00.000Z	INFO	logging/example_test.go:37	step completed	{"pipeline": "churn", "step": "train", "duration": "1.5s"}
	// {"ts":"2026-11-26T09:30:00.000Z","seq":1,"event":"model_deployment","actor":"alice","details":{"model":"churn","version":"v7"},"prev_hash":"","hash":"477bd2a8dab969bff57b12921ff3a919a1e7a795b8643dbaf28f1ffdc15ab13f"}
	// audit chain: <nil>
}
