package lineage

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// Kind is a dataset's role in an ML pipeline; it becomes the label of its
// (:Dataset) node next to Dataset.
type Kind string

// The kinds of dataset, in pipeline order.
const (
	DataSource    Kind = "DataSource"
	RawData       Kind = "RawData"
	ValidatedData Kind = "ValidatedData"
	FeatureSet    Kind = "FeatureSet"
	Model         Kind = "Model"
	Predictions   Kind = "Predictions"
)

// Kinds lists every Kind, in pipeline order.
func Kinds() []Kind {
	return []Kind{DataSource, RawData, ValidatedData, FeatureSet, Model, Predictions}
}

// ParseKind returns the Kind named s, case-insensitively.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds() {
		if strings.EqualFold(string(k), s) {
			return k, nil
		}
	}
	return "", fmt.Errorf("lineage: kind %q is not one of %s", s, kindList())
}

func kindList() string {
	var names []string
	for _, k := range Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// Dataset refers to one version of a dataset. Steps take and return it (on
// its own or inside their own structs) and pipewatch records what each step
// consumed and produced; or a step declares it with Input and Output.
//
// It travels through Temporal as JSON, so it holds names and digests, never
// the data.
type Dataset struct {
	// Kind is the dataset's role: DataSource, RawData, ... Predictions.
	Kind Kind `json:"kind"`
	// Key names the dataset across its versions, stably: a table, a path
	// prefix, a model name ("s3://lake/orders", "models/churn").
	Key string `json:"key"`
	// Version identifies this version's content: a digest such as the
	// one Digest returns, or a version the storage system assigns.
	Version string `json:"version"`
	// Facets describe this version: schema, rows, quality, model metrics.
	Facets *Facets `json:"facets,omitempty"`
}

// VersionID is the dataset version's unique id in the graph: key@version.
// A version holds no "@" (Validate refuses one), so the id splits at its
// last "@": key "a@b" version "c" and key "a" version "b@c" cannot both
// become "a@b@c".
func (d Dataset) VersionID() string { return d.Key + "@" + d.Version }

// Validate reports what makes d unusable as a reference.
func (d Dataset) Validate() error {
	var errs []error
	if !slices.Contains(Kinds(), d.Kind) {
		errs = append(errs, fmt.Errorf("kind %q is not one of %s", d.Kind, kindList()))
	}
	if strings.TrimSpace(d.Key) == "" {
		errs = append(errs, errors.New("key is empty"))
	}
	if strings.TrimSpace(d.Version) == "" {
		errs = append(errs, errors.New("version is empty (use lineage.Digest of the content)"))
	}
	for _, f := range []struct{ what, v string }{{"key", d.Key}, {"version", d.Version}} {
		if what, v := f.what, f.v; !utf8.ValidString(v) {
			// JSON (the spool, Neo4j's driver) would turn it into another
			// text: the id stored would not be the id the step gave.
			errs = append(errs, fmt.Errorf("%s %q is not valid UTF-8", what, v))
		}
	}
	if strings.Contains(d.Version, "@") {
		errs = append(errs, fmt.Errorf("version %q holds an @, which separates key and version in ids", d.Version))
	}
	if d.Facets != nil {
		for facet, m := range map[string]map[string]float64{"quality": d.Facets.Quality, "metrics": d.Facets.Metrics} {
			for name, v := range m {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					errs = append(errs, fmt.Errorf("%s %q is %v (want a finite number)", facet, name, v))
				}
			}
		}
		if d.Facets.Rows != nil && *d.Facets.Rows < 0 {
			errs = append(errs, fmt.Errorf("rows %d is negative", *d.Facets.Rows))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("lineage: dataset %q: %w", d.Key, err)
	}
	return nil
}

// Facets describe one dataset version, as OpenLineage's schema,
// dataQualityMetrics and ML facets do. All fields are optional.
type Facets struct {
	// Schema lists the columns.
	Schema []Field `json:"schema,omitempty"`
	// Rows is the number of rows, when known.
	Rows *int64 `json:"rows,omitempty"`
	// Quality holds data-quality metrics, such as null fractions.
	Quality map[string]float64 `json:"quality,omitempty"`
	// Metrics holds a model's evaluation metrics, such as AUC.
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// Hyperparameters holds a model's training parameters.
	Hyperparameters map[string]string `json:"hyperparameters,omitempty"`
}

// Field is one column of a schema.
type Field struct {
	// Name is the column's name.
	Name string `json:"name"`
	// Type is the column's type, as the data's system names it.
	Type string `json:"type"`
}

// Facet sets one facet; see Schema, Rows, Quality, Metrics, Hyperparameters.
type Facet func(*Facets)

// Schema sets the columns.
func Schema(fields ...Field) Facet { return func(f *Facets) { f.Schema = fields } }

// Rows sets the row count.
func Rows(n int64) Facet { return func(f *Facets) { f.Rows = &n } }

// Quality sets data-quality metrics.
func Quality(m map[string]float64) Facet { return func(f *Facets) { f.Quality = m } }

// Metrics sets a model's evaluation metrics.
func Metrics(m map[string]float64) Facet { return func(f *Facets) { f.Metrics = m } }

// Hyperparameters sets a model's training parameters.
func Hyperparameters(m map[string]string) Facet {
	return func(f *Facets) { f.Hyperparameters = m }
}

// With returns d with the facets applied over any it has.
func (d Dataset) With(facets ...Facet) Dataset {
	if len(facets) == 0 {
		return d
	}
	var f Facets
	if d.Facets != nil {
		f = *d.Facets
	}
	for _, set := range facets {
		set(&f)
	}
	d.Facets = &f
	return d
}

// Digest returns "sha256:<hex>" of data: a content version for Dataset.
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// DigestReader is Digest of everything r yields.
func DigestReader(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", fmt.Errorf("lineage: digest: %w", err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
