package lineage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// RunWriter stores runs; graph.Store is one. An error that wraps
// ErrRejected says the store refused the events for good.
type RunWriter interface {
	WriteRuns(ctx context.Context, runs []Run) error
}

// ErrRejected marks a write the store refused for good (a constraint, a
// statement error), not for a while (a connection, a deadlock): retrying
// the same events would fail the same way.
var ErrRejected = errors.New("lineage: the store rejected the events")

// Writer drains a Spool into the lineage store in batches. While the store
// is unreachable it retries with backoff and the spool keeps growing; a
// batch is committed only once written, so nothing is lost or reordered.
type Writer struct {
	Spool *Spool
	Store RunWriter
	// Batch is the most records per write. Zero means 500.
	Batch int
	// Idle is the pause when the spool is empty. Zero means 200ms.
	Idle time.Duration
	// MaxBackoff caps the pause between failed writes. Zero means 10s.
	MaxBackoff time.Duration
	// OnError is told of each failed write (the batch is retried). Nil
	// ignores them.
	OnError func(error)
	// OnWrite is told of each batch write: its events, how long it took,
	// and its error. Nil ignores them.
	OnWrite func(events int, took time.Duration, err error)
	// OnDeadLetter is told of each event the store rejected for good,
	// after it went to the spool's dead-letter file. Nil ignores them.
	OnDeadLetter func(run Run, err error)
}

// Run drains until ctx is done, then makes one last attempt to write what
// is spooled, bounded by final.
func (w *Writer) Run(ctx context.Context, final time.Duration) {
	batch, idle, maxBackoff := w.Batch, w.Idle, w.MaxBackoff
	if batch == 0 {
		batch = 500
	}
	if idle == 0 {
		idle = 200 * time.Millisecond
	}
	if maxBackoff == 0 {
		maxBackoff = 10 * time.Second
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		n, err := w.drainOnce(ctx, batch)
		pause := idle
		switch {
		case err != nil:
			if w.OnError != nil {
				w.OnError(err)
			}
			pause, backoff = backoff, min(backoff*2, maxBackoff)
		case n == batch:
			pause = 0 // more is waiting
			fallthrough
		default:
			backoff = 100 * time.Millisecond
		}
		if pause > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(pause):
			}
		}
	}
	fctx, cancel := context.WithTimeout(context.Background(), final)
	defer cancel()
	for fctx.Err() == nil {
		if n, err := w.drainOnce(fctx, batch); err != nil || n == 0 {
			return
		}
	}
}

// drainOnce writes and commits one batch and says how many records it held.
func (w *Writer) drainOnce(ctx context.Context, batch int) (int, error) {
	recs, pos, err := w.Spool.Read(batch)
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	runs := make([]Run, 0, len(recs))
	for _, rec := range recs {
		var r Run
		if err := json.Unmarshal(rec, &r); err != nil {
			// A record that is not a run cannot become one: report it and
			// move past it rather than block the spool.
			if w.OnError != nil {
				w.OnError(fmt.Errorf("lineage: spool record is not a run event, skipped: %w", err))
			}
			continue
		}
		runs = append(runs, r)
	}
	start := time.Now()
	err = w.Store.WriteRuns(ctx, runs)
	if w.OnWrite != nil {
		w.OnWrite(len(runs), time.Since(start), err)
	}
	if errors.Is(err, ErrRejected) {
		// Refused for good: find which events, put them aside, let the
		// rest flow on (a batch retried forever would fill the spool).
		err = w.isolate(ctx, runs)
	}
	if err != nil {
		return 0, err
	}
	if err := w.Spool.Commit(pos); err != nil {
		return 0, err
	}
	return len(recs), nil
}

// isolate writes a rejected batch's events one by one: those the store
// rejects go to the dead-letter file; a transient error stops it (the
// batch is read again, and the events written are written again:
// idempotent).
func (w *Writer) isolate(ctx context.Context, runs []Run) error {
	for _, r := range runs {
		start := time.Now()
		err := w.Store.WriteRuns(ctx, []Run{r})
		if w.OnWrite != nil {
			w.OnWrite(1, time.Since(start), err)
		}
		switch {
		case err == nil:
		case errors.Is(err, ErrRejected):
			if derr := w.Spool.DeadLetter(r, err); derr != nil {
				return derr
			}
			if w.OnDeadLetter != nil {
				w.OnDeadLetter(r, err)
			}
		default:
			return err
		}
	}
	return nil
}
