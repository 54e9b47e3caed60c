package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/pipewatch/pipewatch/activities/stats"
	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/lineage"
)

// DriftName is the drift check's activity name.
const DriftName = "pipewatch.ml.Drift"

// Drift thresholds (issue of record: PSI 0.1 / 0.25, KS p < 0.05 with
// Bonferroni, Jensen–Shannon ≥ 0.1).
const (
	PSIModerate    = 0.1
	PSISignificant = 0.25
	KSAlpha        = 0.05
	JSThreshold    = 0.1
)

// DriftInput names the new batch; the reference and the model are the
// registry's promoted version unless given.
type DriftInput struct {
	// Batch is a cohort CSV of newly arrived (and, when it has them,
	// labelled) data.
	Batch string
	// MaxDriftedShare raises data_drift when more features than this
	// share drift; zero means 0.3.
	MaxDriftedShare float64
	// MaxAUCDrop raises model_degradation when the model's AUC on the
	// batch falls this far below its registered AUC; zero means 0.05.
	MaxAUCDrop float64
}

// FeatureDrift is one feature's drift tests.
type FeatureDrift struct {
	Feature  string
	PSI      float64
	KS, KSP  float64
	JS       float64
	Moderate bool // PSI in [0.1, 0.25)
	// Drifted when two of the three tests flag it: PSI ≥ 0.25, KS p below
	// 0.05 over the number of features, JS ≥ 0.1.
	Drifted bool
}

// DriftReport is one batch's drift and model check.
type DriftReport struct {
	Model        lineage.Dataset
	Features     []FeatureDrift
	DriftedShare float64
	DataDrift    bool
	// RegisteredAUC and CurrentAUC compare the model at registration and
	// on the batch's labels.
	RegisteredAUC, CurrentAUC float64
	// Labelled is false when the batch's labels hold one class: no AUC.
	Labelled bool
	Degraded bool
}

// CheckDrift compares a new batch with the promoted model's training
// reference, feature by feature, and scores the model on the batch's
// labels; it raises one data_drift alert when too many features drifted
// and one model_degradation alert when the AUC fell too far, and sets the
// drift gauges.
func (m *ML) CheckDrift(ctx context.Context, in DriftInput) (DriftReport, error) {
	entry, err := m.promoted()
	if err != nil {
		return DriftReport{}, err
	}
	// Read, not written: the model in the report is no output of this step.
	for _, d := range []lineage.Dataset{entry.Model, entry.Reference} {
		if err := lineage.Input(ctx, d); err != nil {
			return DriftReport{}, err
		}
	}
	refBytes, err := m.get("validated", ".csv", entry.Reference)
	if err != nil {
		return DriftReport{}, err
	}
	ref, err := ReadCohort(bytes.NewReader(refBytes), nil)
	if err != nil {
		return DriftReport{}, fmt.Errorf("drift reference: %w", err)
	}
	data, abs, err := m.readSource("drift batch", in.Batch)
	if err != nil {
		return DriftReport{}, err
	}
	batchSet := lineage.Dataset{Kind: lineage.RawData, Key: "file://" + abs, Version: lineage.Digest(data)}
	if err := m.auditRead(ctx, "drift check", batchSet); err != nil {
		return DriftReport{}, err
	}
	if err := lineage.Input(ctx, batchSet); err != nil {
		return DriftReport{}, err
	}
	batch, err := ReadCohort(bytes.NewReader(data), nil)
	if err != nil {
		return DriftReport{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: %v", in.Batch, err), "SchemaError", nil)
	}
	rep := DriftReport{Model: entry.Model, RegisteredAUC: entry.Evaluation.AUC}
	cols := NumericColumns()
	alpha := KSAlpha / float64(len(cols)) // Bonferroni
	drifted := 0
	for _, col := range cols {
		r, b := present(ref.Numeric[col]), present(batch.Numeric[col])
		fd := FeatureDrift{Feature: col}
		if fd.PSI, err = stats.PSI(r, b); err != nil {
			return rep, fmt.Errorf("drift of %s: %w", col, err)
		}
		if fd.KS, fd.KSP, err = stats.KS(r, b); err != nil {
			return rep, fmt.Errorf("drift of %s: %w", col, err)
		}
		if fd.JS, err = stats.JensenShannon(r, b); err != nil {
			return rep, fmt.Errorf("drift of %s: %w", col, err)
		}
		votes := b2i(fd.PSI >= PSISignificant) + b2i(fd.KSP < alpha) + b2i(fd.JS >= JSThreshold)
		fd.Drifted, fd.Moderate = votes >= 2, fd.PSI >= PSIModerate && fd.PSI < PSISignificant
		if fd.Drifted {
			drifted++
		}
		rep.Features = append(rep.Features, fd)
		if m.Drift != nil {
			m.Drift.PSI.WithLabelValues(col).Set(fd.PSI)
			m.Drift.KS.WithLabelValues(col).Set(fd.KS)
			m.Drift.KSPValue.WithLabelValues(col).Set(fd.KSP)
			m.Drift.JS.WithLabelValues(col).Set(fd.JS)
			m.Drift.Drifted.WithLabelValues(col).Set(float64(b2i(fd.Drifted)))
		}
	}
	rep.DriftedShare = float64(drifted) / float64(len(cols))
	rep.DataDrift = rep.DriftedShare > orDefault(in.MaxDriftedShare, 0.3)

	// The model on the batch's labels, through its own transform.
	mb, err := m.get("models", ".json", entry.Model)
	if err != nil {
		return rep, err
	}
	var mf modelFile
	if err := json.Unmarshal(mb, &mf); err != nil {
		return rep, fmt.Errorf("model %s: %w", entry.Model.VersionID(), err)
	}
	labels, scores := make([]int, batch.Len()), make([]float64, batch.Len())
	for i := range batch.IDs {
		labels[i], scores[i] = int(batch.Diagnosis[i]), mf.Model.Predict(mf.Transform.apply(batch, i))
	}
	if auc, err := stats.AUC(labels, scores); err == nil { // else one class only: nothing to compare
		rep.CurrentAUC, rep.Labelled = auc, true
		rep.Degraded = rep.RegisteredAUC-auc > orDefault(in.MaxAUCDrop, 0.05)
	}
	if m.Drift != nil {
		m.Drift.DriftedShare.Set(rep.DriftedShare)
		m.Drift.ModelAUC.WithLabelValues(entry.Model.Key, "registered").Set(rep.RegisteredAUC)
		if rep.Labelled {
			m.Drift.ModelAUC.WithLabelValues(entry.Model.Key, "current").Set(rep.CurrentAUC)
		}
	}
	activity.RecordHeartbeat(ctx, progress{Records: int64(batch.Len())})

	if rep.DataDrift {
		m.raise(ctx, alerts.Alert{Type: alerts.DataDrift, Severity: alerts.Warning,
			Labels:  map[string]string{"model": entry.Model.Key, "reference": entry.Reference.Key},
			Summary: fmt.Sprintf("%d of %d features drifted (%.0f%%) in %s", drifted, len(cols), 100*rep.DriftedShare, filepath.Base(in.Batch)),
			Details: driftDetails(rep)})
	}
	if rep.Degraded {
		m.raise(ctx, alerts.Alert{Type: alerts.ModelDegradation, Severity: alerts.Critical,
			Labels:  map[string]string{"model": entry.Model.Key},
			Summary: fmt.Sprintf("AUC %.3f on %s, registered %.3f", rep.CurrentAUC, filepath.Base(in.Batch), rep.RegisteredAUC)})
	}
	return rep, nil
}

func driftDetails(rep DriftReport) string {
	var b bytes.Buffer
	for _, f := range rep.Features {
		fmt.Fprintf(&b, "%s: PSI %.3f, KS %.3f (p %.2g), JS %.3f, drifted %v\n", f.Feature, f.PSI, f.KS, f.KSP, f.JS, f.Drifted)
	}
	return b.String()
}

func (m *ML) raise(ctx context.Context, a alerts.Alert) {
	if m.Alerts == nil {
		return
	}
	if err := m.Alerts.Fire(ctx, a); err != nil {
		activity.GetLogger(ctx).Error("alert not raised", "type", a.Type, "error", err)
	}
}

// promoted is the registry's latest promoted version.
func (m *ML) promoted() (registryEntry, error) {
	entries, err := m.readRegistry()
	if errors.Is(err, fs.ErrNotExist) {
		return registryEntry{}, temporal.NewNonRetryableApplicationError(
			"drift: no model registry in "+m.Store+" (run the ML pipeline first)", "NoModel", nil)
	}
	if err != nil {
		return registryEntry{}, err
	}
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].Promoted {
			return entries[i], nil
		}
	}
	return registryEntry{}, temporal.NewNonRetryableApplicationError("drift: no promoted model in the registry", "NoModel", nil)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
