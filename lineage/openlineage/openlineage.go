// Package openlineage turns pipewatch lineage runs into OpenLineage 2-0-2
// RunEvents, writes them as JSON lines, and sends them to an OpenLineage
// HTTP endpoint such as Marquez's /api/v1/lineage.
//
// FromRun maps a lineage.Run to a RunEvent: the run's state is the event
// type, its UUID (or a UUID v5 derived from its id, see RunUUID) the run id,
// its job key the job name. Run facets: parent (the run's parent run) and
// errorMessage (FAIL). Dataset facets: schema, and the custom
// pipewatch_version, pipewatch_quality and pipewatch_model facets that
// facets.json defines; input facets: dataQualityMetrics; output facets:
// outputStatistics. Every facet carries _producer and _schemaURL.
package openlineage

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pipewatch/pipewatch/lineage"
)

// Schema URLs of the event and of the facets FromRun produces.
const (
	// SchemaURL is the OpenLineage RunEvent schema the events follow.
	SchemaURL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"

	parentRunFacetURL          = "https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet"
	errorMessageRunFacetURL    = "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet"
	schemaDatasetFacetURL      = "https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
	dataQualityMetricsFacetURL = "https://openlineage.io/spec/facets/1-0-3/DataQualityMetricsInputDatasetFacet.json#/$defs/DataQualityMetricsInputDatasetFacet"
	outputStatisticsFacetURL   = "https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet"

	// customFacetsURL is facets.json in this directory, by its $id.
	customFacetsURL    = "https://github.com/pipewatch/pipewatch/blob/main/lineage/openlineage/facets.json"
	versionFacetURL    = customFacetsURL + "#/$defs/PipewatchVersionDatasetFacet"
	qualityFacetURL    = customFacetsURL + "#/$defs/PipewatchQualityDatasetFacet"
	modelFacetURL      = customFacetsURL + "#/$defs/PipewatchModelDatasetFacet"
	defaultNamespace   = "pipewatch"
	defaultProducer    = "https://github.com/pipewatch/pipewatch"
	eventTimeLayout    = "2006-01-02T15:04:05.000Z07:00"
	lineagePath        = "/api/v1/lineage"
	maxErrorBodyBytes  = 200
	maxDrainBodyBytes  = 64 << 10
	programmingLangGo  = "go"
	redactedAPIKeyText = "[REDACTED]"
)

// RunEvent is an OpenLineage 2-0-2 RunEvent.
type RunEvent struct {
	// EventType is START, COMPLETE, FAIL or ABORT.
	EventType string `json:"eventType"`
	// EventTime is RFC 3339 in UTC with milliseconds.
	EventTime string `json:"eventTime"`
	// Run identifies the run and holds its facets.
	Run Run `json:"run"`
	// Job names the job the run executes.
	Job Job `json:"job"`
	// Inputs are the datasets the run read; Outputs those it wrote.
	Inputs  []InputDataset  `json:"inputs,omitempty"`
	Outputs []OutputDataset `json:"outputs,omitempty"`
	// Producer is a URI naming the software that produced the event.
	Producer string `json:"producer"`
	// SchemaURL is the schema the event follows: the SchemaURL constant.
	SchemaURL string `json:"schemaURL"`
}

// Run is a RunEvent's run.
type Run struct {
	// RunID is a UUID.
	RunID string `json:"runId"`
	// Facets describe the run.
	Facets RunFacets `json:"facets,omitzero"`
}

// RunFacets are the run facets FromRun produces.
type RunFacets struct {
	// Parent names the run this one is part of.
	Parent *ParentRunFacet `json:"parent,omitempty"`
	// ErrorMessage holds a FAIL event's error.
	ErrorMessage *ErrorMessageRunFacet `json:"errorMessage,omitempty"`
}

// Job is a RunEvent's job, or a parent facet's.
type Job struct {
	// Namespace holds the job; Name is unique within it.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// BaseFacet holds the fields every facet carries.
type BaseFacet struct {
	// Producer is a URI naming the software that produced the facet.
	Producer string `json:"_producer"`
	// SchemaURL points at the facet's schema definition.
	SchemaURL string `json:"_schemaURL"`
}

// ParentRunFacet is OpenLineage's parent run facet.
type ParentRunFacet struct {
	BaseFacet
	// Run is the parent run.
	Run ParentRun `json:"run"`
	// Job is the parent run's job.
	Job Job `json:"job"`
}

// ParentRun identifies a parent run.
type ParentRun struct {
	// RunID is a UUID.
	RunID string `json:"runId"`
}

// ErrorMessageRunFacet is OpenLineage's errorMessage run facet.
type ErrorMessageRunFacet struct {
	BaseFacet
	// Message is the error's text.
	Message string `json:"message"`
	// ProgrammingLanguage is the failed code's language: "go".
	ProgrammingLanguage string `json:"programmingLanguage"`
}

// InputDataset is a dataset a run read.
type InputDataset struct {
	// Namespace holds the dataset; Name is unique within it.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Facets describe the dataset version.
	Facets DatasetFacets `json:"facets,omitzero"`
	// InputFacets describe what the run read.
	InputFacets InputDatasetFacets `json:"inputFacets,omitzero"`
}

// OutputDataset is a dataset a run wrote.
type OutputDataset struct {
	// Namespace holds the dataset; Name is unique within it.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Facets describe the dataset version.
	Facets DatasetFacets `json:"facets,omitzero"`
	// OutputFacets describe what the run wrote.
	OutputFacets OutputDatasetFacets `json:"outputFacets,omitzero"`
}

// DatasetFacets are the dataset facets FromRun produces.
type DatasetFacets struct {
	// Schema lists the columns.
	Schema *SchemaDatasetFacet `json:"schema,omitempty"`
	// Version holds pipewatch's kind and version of the dataset.
	Version *VersionDatasetFacet `json:"pipewatch_version,omitempty"`
	// Quality holds quality metrics dataQualityMetrics has no place for.
	Quality *QualityDatasetFacet `json:"pipewatch_quality,omitempty"`
	// Model holds a model's metrics and hyperparameters.
	Model *ModelDatasetFacet `json:"pipewatch_model,omitempty"`
}

// SchemaDatasetFacet is OpenLineage's schema dataset facet.
type SchemaDatasetFacet struct {
	BaseFacet
	// Fields are the columns.
	Fields []SchemaField `json:"fields"`
}

// SchemaField is one column of a SchemaDatasetFacet.
type SchemaField struct {
	// Name is the column's name; Type its type, omitted when unknown.
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
}

// VersionDatasetFacet is the custom pipewatch_version facet.
type VersionDatasetFacet struct {
	BaseFacet
	// Kind is the lineage.Kind; Version the dataset version.
	Kind    string `json:"kind"`
	Version string `json:"version"`
}

// QualityDatasetFacet is the custom pipewatch_quality facet.
type QualityDatasetFacet struct {
	BaseFacet
	// Metrics are lineage quality metrics by their key.
	Metrics map[string]float64 `json:"metrics"`
}

// ModelDatasetFacet is the custom pipewatch_model facet.
type ModelDatasetFacet struct {
	BaseFacet
	// Metrics are a model's evaluation metrics.
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// Hyperparameters are a model's training parameters.
	Hyperparameters map[string]string `json:"hyperparameters,omitempty"`
}

// InputDatasetFacets are the input facets FromRun produces.
type InputDatasetFacets struct {
	// DataQualityMetrics holds the row count and column metrics.
	DataQualityMetrics *DataQualityMetricsInputDatasetFacet `json:"dataQualityMetrics,omitempty"`
}

// DataQualityMetricsInputDatasetFacet is OpenLineage's dataQualityMetrics
// input facet.
type DataQualityMetricsInputDatasetFacet struct {
	BaseFacet
	// RowCount is the number of rows, when known.
	RowCount *int64 `json:"rowCount,omitempty"`
	// ColumnMetrics are metrics by column name; never nil.
	ColumnMetrics map[string]ColumnMetrics `json:"columnMetrics"`
}

// ColumnMetrics are one column's dataQualityMetrics; unset ones are nil.
type ColumnMetrics struct {
	// NullCount and DistinctCount count null and distinct values.
	NullCount     *int64 `json:"nullCount,omitempty"`
	DistinctCount *int64 `json:"distinctCount,omitempty"`
	// Sum, Count, Min and Max summarize the values.
	Sum   *float64 `json:"sum,omitempty"`
	Count *float64 `json:"count,omitempty"`
	Min   *float64 `json:"min,omitempty"`
	Max   *float64 `json:"max,omitempty"`
}

// OutputDatasetFacets are the output facets FromRun produces.
type OutputDatasetFacets struct {
	// OutputStatistics holds the row count written.
	OutputStatistics *OutputStatisticsOutputDatasetFacet `json:"outputStatistics,omitempty"`
}

// OutputStatisticsOutputDatasetFacet is OpenLineage's outputStatistics
// output facet.
type OutputStatisticsOutputDatasetFacet struct {
	BaseFacet
	// RowCount is the number of rows written.
	RowCount int64 `json:"rowCount"`
}

// Options configure FromRun.
type Options struct {
	// Namespace is the namespace of jobs and of datasets whose key is not
	// a URI; "" means "pipewatch".
	Namespace string
	// Producer is the URI put in producer and every facet's _producer;
	// "" means "https://github.com/pipewatch/pipewatch".
	Producer string
}

// FromRun converts one lineage run event to an OpenLineage RunEvent.
//
// The event type is r.State and the event time r.EndedAt, or r.StartedAt
// while the run has not ended. The run id is RunUUID(r.RunID) and the job
// is r.JobKey in opts.Namespace.
//
// A run with a ParentRunID gets a parent facet with run id
// RunUUID(r.ParentRunID). A Run does not carry its parent's job, so the
// parent job's name is r.WorkflowID (r.ParentRunID when that is empty):
// for an activity, the workflow whose run is the parent; for a child
// workflow, its own workflow id. Consumers should link parents by run id.
// A FAIL event gets an errorMessage facet with r.Error.
//
// A dataset key "scheme://authority/path" becomes namespace
// "scheme://authority" and name "path" (as OpenLineage names S3 and GCS
// objects: "s3://lake/orders" is "orders" in "s3://lake"); "scheme:///path"
// becomes name "/path" in namespace "scheme" (local files:
// "file:///tmp/x" is "/tmp/x" in "file"). Any other key, including a URI
// without a path, is the name in opts.Namespace.
//
// Every dataset gets the pipewatch_version facet and, with a schema, the
// schema facet; a model's metrics and hyperparameters go to
// pipewatch_model. An input's rows and its quality metrics named
// "<column>.<metric>", metric one of nullCount, distinctCount (whole
// numbers from 0 to 2^53), sum, count, min or max, go to
// dataQualityMetrics; its other quality metrics, and all of an output's,
// go to pipewatch_quality. An output's rows go to outputStatistics.
func FromRun(r lineage.Run, opts Options) (RunEvent, error) {
	opts = opts.withDefaults()
	if err := validateRun(r, opts); err != nil {
		return RunEvent{}, fmt.Errorf("openlineage: run %q: %w", r.RunID, err)
	}
	when := r.EndedAt
	if when.IsZero() {
		when = r.StartedAt
	}
	e := RunEvent{
		EventType: r.State,
		EventTime: when.UTC().Format(eventTimeLayout),
		Run:       Run{RunID: RunUUID(r.RunID)},
		Job:       Job{Namespace: opts.Namespace, Name: r.JobKey},
		Producer:  opts.Producer,
		SchemaURL: SchemaURL,
	}
	if r.ParentRunID != "" {
		parentJob := r.WorkflowID
		if parentJob == "" {
			parentJob = r.ParentRunID
		}
		e.Run.Facets.Parent = &ParentRunFacet{
			BaseFacet: opts.base(parentRunFacetURL),
			Run:       ParentRun{RunID: RunUUID(r.ParentRunID)},
			Job:       Job{Namespace: opts.Namespace, Name: parentJob},
		}
	}
	if r.State == lineage.StateFail {
		e.Run.Facets.ErrorMessage = &ErrorMessageRunFacet{
			BaseFacet:           opts.base(errorMessageRunFacetURL),
			Message:             r.Error,
			ProgrammingLanguage: programmingLangGo,
		}
	}
	for _, d := range r.Inputs {
		e.Inputs = append(e.Inputs, inputDataset(d, opts))
	}
	for _, d := range r.Outputs {
		e.Outputs = append(e.Outputs, outputDataset(d, opts))
	}
	return e, nil
}

func (o Options) withDefaults() Options {
	if o.Namespace == "" {
		o.Namespace = defaultNamespace
	}
	if o.Producer == "" {
		o.Producer = defaultProducer
	}
	return o
}

func (o Options) base(schemaURL string) BaseFacet {
	return BaseFacet{Producer: o.Producer, SchemaURL: schemaURL}
}

// validateRun reports every field of r that makes it unusable.
func validateRun(r lineage.Run, opts Options) error {
	var errs []error
	if u, err := url.Parse(opts.Producer); err != nil || !u.IsAbs() {
		errs = append(errs, fmt.Errorf("options: producer %q is not an absolute URI", opts.Producer))
	}
	if strings.TrimSpace(r.RunID) == "" {
		errs = append(errs, errors.New("runId is empty"))
	}
	if strings.TrimSpace(r.JobKey) == "" {
		errs = append(errs, errors.New("jobKey is empty"))
	}
	states := []string{lineage.StateStart, lineage.StateComplete, lineage.StateFail, lineage.StateAbort}
	if !slices.Contains(states, r.State) {
		errs = append(errs, fmt.Errorf("state %q is not one of %s", r.State, strings.Join(states, ", ")))
	}
	if r.StartedAt.IsZero() && r.EndedAt.IsZero() {
		errs = append(errs, errors.New("startedAt and endedAt are both zero"))
	}
	for i, d := range r.Inputs {
		if err := d.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("inputs[%d]: %w", i, err))
		}
	}
	for i, d := range r.Outputs {
		if err := d.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("outputs[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

func inputDataset(d lineage.Dataset, opts Options) InputDataset {
	ns, name := datasetName(d.Key, opts.Namespace)
	in := InputDataset{Namespace: ns, Name: name, Facets: datasetFacets(d, opts)}
	if d.Facets == nil {
		return in
	}
	columns := map[string]ColumnMetrics{}
	other := map[string]float64{}
	for key, v := range d.Facets.Quality {
		if !setColumnMetric(columns, key, v) {
			other[key] = v
		}
	}
	if d.Facets.Rows != nil || len(columns) > 0 {
		in.InputFacets.DataQualityMetrics = &DataQualityMetricsInputDatasetFacet{
			BaseFacet:     opts.base(dataQualityMetricsFacetURL),
			RowCount:      d.Facets.Rows,
			ColumnMetrics: columns,
		}
	}
	if len(other) > 0 {
		in.Facets.Quality = &QualityDatasetFacet{BaseFacet: opts.base(qualityFacetURL), Metrics: other}
	}
	return in
}

func outputDataset(d lineage.Dataset, opts Options) OutputDataset {
	ns, name := datasetName(d.Key, opts.Namespace)
	out := OutputDataset{Namespace: ns, Name: name, Facets: datasetFacets(d, opts)}
	if d.Facets == nil {
		return out
	}
	if d.Facets.Rows != nil {
		out.OutputFacets.OutputStatistics = &OutputStatisticsOutputDatasetFacet{
			BaseFacet: opts.base(outputStatisticsFacetURL),
			RowCount:  *d.Facets.Rows,
		}
	}
	if len(d.Facets.Quality) > 0 {
		out.Facets.Quality = &QualityDatasetFacet{BaseFacet: opts.base(qualityFacetURL), Metrics: maps.Clone(d.Facets.Quality)}
	}
	return out
}

// datasetFacets returns the facets inputs and outputs share.
func datasetFacets(d lineage.Dataset, opts Options) DatasetFacets {
	f := DatasetFacets{Version: &VersionDatasetFacet{
		BaseFacet: opts.base(versionFacetURL),
		Kind:      string(d.Kind),
		Version:   d.Version,
	}}
	if d.Facets == nil {
		return f
	}
	if len(d.Facets.Schema) > 0 {
		fields := make([]SchemaField, 0, len(d.Facets.Schema))
		for _, c := range d.Facets.Schema {
			fields = append(fields, SchemaField{Name: c.Name, Type: c.Type})
		}
		f.Schema = &SchemaDatasetFacet{BaseFacet: opts.base(schemaDatasetFacetURL), Fields: fields}
	}
	if len(d.Facets.Metrics) > 0 || len(d.Facets.Hyperparameters) > 0 {
		f.Model = &ModelDatasetFacet{
			BaseFacet:       opts.base(modelFacetURL),
			Metrics:         maps.Clone(d.Facets.Metrics),
			Hyperparameters: maps.Clone(d.Facets.Hyperparameters),
		}
	}
	return f
}

// setColumnMetric sets the dataQualityMetrics column metric that the quality
// key "<column>.<metric>" names, and reports whether it is one.
func setColumnMetric(columns map[string]ColumnMetrics, key string, v float64) bool {
	dot := strings.LastIndexByte(key, '.')
	if dot <= 0 {
		return false
	}
	column, metric := key[:dot], key[dot+1:]
	m := columns[column]
	switch metric {
	case "nullCount", "distinctCount":
		if v < 0 || v > 1<<53 || v != math.Trunc(v) {
			return false
		}
		n := int64(v)
		if metric == "nullCount" {
			m.NullCount = &n
		} else {
			m.DistinctCount = &n
		}
	case "sum":
		m.Sum = &v
	case "count":
		m.Count = &v
	case "min":
		m.Min = &v
	case "max":
		m.Max = &v
	default:
		return false
	}
	columns[column] = m
	return true
}

// datasetName returns the OpenLineage namespace and name of a dataset key;
// see FromRun for the rule.
func datasetName(key, defaultNamespace string) (namespace, name string) {
	scheme, rest, ok := strings.Cut(key, "://")
	if !ok || !isScheme(scheme) {
		return defaultNamespace, key
	}
	authority, path, ok := strings.Cut(rest, "/")
	switch {
	case !ok || path == "":
		return defaultNamespace, key
	case authority == "":
		return scheme, "/" + path
	default:
		return scheme + "://" + authority, path
	}
}

// isScheme reports whether s is a URI scheme as RFC 3986 defines it.
func isScheme(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && (c < '0' || c > '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// RunUUID returns the OpenLineage run id of a pipewatch run id: the id
// itself, lowercased, when it is a UUID (a Temporal run id), and otherwise
// (an activity's run id) its name-based UUID v5 in the pipewatch namespace
// ef10f1b2-14d0-568a-ab84-0bff3eb1b680, which is the UUID v5 of
// "https://github.com/pipewatch/pipewatch" in RFC 4122's URL namespace.
func RunUUID(runID string) string {
	if u, ok := parseUUID(runID); ok {
		return formatUUID(u)
	}
	return formatUUID(uuidV5(pipewatchNamespace(), runID))
}

// pipewatchNamespace is ef10f1b2-14d0-568a-ab84-0bff3eb1b680.
func pipewatchNamespace() [16]byte {
	return [16]byte{0xef, 0x10, 0xf1, 0xb2, 0x14, 0xd0, 0x56, 0x8a, 0xab, 0x84, 0x0b, 0xff, 0x3e, 0xb1, 0xb6, 0x80}
}

// uuidV5 returns the RFC 4122 name-based UUID (SHA-1, version 5) of name in
// namespace.
func uuidV5(namespace [16]byte, name string) [16]byte {
	h := sha1.New()
	h.Write(namespace[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u
}

// parseUUID parses the hyphenated 36-character form of a UUID, in either
// case.
func parseUUID(s string) ([16]byte, bool) {
	var u [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	digits := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if _, err := hex.Decode(u[:], []byte(digits)); err != nil {
		return u, false
	}
	return u, true
}

// formatUUID returns u in lowercase hyphenated form.
func formatUUID(u [16]byte) string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// WriteJSONLines writes events to w as JSON lines: one compact JSON object
// and a newline per event.
func WriteJSONLines(w io.Writer, events []RunEvent) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i, e := range events {
		if err := enc.Encode(e); err != nil {
			return fmt.Errorf("openlineage: write event %d (run %s): %w", i, e.Run.RunID, err)
		}
	}
	return nil
}

// HTTPTransport sends events to an OpenLineage HTTP endpoint, such as
// Marquez.
type HTTPTransport struct {
	// URL is the endpoint's base URL, such as http://localhost:5000;
	// events are POSTed to URL + "/api/v1/lineage".
	URL string
	// Client sends the requests; nil means http.DefaultClient. Bound each
	// Send with its context.
	Client *http.Client
	// APIKey, when set, is sent as a Bearer token. It never appears in
	// errors.
	APIKey string
}

// Send POSTs e as JSON and succeeds on a 2xx response. Its error for any
// other response holds the status and up to 200 bytes of the body.
func (t *HTTPTransport) Send(ctx context.Context, e RunEvent) error {
	if t.URL == "" {
		return errors.New("openlineage: send: transport URL is empty")
	}
	endpoint := strings.TrimSuffix(t.URL, "/") + lineagePath
	shown := endpoint
	if u, err := url.Parse(endpoint); err == nil {
		shown = u.Redacted()
	}
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("openlineage: send run %s to %s: encode: %w", e.Run.RunID, shown, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("openlineage: send run %s to %s: %w", e.Run.RunID, shown, t.redact(err))
	}
	req.Header.Set("Content-Type", "application/json")
	if t.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+t.APIKey)
	}
	client := t.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("openlineage: send run %s to %s: %w", e.Run.RunID, shown, t.redact(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBodyBytes))
		return nil
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBodyBytes))
	text := string(snippet)
	if t.APIKey != "" {
		text = strings.ReplaceAll(text, t.APIKey, redactedAPIKeyText)
	}
	return fmt.Errorf("openlineage: send run %s to %s: status %s: body %q", e.Run.RunID, shown, resp.Status, text)
}

// redact returns err with the API key, should it appear, replaced.
func (t *HTTPTransport) redact(err error) error {
	if t.APIKey == "" || !strings.Contains(err.Error(), t.APIKey) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), t.APIKey, redactedAPIKeyText))
}

// FromStoredRun tells a run as stored in the graph (its latest state) as
// the events an OpenLineage consumer expects: START with its inputs, and,
// unless it is still running, the final event with inputs and outputs.
func FromStoredRun(r lineage.Run, opts Options) ([]RunEvent, error) {
	start := r
	start.State, start.EndedAt, start.Error, start.Outputs = lineage.StateStart, time.Time{}, "", nil
	first, err := FromRun(start, opts)
	if err != nil {
		return nil, err
	}
	if r.State == lineage.StateStart {
		return []RunEvent{first}, nil
	}
	last, err := FromRun(r, opts)
	if err != nil {
		return nil, err
	}
	return []RunEvent{first, last}, nil
}
