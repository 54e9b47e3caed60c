package activities

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/optimize"
)

// LogisticModel is an L2-regularized logistic regression.
type LogisticModel struct {
	Features []string  `json:"features"`
	Weights  []float64 `json:"weights"`
	Bias     float64   `json:"bias"`
	// L2 is the penalty the weights were fitted with (the bias is free).
	L2 float64 `json:"l2"`
}

// FitLogistic fits a logistic regression of y (0/1) on the rows of x by
// minimizing the mean log loss plus l2/2·|w|² with gonum's L-BFGS.
func FitLogistic(features []string, x [][]float64, y []float64, l2 float64, maxIter int) (LogisticModel, error) {
	if len(x) == 0 || len(x) != len(y) {
		return LogisticModel{}, fmt.Errorf("train: %d rows for %d labels", len(x), len(y))
	}
	d := len(features)
	n := float64(len(x))
	loss := func(p []float64) float64 {
		w, b := p[:d], p[d]
		var l float64
		for i, row := range x {
			z := floats.Dot(w, row) + b
			// log(1+e^z) − y·z, stable for large |z|
			l += softplus(z) - y[i]*z
		}
		return l/n + l2/2*floats.Dot(w, w)
	}
	grad := func(g, p []float64) {
		w, b := p[:d], p[d]
		for j := range g {
			g[j] = 0
		}
		for i, row := range x {
			r := sigmoid(floats.Dot(w, row)+b) - y[i]
			floats.AddScaled(g[:d], r/n, row)
			g[d] += r / n
		}
		floats.AddScaled(g[:d], l2, w)
	}
	res, err := optimize.Minimize(optimize.Problem{Func: loss, Grad: grad}, make([]float64, d+1),
		&optimize.Settings{MajorIterations: maxIter, GradientThreshold: 1e-8}, &optimize.LBFGS{})
	if err != nil && (res == nil || res.X == nil) {
		return LogisticModel{}, fmt.Errorf("train: L-BFGS: %w", err)
	}
	if res.Status == optimize.Failure || anyNaN(res.X) {
		return LogisticModel{}, errors.New("train: L-BFGS did not converge")
	}
	return LogisticModel{Features: features, Weights: res.X[:d], Bias: res.X[d], L2: l2}, nil
}

// Predict is the probability of class 1 for one row.
func (m LogisticModel) Predict(row []float64) float64 {
	return sigmoid(floats.Dot(m.Weights, row) + m.Bias)
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

func softplus(z float64) float64 {
	if z > 30 {
		return z
	}
	return math.Log1p(math.Exp(z))
}

func anyNaN(xs []float64) bool {
	for _, v := range xs {
		if math.IsNaN(v) {
			return true
		}
	}
	return false
}
