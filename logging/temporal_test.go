package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/log"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// jsonLogger is a zap logger writing the file's JSON lines to a buffer.
func jsonLogger(t *testing.T) (*zap.Logger, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	core := zapcore.NewCore(zapcore.NewJSONEncoder(jsonEncoderConfig()), zapcore.AddSync(&buf), zapcore.DebugLevel)
	clock := zapClock{newFakeClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))}
	return zap.New(core, zap.AddCaller(), zap.WithClock(clock)), &buf
}

// decodeLines decodes each JSON line, dropping ts and returning callers
// apart.
func decodeLines(t *testing.T, buf *bytes.Buffer) (lines []map[string]any, callers []string) {
	t.Helper()
	for _, s := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", s, err)
		}
		if m["ts"] != "2026-11-26T10:00:00.000Z" {
			t.Errorf("ts = %v", m["ts"])
		}
		c, _ := m["caller"].(string)
		delete(m, "ts")
		delete(m, "caller")
		lines, callers = append(lines, m), append(callers, c)
	}
	return lines, callers
}

func TestTemporalLogger(t *testing.T) {
	tests := []struct {
		name string
		log  func(l log.Logger)
		want map[string]any
	}{
		{"pairs", func(l log.Logger) { l.Info("task processed", "WorkflowID", "wf-9", "Attempt", 3) },
			map[string]any{"level": "info", "msg": "task processed", "WorkflowID": "wf-9", "Attempt": 3}},
		{"no keyvals", func(l log.Logger) { l.Debug("plain") },
			map[string]any{"level": "debug", "msg": "plain"}},
		{"odd count", func(l log.Logger) { l.Warn("odd", "Namespace", "default", "dangling") },
			map[string]any{"level": "warn", "msg": "odd", "Namespace": "default", "_extra": "dangling"}},
		{"lone value", func(l log.Logger) { l.Info("lone", 42) },
			map[string]any{"level": "info", "msg": "lone", "_extra": 42}},
		{"key not a string", func(l log.Logger) { l.Info("key", 7, "seven") },
			map[string]any{"level": "info", "msg": "key", "7": "seven"}},
		{"error value", func(l log.Logger) { l.Error("failed", "Error", errors.New("boom")) },
			map[string]any{"level": "error", "msg": "failed", "Error": "boom"}},
		{"nil value", func(l log.Logger) { l.Info("nil", "Value", nil) },
			map[string]any{"level": "info", "msg": "nil", "Value": nil}},
		{"With adds fields", func(l log.Logger) {
			l.(log.WithLogger).With("TaskQueue", "pipewatch").Info("with", "Step", "train")
		}, map[string]any{"level": "info", "msg": "with", "TaskQueue": "pipewatch", "Step": "train"}},
		{"With twice, odd", func(l log.Logger) {
			log.With(log.With(l, "A", 1), "dangling").Info("nested")
		}, map[string]any{"level": "info", "msg": "nested", "A": 1, "_extra": "dangling"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, buf := jsonLogger(t)
			tt.log(NewTemporalLogger(z))
			lines, _ := decodeLines(t, buf)
			want, _ := json.Marshal(tt.want)
			got, _ := json.Marshal(lines[0])
			if len(lines) != 1 || !bytes.Equal(got, want) {
				t.Errorf("lines = %v, want one line %s", lines, want)
			}
		})
	}
}

func TestTemporalLoggerWithDoesNotMutate(t *testing.T) {
	z, buf := jsonLogger(t)
	l := NewTemporalLogger(z)
	_ = l.(log.WithLogger).With("RunID", "r-1")
	l.Info("parent")
	lines, _ := decodeLines(t, buf)
	if _, ok := lines[0]["RunID"]; ok || len(lines) != 1 {
		t.Errorf("parent logger got With's fields: %v", lines)
	}
}

func logVia(l log.Logger) { l.Info("via helper") }

func TestTemporalLoggerCaller(t *testing.T) {
	z, buf := jsonLogger(t)
	l := NewTemporalLogger(z)
	_, _, line, _ := runtime.Caller(0)
	l.Info("direct")
	log.With(l, "k", "v").Info("with")
	logVia(l.(log.WithSkipCallers).WithCallerSkip(1))
	_, callers := decodeLines(t, buf)
	want := []string{
		fmt.Sprintf("logging/temporal_test.go:%d", line+1),
		fmt.Sprintf("logging/temporal_test.go:%d", line+2),
		fmt.Sprintf("logging/temporal_test.go:%d", line+3), // the helper's caller
	}
	if strings.Join(callers, " ") != strings.Join(want, " ") {
		t.Errorf("callers = %q, want %q", callers, want)
	}
}

func TestTemporalLoggerNil(t *testing.T) {
	l := NewTemporalLogger(nil)
	l.Info("nothing happens", "k")
	log.With(l, "k", "v").Error("still nothing")
}
