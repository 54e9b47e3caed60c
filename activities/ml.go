package activities

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"sync"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/pipewatch/pipewatch/activities/stats"
	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/metrics"
)

// Names of the ML pipeline's activities.
const (
	IngestName   = "pipewatch.ml.Ingest"
	ValidateName = "pipewatch.ml.Validate"
	FeaturesName = "pipewatch.ml.Features"
	TrainName    = "pipewatch.ml.Train"
	EvaluateName = "pipewatch.ml.Evaluate"
	RegisterName = "pipewatch.ml.Register"
	PredictName  = "pipewatch.ml.Predict"
)

// ML holds the reference pipeline's steps. They work on files in Store, an
// artifact folder where each artifact is named by its content digest.
type ML struct {
	// Store is the artifact folder.
	Store string
	// SourceRoots are the folders sources and batches may be read from (a
	// workflow input names the file: without a bound it could name any
	// file the worker can read). Empty means none: only the store.
	SourceRoots []string
	// MaxSourceBytes bounds a source or batch file. Zero means 1 GiB.
	MaxSourceBytes int64
	// Alerts raises data_quality alerts; nil raises none.
	Alerts *alerts.Raiser
	// MaxMissing fails validation when a column misses more than this
	// share; WarnMissing raises a data_quality warning from this share.
	// Zero means 0.2 and 0.05.
	MaxMissing, WarnMissing float64
	// Drift receives the drift monitor's gauges; nil records none.
	Drift *metrics.Drift
	// Data receives the data-quality counts of Ingest and Validate; nil
	// records none.
	Data *metrics.Data
	// Model receives the evaluation gauges of Evaluate and the decisions
	// of Register; nil records none.
	Model *metrics.Model
	// Audit records each read of a source (data_access) and each model
	// registration and promotion (model_deployment) in the audit log; nil
	// records none.
	Audit AuditFunc

	registry sync.Mutex // registry.json is read, changed and written whole
}

// progress is what the steps heartbeat: pipewatch reads Records.
type progress struct {
	Records int64 `json:"records"`
}

// put stores data under stage/ by digest and returns its path and digest.
func (m *ML) put(stage, ext string, data []byte) (string, string, error) {
	digest := lineage.Digest(data)
	dir := filepath.Join(m.Store, stage)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", "", fmt.Errorf("artifact store: %w", err)
	}
	path := filepath.Join(dir, digest[len("sha256:"):]+ext)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o640); err != nil {
		return "", "", fmt.Errorf("artifact store: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", "", fmt.Errorf("artifact store: %w", err)
	}
	return path, digest, nil
}

// get reads an artifact back by its dataset reference, checking its digest.
func (m *ML) get(stage, ext string, d lineage.Dataset) ([]byte, error) {
	if !isDigest(d.Version) {
		// It names a file: "sha256:../../x" must not reach the file system.
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("artifact %s: version %q is not a sha256 digest (sha256: and 64 hex digits)", d.Key, d.Version), "ArtifactError", nil)
	}
	b, err := os.ReadFile(filepath.Join(m.Store, stage, d.Version[len("sha256:"):]+ext))
	if err != nil {
		return nil, fmt.Errorf("artifact %s: %w", d.VersionID(), err)
	}
	if lineage.Digest(b) != d.Version {
		return nil, fmt.Errorf("artifact %s: content does not match its digest", d.VersionID())
	}
	return b, nil
}

// IngestInput names the source CSV.
type IngestInput struct {
	Source string
}

// IngestOutput is the stored raw batch.
type IngestOutput struct {
	Raw  lineage.Dataset
	Rows int
}

// Ingest reads the source CSV, checks its schema and stores it as raw data.
// Bad input (a missing column, a non-numeric value, an empty file) fails
// the step, not retried, naming the column and row, and raises a
// data_quality alert.
func (m *ML) Ingest(ctx context.Context, in IngestInput) (IngestOutput, error) {
	data, abs, err := m.readSource("ingest", in.Source)
	if err != nil {
		return IngestOutput{}, err
	}
	source := lineage.Dataset{Kind: lineage.DataSource, Key: "file://" + abs, Version: lineage.Digest(data)}
	if err := m.auditRead(ctx, "ingest", source); err != nil {
		return IngestOutput{}, err
	}
	if err := lineage.Input(ctx, source); err != nil {
		return IngestOutput{}, err
	}
	c, err := ReadCohort(bytes.NewReader(data), func(n int) {
		if n%500 == 0 {
			activity.RecordHeartbeat(ctx, progress{Records: int64(n)})
		}
	})
	if err != nil {
		msg := fmt.Sprintf("%s: %v", in.Source, err)
		m.check(ctx, CheckSchema, false)
		m.dataQuality(ctx, alerts.Critical, map[string]string{"dataset": "cohort/raw", "check": "schema", "source": abs}, msg)
		return IngestOutput{}, temporal.NewNonRetryableApplicationError(msg, "SchemaError", nil)
	}
	activity.RecordHeartbeat(ctx, progress{Records: int64(c.Len())})
	_, digest, err := m.put("raw", ".csv", data)
	if err != nil {
		return IngestOutput{}, err
	}
	m.check(ctx, CheckSchema, true) // once the step's result is stored: a retry does not count again
	var schema []lineage.Field
	for _, name := range []string{"patient_id", "sex", "diagnosis"} {
		schema = append(schema, lineage.Field{Name: name, Type: "string"})
	}
	for _, name := range NumericColumns() {
		schema = append(schema, lineage.Field{Name: name, Type: "float64"})
	}
	raw := lineage.Dataset{Kind: lineage.RawData, Key: "cohort/raw", Version: digest}.
		With(lineage.Rows(int64(c.Len())), lineage.Schema(schema...))
	return IngestOutput{Raw: raw, Rows: c.Len()}, nil
}

// dataQuality raises a data_quality alert, logging a failure to raise it.
func (m *ML) dataQuality(ctx context.Context, sev alerts.Severity, labels map[string]string, summary string) {
	if m.Alerts == nil {
		return
	}
	if err := m.Alerts.Fire(ctx, alerts.Alert{Type: alerts.DataQuality, Severity: sev, Labels: labels, Summary: summary}); err != nil {
		activity.GetLogger(ctx).Error("data_quality alert not raised", "error", err)
	}
}

// plausible are the accepted ranges of the numeric columns.
func plausible() map[string][2]float64 {
	return map[string][2]float64{
		"age": {40, 110}, "education_years": {0, 30}, "mmse": {0, 30}, "cdr": {0, 3}, "apoe4_carrier": {0, 1},
		"hippocampal_volume_mm3": {1000, 6000}, "whole_brain_volume_cm3": {700, 1700},
	}
}

// ValidateOutput is the validated batch and its data-quality report.
type ValidateOutput struct {
	Validated lineage.Dataset
	Rows      int
	// Dropped rows had an implausible value or repeated a patient id.
	Dropped, Duplicates int
	// MissingRates is each numeric column's share of missing values.
	MissingRates map[string]float64
}

// Validate checks missing rates, ranges and duplicates, drops implausible
// and repeated rows, and stores the rest. A column missing more than
// MaxMissing fails the step; more than WarnMissing raises a warning.
func (m *ML) Validate(ctx context.Context, raw lineage.Dataset) (ValidateOutput, error) {
	data, err := m.get("raw", ".csv", raw)
	if err != nil {
		return ValidateOutput{}, err
	}
	c, err := ReadCohort(bytes.NewReader(data), nil)
	if err != nil {
		return ValidateOutput{}, temporal.NewNonRetryableApplicationError(err.Error(), "SchemaError", nil)
	}
	maxMissing, warnMissing := orDefault(m.MaxMissing, 0.2), orDefault(m.WarnMissing, 0.05)
	out := ValidateOutput{MissingRates: map[string]float64{}}
	quality := map[string]float64{}
	for _, name := range NumericColumns() {
		rate := 1 - float64(len(present(c.Numeric[name])))/float64(c.Len())
		out.MissingRates[name] = rate
		quality[name+".missing_rate"] = rate
		if rate > maxMissing {
			msg := fmt.Sprintf("column %s misses %.1f%% of its values (limit %.0f%%)", name, 100*rate, 100*maxMissing)
			m.check(ctx, CheckMissingValues, false)
			m.dataQuality(ctx, alerts.Critical, map[string]string{"dataset": raw.Key, "column": name, "check": "missing"}, msg)
			return out, temporal.NewNonRetryableApplicationError(msg, "DataQuality", nil)
		}
		if rate > warnMissing {
			m.dataQuality(ctx, alerts.Warning, map[string]string{"dataset": raw.Key, "column": name, "check": "missing"},
				fmt.Sprintf("column %s misses %.1f%% of its values", name, 100*rate))
		}
	}
	seen := map[string]bool{}
	ranges := plausible()
	rejected := map[string]int{} // by reason: the first rule a row breaks
	valid := c.keep(func(i int) bool {
		if seen[c.IDs[i]] {
			out.Duplicates++
			rejected[ReasonDuplicateID]++
			return false
		}
		seen[c.IDs[i]] = true
		for _, name := range NumericColumns() { // in order, so the reason is the same every run
			r, ok := ranges[name]
			if v := c.Numeric[name][i]; ok && !math.IsNaN(v) && (v < r[0] || v > r[1]) {
				out.Dropped++
				rejected[ReasonOutOfRange+name]++
				return false
			}
		}
		return true
	})
	quality["rows_dropped"] = float64(out.Dropped)
	quality["duplicates"] = float64(out.Duplicates)
	var buf bytes.Buffer
	if err := valid.Write(&buf); err != nil {
		return out, err
	}
	_, digest, err := m.put("validated", ".csv", buf.Bytes())
	if err != nil {
		return out, err
	}
	out.Rows = valid.Len()
	m.validated(ctx, out, rejected) // once the step's result is stored: a retry does not count again
	activity.RecordHeartbeat(ctx, progress{Records: int64(c.Len())})
	out.Validated = lineage.Dataset{Kind: lineage.ValidatedData, Key: "cohort/validated", Version: digest}.
		With(lineage.Rows(int64(out.Rows)), lineage.Quality(quality))
	return out, nil
}

// Transform turns validated rows into features: medians impute, then
// standardization; sex is one-hot (female).
type Transform struct {
	Columns []string           `json:"columns"`
	Median  map[string]float64 `json:"median"`
	Mean    map[string]float64 `json:"mean"`
	Std     map[string]float64 `json:"std"`
}

// featureFile is a FeatureSet artifact: the transform, the rows, their
// labels and their split.
type featureFile struct {
	Transform Transform   `json:"transform"`
	IDs       []string    `json:"ids"`
	X         [][]float64 `json:"x"`
	Y         []float64   `json:"y"`
	Test      []bool      `json:"test"` // held out for evaluation
}

// FeaturesOutput is the stored feature set.
type FeaturesOutput struct {
	Features lineage.Dataset
	Columns  []string
}

// Features imputes, scales and encodes the validated batch, splits it 80/20
// by a hash of the patient id (stable across runs), and stores the result
// with its transform.
func (m *ML) Features(ctx context.Context, validated lineage.Dataset) (FeaturesOutput, error) {
	data, err := m.get("validated", ".csv", validated)
	if err != nil {
		return FeaturesOutput{}, err
	}
	c, err := ReadCohort(bytes.NewReader(data), nil)
	if err != nil {
		return FeaturesOutput{}, temporal.NewNonRetryableApplicationError(err.Error(), "SchemaError", nil)
	}
	tr := Transform{Median: map[string]float64{}, Mean: map[string]float64{}, Std: map[string]float64{}}
	for _, name := range NumericColumns() {
		vals := present(c.Numeric[name])
		sort.Float64s(vals)
		med := 0.0
		if len(vals) > 0 {
			med = vals[len(vals)/2]
		}
		tr.Median[name] = med
		var sum, sq float64
		for _, v := range c.Numeric[name] {
			if math.IsNaN(v) {
				v = med
			}
			sum += v
			sq += v * v
		}
		n := float64(c.Len())
		tr.Mean[name] = sum / n
		tr.Std[name] = math.Sqrt(math.Max(sq/n-(sum/n)*(sum/n), 1e-12))
		tr.Columns = append(tr.Columns, name)
	}
	tr.Columns = append(tr.Columns, "female")
	ff := featureFile{Transform: tr, IDs: c.IDs, Y: c.Diagnosis}
	for i := range c.IDs {
		ff.X = append(ff.X, tr.apply(c, i))
		h := fnv.New32a()
		_, _ = h.Write([]byte(c.IDs[i]))
		ff.Test = append(ff.Test, h.Sum32()%5 == 0)
	}
	b, err := json.Marshal(ff)
	if err != nil {
		return FeaturesOutput{}, err
	}
	_, digest, err := m.put("features", ".json", b)
	if err != nil {
		return FeaturesOutput{}, err
	}
	var schema []lineage.Field
	for _, col := range tr.Columns {
		schema = append(schema, lineage.Field{Name: col, Type: "float64"})
	}
	activity.RecordHeartbeat(ctx, progress{Records: int64(c.Len())})
	return FeaturesOutput{
		Features: lineage.Dataset{Kind: lineage.FeatureSet, Key: "cohort/features", Version: digest}.
			With(lineage.Rows(int64(c.Len())), lineage.Schema(schema...)),
		Columns: tr.Columns,
	}, nil
}

// apply is the transform of row i.
func (tr Transform) apply(c *Cohort, i int) []float64 {
	row := make([]float64, 0, len(tr.Columns))
	for _, name := range NumericColumns() {
		v := c.Numeric[name][i]
		if math.IsNaN(v) {
			v = tr.Median[name]
		}
		row = append(row, (v-tr.Mean[name])/tr.Std[name])
	}
	female := 0.0
	if c.Female[i] {
		female = 1
	}
	return append(row, female)
}

// TrainInput is the feature set and the hyperparameters.
type TrainInput struct {
	Features lineage.Dataset
	// ModelName names the model across versions.
	ModelName string
	// L2 is the penalty; zero means 0.01.
	L2 float64
	// MaxIterations bounds L-BFGS; zero means 200.
	MaxIterations int
}

// modelFile is a Model artifact.
type modelFile struct {
	Model     LogisticModel `json:"model"`
	Transform Transform     `json:"transform"`
}

// TrainOutput is the stored model.
type TrainOutput struct {
	Model    lineage.Dataset
	TrainAUC float64
}

// Train fits the logistic regression on the training split.
func (m *ML) Train(ctx context.Context, in TrainInput) (TrainOutput, error) {
	b, err := m.get("features", ".json", in.Features)
	if err != nil {
		return TrainOutput{}, err
	}
	var ff featureFile
	if err := json.Unmarshal(b, &ff); err != nil {
		return TrainOutput{}, fmt.Errorf("train: feature set %s: %w", in.Features.VersionID(), err)
	}
	l2, iters := orDefault(in.L2, 0.01), in.MaxIterations
	if iters == 0 {
		iters = 200
	}
	var x [][]float64
	var y []float64
	for i := range ff.X {
		if !ff.Test[i] {
			x, y = append(x, ff.X[i]), append(y, ff.Y[i])
		}
	}
	model, err := FitLogistic(ff.Transform.Columns, x, y, l2, iters)
	if err != nil {
		return TrainOutput{}, temporal.NewNonRetryableApplicationError(err.Error(), "TrainingError", nil)
	}
	activity.RecordHeartbeat(ctx, progress{Records: int64(len(x))})
	scores := make([]float64, len(x))
	labels := make([]int, len(x))
	for i, row := range x {
		scores[i], labels[i] = model.Predict(row), int(y[i])
	}
	trainAUC, err := stats.AUC(labels, scores)
	if err != nil {
		return TrainOutput{}, temporal.NewNonRetryableApplicationError("train: "+err.Error(), "TrainingError", nil)
	}
	mb, err := json.Marshal(modelFile{Model: model, Transform: ff.Transform})
	if err != nil {
		return TrainOutput{}, err
	}
	_, digest, err := m.put("models", ".json", mb)
	if err != nil {
		return TrainOutput{}, err
	}
	name := in.ModelName
	if name == "" {
		name = "cohort-dementia"
	}
	out := lineage.Dataset{Kind: lineage.Model, Key: "models/" + name, Version: digest}.With(
		lineage.Metrics(map[string]float64{"train_auc": trainAUC}),
		lineage.Hyperparameters(map[string]string{"algorithm": "logistic_regression", "l2": strconv.FormatFloat(l2, 'g', -1, 64),
			"max_iterations": strconv.Itoa(iters), "optimizer": "gonum L-BFGS"}))
	return TrainOutput{Model: out, TrainAUC: trainAUC}, nil
}

// Evaluation is a model's quality on the held-out split.
type Evaluation struct {
	AUC, Accuracy, Precision, Recall float64
	// Brier is the mean squared error of the probabilities (calibration).
	Brier float64
	N     int
}

// gauges are the evaluation's values as pipewatch_model_evaluation's
// metric label names them.
func (e Evaluation) gauges() map[string]float64 {
	return map[string]float64{"auc": e.AUC, "accuracy": e.Accuracy, "precision": e.Precision, "recall": e.Recall, "brier": e.Brier}
}

// EvaluateInput is the model and the feature set it was trained on.
type EvaluateInput struct {
	Model, Features lineage.Dataset
}

// Evaluate scores the model on the held-out split.
func (m *ML) Evaluate(ctx context.Context, in EvaluateInput) (Evaluation, error) {
	mf, ff, err := m.load(in.Model, in.Features)
	if err != nil {
		return Evaluation{}, err
	}
	var labels []int
	var scores []float64
	for i := range ff.X {
		if ff.Test[i] {
			labels, scores = append(labels, int(ff.Y[i])), append(scores, mf.Model.Predict(ff.X[i]))
		}
	}
	ev := Evaluation{N: len(labels)}
	if ev.AUC, err = stats.AUC(labels, scores); err != nil {
		return ev, temporal.NewNonRetryableApplicationError("evaluate: "+err.Error(), "EvaluationError", nil)
	}
	var tp, fp, fn, correct float64
	for i, s := range scores {
		pred := s >= 0.5
		pos := labels[i] == 1
		switch {
		case pred && pos:
			tp++
		case pred && !pos:
			fp++
		case !pred && pos:
			fn++
		}
		if pred == pos {
			correct++
		}
		ev.Brier += (s - float64(labels[i])) * (s - float64(labels[i]))
	}
	n := float64(len(scores))
	ev.Accuracy, ev.Brier = correct/n, ev.Brier/n
	if tp+fp > 0 {
		ev.Precision = tp / (tp + fp)
	}
	if tp+fn > 0 {
		ev.Recall = tp / (tp + fn)
	}
	if m.Model != nil {
		m.Model.SetEvaluation(in.Model.Key, ShortVersion(in.Model.Version), ev.gauges())
	}
	activity.RecordHeartbeat(ctx, progress{Records: int64(len(scores))})
	return ev, nil
}

// load reads a model and a feature set.
func (m *ML) load(model, features lineage.Dataset) (modelFile, featureFile, error) {
	var mf modelFile
	var ff featureFile
	mb, err := m.get("models", ".json", model)
	if err != nil {
		return mf, ff, err
	}
	fb, err := m.get("features", ".json", features)
	if err != nil {
		return mf, ff, err
	}
	if err := json.Unmarshal(mb, &mf); err != nil {
		return mf, ff, fmt.Errorf("model %s: %w", model.VersionID(), err)
	}
	if err := json.Unmarshal(fb, &ff); err != nil {
		return mf, ff, fmt.Errorf("feature set %s: %w", features.VersionID(), err)
	}
	if !slices.Equal(mf.Model.Features, ff.Transform.Columns) {
		return mf, ff, errors.New("model and feature set have different columns")
	}
	return mf, ff, nil
}

// RegisterInput is a trained model with its evaluation and the bar it must
// pass to be promoted.
type RegisterInput struct {
	Model lineage.Dataset
	// Reference is the validated data the model learned from: the drift
	// monitor's baseline.
	Reference  lineage.Dataset
	Evaluation Evaluation
	// MinAUC is the bar for promotion; zero means 0.75.
	MinAUC float64
}

// Registration is the registry's answer.
type Registration struct {
	Version  int
	Promoted bool
	Reason   string
}

// registryEntry is one model version in the registry file.
type registryEntry struct {
	Version    int             `json:"version"`
	Model      lineage.Dataset `json:"model"`
	Reference  lineage.Dataset `json:"reference"`
	Evaluation Evaluation      `json:"evaluation"`
	Promoted   bool            `json:"promoted"`
}

func (m *ML) registryPath() string { return filepath.Join(m.Store, "registry.json") }

// readRegistry reads the registry's entries, oldest first; a store without
// one is fs.ErrNotExist.
func (m *ML) readRegistry() ([]registryEntry, error) {
	path := m.registryPath()
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	var entries []registryEntry
	if err := json.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("registry %s: %w", path, err)
	}
	return entries, nil
}

// RestoreEvaluations sets pipewatch_model_evaluation from the registry at
// worker start, so that a restarted worker shows the evaluations of the
// versions it registered before (the latest ModelVersionsKept per model)
// instead of nothing until the pipeline runs again. It returns how many
// versions it set; a store without a registry sets none.
func (m *ML) RestoreEvaluations() (int, error) {
	if m.Model == nil {
		return 0, nil
	}
	entries, err := m.readRegistry()
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		m.Model.SetEvaluation(e.Model.Key, ShortVersion(e.Model.Version), e.Evaluation.gauges())
	}
	return len(entries), nil
}

// Register adds the model to the registry (registry.json in the store) as
// a new version, promoted only if it passes MinAUC; the registry keeps the
// promoted version's metrics for the drift monitor to compare against.
func (m *ML) Register(ctx context.Context, in RegisterInput) (Registration, error) {
	if err := lineage.Input(ctx, in.Model); err != nil {
		return Registration{}, err
	}
	bar := orDefault(in.MinAUC, 0.75)
	m.registry.Lock()
	defer m.registry.Unlock()
	path := m.registryPath()
	entries, err := m.readRegistry()
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Registration{}, err
	}
	// A retried attempt finds its own entry and answers the same.
	for _, e := range entries {
		if e.Model.VersionID() == in.Model.VersionID() {
			return Registration{Version: e.Version, Promoted: e.Promoted, Reason: "already registered"}, nil
		}
	}
	r := Registration{Version: len(entries) + 1, Promoted: in.Evaluation.AUC >= bar}
	r.Reason = fmt.Sprintf("AUC %.3f %s the bar %.2f", in.Evaluation.AUC, map[bool]string{true: "passes", false: "misses"}[r.Promoted], bar)
	// Recorded before the registry changes: a retry after a failed write
	// records again rather than not at all.
	actions := []string{"registered"}
	if r.Promoted {
		actions = append(actions, "promoted")
	}
	for _, action := range actions {
		if err := m.audit(ctx, AuditModelDeployment, map[string]any{
			"action": action, "model": in.Model.Key, "model_version": in.Model.VersionID(), "registry_version": r.Version,
			"auc": in.Evaluation.AUC, "min_auc": bar, "reason": r.Reason,
		}); err != nil {
			return Registration{}, err
		}
	}
	entries = append(entries, registryEntry{Version: r.Version, Model: in.Model, Reference: in.Reference, Evaluation: in.Evaluation, Promoted: r.Promoted})
	b, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		return r, err
	}
	if err := os.MkdirAll(m.Store, 0o750); err != nil {
		return r, fmt.Errorf("registry: %w", err)
	}
	if err := os.WriteFile(path+".tmp", b, 0o640); err != nil {
		return r, fmt.Errorf("registry: %w", err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return r, fmt.Errorf("registry: %w", err)
	}
	if m.Model != nil { // a retry finds the entry above: counted once
		decision := "rejected"
		if r.Promoted {
			decision = "promoted"
		}
		m.Model.Promotions.WithLabelValues(in.Model.Key, decision).Inc()
	}
	return r, nil
}

// PredictOutput is the stored predictions batch.
type PredictOutput struct {
	Predictions lineage.Dataset
	Rows        int
}

// Predict scores every row of the feature set and stores the predictions
// as CSV (patient_id, probability).
func (m *ML) Predict(ctx context.Context, in EvaluateInput) (PredictOutput, error) {
	mf, ff, err := m.load(in.Model, in.Features)
	if err != nil {
		return PredictOutput{}, err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"patient_id", "probability"})
	for i, row := range ff.X {
		_ = w.Write([]string{ff.IDs[i], strconv.FormatFloat(mf.Model.Predict(row), 'f', 6, 64)})
		if (i+1)%500 == 0 {
			activity.RecordHeartbeat(ctx, progress{Records: int64(i + 1)})
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return PredictOutput{}, err
	}
	_, digest, err := m.put("predictions", ".csv", buf.Bytes())
	if err != nil {
		return PredictOutput{}, err
	}
	return PredictOutput{
		Predictions: lineage.Dataset{Kind: lineage.Predictions, Key: "cohort/predictions", Version: digest}.With(lineage.Rows(int64(len(ff.X)))),
		Rows:        len(ff.X),
	}, nil
}

func orDefault(v, def float64) float64 {
	if v > 0 {
		return v
	}
	return def
}
