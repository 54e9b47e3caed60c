package worker

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A check that fails, as a slow Temporal's ListSearchAttributes can at
// start, is tried again: it used to turn search attributes off for the
// worker's life.
func TestRetryCheck(t *testing.T) {
	tests := []struct {
		name      string
		failFirst int
		limit     time.Duration
		wantCalls int
		wantErr   bool
	}{
		{"answers at once", 0, time.Second, 1, false},
		{"fails twice, then answers", 2, 5 * time.Second, 3, false},
		{"keeps failing: the error, after the limit", 1000, 600 * time.Millisecond, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			got, err := retryCheck(context.Background(), tt.limit, func(context.Context) ([]string, error) {
				calls++
				if calls <= tt.failFirst {
					return nil, errors.New("context deadline exceeded")
				}
				return []string{"PipelineStep"}, nil
			})
			if (err != nil) != tt.wantErr || calls != tt.wantCalls {
				t.Fatalf("err %v after %d calls, want error %v after %d", err, calls, tt.wantErr, tt.wantCalls)
			}
			if !tt.wantErr && (len(got) != 1 || got[0] != "PipelineStep") {
				t.Errorf("answer %v", got)
			}
		})
	}
}
