package interceptors

import (
	"sync"
	"sync/atomic"
)

// workflowQueue hands workflow-side events to a goroutine that does their
// I/O (a log line, a spool append): workflow code never waits on a disk,
// whose fsync can outlast the SDK's one-second deadlock detector. It is
// bounded: when full, an event is dropped and counted, never waited for
// (the run is in Temporal's history, and the sentinel writes its end from
// there).
type workflowQueue struct {
	ch      chan Event
	handle  func(*Event)
	pending sync.WaitGroup // events pushed and not handled yet
	done    chan struct{}
	dropped atomic.Int64

	mu     sync.RWMutex
	closed bool
}

// workflowQueueSize bounds the events waiting for their I/O.
const workflowQueueSize = 4096

func newWorkflowQueue(handle func(*Event)) *workflowQueue {
	q := &workflowQueue{ch: make(chan Event, workflowQueueSize), handle: handle, done: make(chan struct{})}
	go q.run()
	return q
}

func (q *workflowQueue) run() {
	defer close(q.done)
	for e := range q.ch {
		q.handle(&e)
		q.pending.Done()
	}
}

// push hands over a copy of e, or drops it when the queue is full or
// closed; it never blocks.
func (q *workflowQueue) push(e *Event) bool {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		q.dropped.Add(1)
		return false
	}
	q.pending.Add(1)
	select {
	case q.ch <- *e:
		return true
	default:
		q.pending.Done()
		q.dropped.Add(1)
		return false
	}
}

// flush waits until every event pushed so far is handled.
func (q *workflowQueue) flush() { q.pending.Wait() }

// close handles what is queued and stops the goroutine.
func (q *workflowQueue) close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
	q.mu.Unlock()
	<-q.done
}
