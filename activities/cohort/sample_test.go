package cohort

import (
	"bytes"
	"os"
	"testing"
)

// TestCommittedSamplesAreReproducible regenerates testdata/'s samples with
// the commands in testdata/README.md.
func TestCommittedSamplesAreReproducible(t *testing.T) {
	for file, opts := range map[string]Options{
		"../../testdata/cohort-sample.csv":         {Rows: 200, Seed: 1},
		"../../testdata/cohort-drifted-sample.csv": {Rows: 200, Seed: 2, Shift: 1},
	} {
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := Generate(&got, opts); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s differs from what its command makes now", file)
		}
	}
}
