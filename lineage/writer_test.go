package lineage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// rejectingStore rejects, for good, any batch holding a run whose id is
// in bad (a store's view of events it cannot take), and fails for a while
// every write while down is set.
type rejectingStore struct {
	flakyStore
	bad  map[string]bool
	down bool
}

func (s *rejectingStore) WriteRuns(ctx context.Context, runs []Run) error {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		return errors.New("neo4j: connection refused")
	}
	for _, r := range runs {
		if s.bad[r.RunID] {
			return fmt.Errorf("write %d run events: %w: Neo.ClientError.Schema.TokenNameError", len(runs), ErrRejected)
		}
	}
	return s.flakyStore.WriteRuns(ctx, runs)
}

// A batch the store rejects for good used to be retried forever, until the
// spool filled: its rejected events now go to the dead-letter file, with
// the error, and the rest flows on.
func TestWriterPutsRejectedEventsAside(t *testing.T) {
	dir := t.TempDir()
	spool, err := OpenSpool(dir, SpoolOptions{})
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
	store := &rejectingStore{bad: map[string]bool{"r2": true, "r4": true}}
	var dead []string
	w := &Writer{Spool: spool, Store: store, Batch: 10, OnDeadLetter: func(r Run, err error) { dead = append(dead, r.RunID) }}

	// While the store is down, nothing is put aside and nothing committed.
	store.down = true
	if _, err := w.drainOnce(context.Background(), 10); err == nil || len(dead) != 0 || spool.Pending() == 0 {
		t.Fatalf("store down: err %v, dead letters %v, pending %d; want an error, none, all pending", err, dead, spool.Pending())
	}
	store.down = false
	if n, err := w.drainOnce(context.Background(), 10); err != nil || n != 5 {
		t.Fatalf("drain = %d, %v", n, err)
	}
	var ids []string
	for _, r := range store.written {
		ids = append(ids, r.RunID)
	}
	if fmt.Sprint(ids) != "[r1 r3 r5]" || fmt.Sprint(dead) != "[r2 r4]" || spool.Pending() != 0 {
		t.Errorf("written %v, dead letters %v, pending %d; want r1 r3 r5, r2 r4, 0", ids, dead, spool.Pending())
	}
	b, err := os.ReadFile(filepath.Join(dir, DeadLetterFile))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for line := range strings.Lines(string(b)) {
		var d struct {
			Error string
			Event Run
		}
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, d.Event.RunID+": "+d.Error)
	}
	want := []string{"r2: write 1 run events: lineage: the store rejected the events: Neo.ClientError.Schema.TokenNameError",
		"r4: write 1 run events: lineage: the store rejected the events: Neo.ClientError.Schema.TokenNameError"}
	if fmt.Sprint(lines) != fmt.Sprint(want) {
		t.Errorf("dead-letter file:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
