package stats

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

type reference struct {
	Drift []struct {
		Name               string
		Reference, Current []float64
		PSI                float64 `json:"psi"`
		KSStatistic        float64 `json:"ks_statistic"`
		KSPValue           float64 `json:"ks_pvalue"`
		JSDistance         float64 `json:"js_distance"`
	}
	AUC []struct {
		Name   string
		Labels []int
		Scores []float64
		AUC    float64 `json:"auc"`
	}
}

// close is agreement to 1e-9, relative (p-values go down to 1e-22).
func close(got, want float64) bool {
	return math.Abs(got-want) <= 1e-9*math.Abs(want)
}

func TestAgainstSciPyAndScikitLearn(t *testing.T) {
	b, err := os.ReadFile("testdata/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref reference
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Drift) != 4 || len(ref.AUC) != 3 {
		t.Fatalf("reference.json holds %d drift and %d AUC cases", len(ref.Drift), len(ref.AUC))
	}
	for _, c := range ref.Drift {
		psi, err := PSI(c.Reference, c.Current)
		if err != nil || !close(psi, c.PSI) {
			t.Errorf("%s: PSI = %.17g, %v; SciPy reference %.17g", c.Name, psi, err, c.PSI)
		}
		d, p, err := KS(c.Reference, c.Current)
		if err != nil || !close(d, c.KSStatistic) || !close(p, c.KSPValue) {
			t.Errorf("%s: KS = %.17g, p %.17g, %v; SciPy %.17g, p %.17g", c.Name, d, p, err, c.KSStatistic, c.KSPValue)
		}
		js, err := JensenShannon(c.Reference, c.Current)
		if err != nil || !close(js, c.JSDistance) {
			t.Errorf("%s: JS = %.17g, %v; SciPy %.17g", c.Name, js, err, c.JSDistance)
		}
	}
	for _, c := range ref.AUC {
		auc, err := AUC(c.Labels, c.Scores)
		if err != nil || !close(auc, c.AUC) {
			t.Errorf("%s: AUC = %.17g, %v; scikit-learn %.17g", c.Name, auc, err, c.AUC)
		}
	}
}

func TestBadInput(t *testing.T) {
	if _, err := PSI(nil, []float64{1}); err != ErrEmpty {
		t.Errorf("PSI of nothing: %v", err)
	}
	if _, err := AUC([]int{1, 1}, []float64{0.2, 0.4}); err == nil || err.Error() != "stats: AUC needs both classes" {
		t.Errorf("AUC of one class: %v", err)
	}
	if _, err := AUC([]int{1, 2}, []float64{0.2, 0.4}); err == nil || err.Error() != "stats: label 2 at 1 is not 0 or 1" {
		t.Errorf("AUC of label 2: %v", err)
	}
	if _, err := AUC([]int{1}, []float64{0.2, 0.4}); err == nil || err.Error() != "stats: 1 labels for 2 scores" {
		t.Errorf("AUC lengths: %v", err)
	}
}
