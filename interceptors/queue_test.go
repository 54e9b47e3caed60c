package interceptors

import (
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// blockingCore is a log core whose writes wait until released: a disk
// that stalls (an fsync behind a full device).
type blockingCore struct {
	zapcore.Core
	release chan struct{}
}

func (c blockingCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	return ce.AddCore(e, c)
}

func (c blockingCore) Write(e zapcore.Entry, f []zapcore.Field) error {
	<-c.release
	return c.Core.Write(e, f)
}

func (c blockingCore) With(f []zapcore.Field) zapcore.Core {
	return blockingCore{Core: c.Core.With(f), release: c.release}
}

// Workflow code hands its events over and goes on while the log's disk
// stalls: it used to write the line itself, under the file's lock, which
// can outlast the SDK's one-second deadlock detector. A full queue drops
// and counts, never waits.
func TestWorkflowEventsNeverWaitOnTheDisk(t *testing.T) {
	inner, logs := observer.New(zap.DebugLevel)
	release := make(chan struct{})
	o := NewLogObserver(zap.New(blockingCore{Core: inner, release: release}))
	const events = workflowQueueSize + 500
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range events {
			o.ObserveWorkflow(nil, &Event{Kind: WorkflowStarted, WorkflowID: "wf", RunID: "run", Attempt: int32(i)})
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("workflow code waited on the stalled log")
	}
	close(release) // the disk is back
	o.Close()
	dropped := int(o.wq.dropped.Load())
	written := logs.FilterMessage("workflow started").Len()
	if written+dropped != events || dropped == 0 || written < workflowQueueSize {
		t.Errorf("written %d, dropped %d of %d events; want every one either, at least %d written", written, dropped, events, workflowQueueSize)
	}
	if w := logs.FilterMessage("workflow events not logged: the queue was full").All(); len(w) != 1 || w[0].ContextMap()["dropped"] != int64(dropped) {
		t.Errorf("the drop was not reported once with its count: %v", w)
	}
}
