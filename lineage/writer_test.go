package lineage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// flakyStore is the writer's view of the store (an interface, not a fake
// Neo4j): it refuses the first fails writes, as a store that is down does.
type flakyStore struct {
	mu      sync.Mutex
	fails   int
	written []Run
	calls   int
}

func (f *flakyStore) WriteRuns(_ context.Context, runs []Run) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls <= f.fails {
		return errors.New("neo4j: connection refused")
	}
	f.written = append(f.written, runs...)
	return nil
}

func TestWriterRetriesAndCommitsOnlyWhatItWrote(t *testing.T) {
	spool, err := OpenSpool(t.TempDir(), SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer spool.Close()
	for i := 1; i <= 5; i++ {
		b, _ := json.Marshal(Run{RunID: fmt.Sprintf("r%d", i), State: StateStart, Attempt: 1})
		if err := spool.Append(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := spool.Append([]byte("not json")); err != nil {
		t.Fatal(err)
	}
	store := &flakyStore{fails: 2}
	var errs []string
	w := &Writer{Spool: spool, Store: store, Batch: 4, Idle: time.Millisecond, MaxBackoff: time.Millisecond,
		OnError: func(err error) { errs = append(errs, err.Error()) }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx, time.Second) }()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		store.mu.Lock()
		n := len(store.written)
		store.mu.Unlock()
		if n == 5 || time.Now().After(deadline) {
			break
		}
	}
	cancel()
	<-done
	var ids []string
	for _, r := range store.written {
		ids = append(ids, r.RunID)
	}
	if fmt.Sprint(ids) != "[r1 r2 r3 r4 r5]" {
		t.Errorf("written = %v, want r1..r5 once each, in order", ids)
	}
	wantErrs := []string{"neo4j: connection refused", "neo4j: connection refused",
		"lineage: spool record is not a run event, skipped: invalid character 'o' in literal null (expecting 'u')"}
	if fmt.Sprint(errs) != fmt.Sprint(wantErrs) {
		t.Errorf("errors = %q\nwant %q", errs, wantErrs)
	}
	if recs, _, _ := spool.Read(10); len(recs) != 0 {
		t.Errorf("%d records left in the spool, want 0", len(recs))
	}
}
