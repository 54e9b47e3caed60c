package activities

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/pipewatch/pipewatch/lineage"
)

// An audit record that cannot be written (a full disk) fails the step,
// retryably, before the read is used or the model registered: no access or
// deployment passes unrecorded.
func TestUnauditedStepsFail(t *testing.T) {
	full := errors.New("no space left on device")
	store := t.TempDir()
	m := &ML{Store: store, SourceRoots: []string{"../testdata"},
		Audit: func(context.Context, string, map[string]any) error { return full }}
	_, err := m.Ingest(context.Background(), IngestInput{Source: "../testdata/cohort-sample.csv"})
	var app *temporal.ApplicationError
	if !errors.Is(err, full) || errors.As(err, &app) || !strings.HasPrefix(err.Error(), "audit data_access: ") {
		t.Errorf("Ingest: %v; want the audit error, retryable", err)
	}
	if _, err := os.Stat(filepath.Join(store, "raw")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the unaudited read was stored: %v", err)
	}
	_, err = m.Register(context.Background(), RegisterInput{Model: lineage.Dataset{Kind: lineage.Model, Key: "models/m", Version: lineage.Digest([]byte("m"))}, Evaluation: Evaluation{AUC: 0.9}})
	if !errors.Is(err, full) {
		t.Errorf("Register: %v; want the audit error", err)
	}
	if _, err := os.Stat(filepath.Join(store, "registry.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the unaudited registration was written: %v", err)
	}
}
