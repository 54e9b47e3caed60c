package lineage

import (
	"context"
	"math"
	"reflect"
	"strings"
	"testing"
)

func ds(kind Kind, key, version string) Dataset {
	return Dataset{Kind: kind, Key: key, Version: version}
}

func TestDatasetValidate(t *testing.T) {
	tests := []struct {
		name string
		d    Dataset
		want string
	}{
		{"valid", ds(RawData, "s3://lake/orders", "sha256:ab"), ""},
		{"bad kind", ds("Table", "t", "v1"), `lineage: dataset "t": kind "Table" is not one of DataSource, RawData, ValidatedData, FeatureSet, Model, Predictions`},
		{"no key, no version", ds(Model, " ", ""), "lineage: dataset \" \": key is empty\nversion is empty (use lineage.Digest of the content)"},
		{"NaN metric", ds(Model, "m", "1").With(Metrics(map[string]float64{"auc": math.NaN()})), `lineage: dataset "m": metrics "auc" is NaN (want a finite number)`},
		{"negative rows", ds(RawData, "r", "1").With(Rows(-3)), `lineage: dataset "r": rows -3 is negative`},
		// Key "a" version "b@c" would have the id of key "a@b" version "c".
		{"an @ in the version", ds(RawData, "a", "b@c"), `lineage: dataset "a": version "b@c" holds an @, which separates key and version in ids`},
		{"an @ in the key is fine: ids split at the last", ds(RawData, "user@host:/data", "sha256:ab"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.d.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Validate() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestParseKind(t *testing.T) {
	for _, k := range Kinds() {
		if got, err := ParseKind(string(k)); err != nil || got != k {
			t.Errorf("ParseKind(%q) = %q, %v", k, got, err)
		}
	}
	if got, err := ParseKind("featureset"); err != nil || got != FeatureSet {
		t.Errorf("ParseKind(featureset) = %q, %v, want FeatureSet", got, err)
	}
	if _, err := ParseKind("table"); err == nil || err.Error() != `lineage: kind "table" is not one of DataSource, RawData, ValidatedData, FeatureSet, Model, Predictions` {
		t.Errorf("ParseKind(table) error = %v", err)
	}
}

func TestDigest(t *testing.T) {
	want := "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	if got := Digest([]byte("hello")); got != want {
		t.Errorf("Digest = %s, want %s", got, want)
	}
	if got, err := DigestReader(strings.NewReader("hello")); err != nil || got != want {
		t.Errorf("DigestReader = %s, %v, want %s", got, err, want)
	}
}

func TestCaptureInputOutput(t *testing.T) {
	raw, feats := ds(RawData, "raw", "1"), ds(FeatureSet, "feats", "2")
	ctx := WithCapture(context.Background(), &Capture{})
	c := ctx.Value(captureKey{}).(*Capture)
	if err := Input(ctx, raw, Rows(10)); err != nil {
		t.Fatal(err)
	}
	if err := Output(ctx, feats, Schema(Field{"x", "float64"})); err != nil {
		t.Fatal(err)
	}
	if err := Output(ctx, feats, Rows(10)); err != nil { // facets merge into the first
		t.Fatal(err)
	}
	if err := Output(ctx, raw); err != nil { // read and passed on: an input only
		t.Fatal(err)
	}
	if err := Output(ctx, ds("Table", "t", "1")); err == nil {
		t.Error("Output of an invalid dataset: no error")
	}
	in, out := c.Datasets()
	ten := int64(10)
	wantIn := []Dataset{{Kind: RawData, Key: "raw", Version: "1", Facets: &Facets{Rows: &ten}}}
	wantOut := []Dataset{{Kind: FeatureSet, Key: "feats", Version: "2", Facets: &Facets{Schema: []Field{{"x", "float64"}}, Rows: &ten}}}
	if !reflect.DeepEqual(in, wantIn) || !reflect.DeepEqual(out, wantOut) {
		t.Errorf("Datasets() =\n%+v\n%+v\nwant\n%+v\n%+v", in, out, wantIn, wantOut)
	}
	if err := Input(context.Background(), raw); err != nil {
		t.Errorf("Input without pipewatch: %v, want nil (a no-op)", err)
	}
	if err := Input(context.Background(), ds("", "k", "v")); err == nil {
		t.Error("Input of an invalid dataset without pipewatch: no error")
	}
}

// Shapes a step may use to pass datasets around.
type (
	trainInput struct {
		Features Dataset
		Params   map[string]string
		Extra    *Dataset
		hidden   Dataset
	}
	batch struct {
		Parts  []Dataset
		ByName map[string]*Dataset
		Any    any
		Next   *batch
	}
	plain struct {
		Name  string
		Count int
		Tags  []string
	}
)

func TestFinderFind(t *testing.T) {
	a, b, c, d := ds(RawData, "a", "1"), ds(FeatureSet, "b", "1"), ds(Model, "c", "1"), ds(Predictions, "d", "1")
	loop := &batch{Parts: []Dataset{a}}
	loop.Next = loop // a cycle: the walk must end
	tests := []struct {
		name string
		v    any
		want []Dataset
	}{
		{"nil", nil, nil},
		{"a dataset", a, []Dataset{a}},
		{"a pointer", &b, []Dataset{b}},
		{"a nil pointer", (*Dataset)(nil), nil},
		{"struct fields, exported or not", trainInput{Features: a, Extra: &b, hidden: c}, []Dataset{a, b, c}},
		{"slices, maps, interfaces", batch{Parts: []Dataset{a, b}, ByName: map[string]*Dataset{"c": &c}, Any: d}, []Dataset{a, b, c, d}},
		{"a cycle", loop, []Dataset{a}},
		{"no datasets", plain{Name: "x", Count: 2, Tags: []string{"t"}}, nil},
		{"a string", "s3://lake/raw", nil},
		{"invalid ones are found too (Capture.Add reports them)", ds("", "k", ""), []Dataset{ds("", "k", "")}},
	}
	var f Finder
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := f.Find(tt.v)
			if len(got) == 0 && len(tt.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Find = %+v, want %+v", got, tt.want)
			}
		})
	}
	if _, cached := f.noRefs.Load(reflect.TypeFor[plain]()); !cached {
		t.Error("a type without datasets is not remembered")
	}
}

func TestCaptureAddReportsInvalid(t *testing.T) {
	var c Capture
	err := c.Add([]Dataset{ds(RawData, "a", "1"), ds(RawData, "", "1")}, []Dataset{ds(Model, "m", "")})
	want := "lineage: dataset \"\": key is empty\nlineage: dataset \"m\": version is empty (use lineage.Digest of the content)"
	if err == nil || err.Error() != want {
		t.Errorf("Add error =\n%v\nwant\n%s", err, want)
	}
	in, out := c.Datasets()
	if len(in) != 1 || in[0].Key != "a" || len(out) != 0 {
		t.Errorf("Datasets() = %v, %v, want only a", in, out)
	}
}

func BenchmarkFinderNoDatasets(b *testing.B) {
	var f Finder
	v := plain{Name: "x", Count: 2}
	b.ReportAllocs()
	for b.Loop() {
		f.Find(v)
	}
}
