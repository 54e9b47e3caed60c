package activities

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

func TestFitLogisticAgreesWithScikitLearn(t *testing.T) {
	b, err := os.ReadFile("stats/testdata/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Logistic struct {
			X       [][]float64
			Y       []float64
			L2      float64
			Weights []float64
			Bias    float64
		}
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	lr := ref.Logistic
	m, err := FitLogistic([]string{"a", "b", "c", "d"}, lr.X, lr.Y, lr.L2, 1000)
	if err != nil {
		t.Fatal(err)
	}
	// Two optimizers to their tolerances: agreement to 1e-5.
	for j, w := range lr.Weights {
		if math.Abs(m.Weights[j]-w) > 1e-5 {
			t.Errorf("weight %d = %.8f, scikit-learn %.8f", j, m.Weights[j], w)
		}
	}
	if math.Abs(m.Bias-lr.Bias) > 1e-5 {
		t.Errorf("bias = %.8f, scikit-learn %.8f", m.Bias, lr.Bias)
	}
}
