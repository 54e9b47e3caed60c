// Package stats holds the statistics of the ML pipeline's drift monitor
// and evaluation: population stability index, two-sample
// Kolmogorov–Smirnov, Jensen–Shannon distance and ROC AUC. Each is checked
// against SciPy / scikit-learn (testdata/reference.py).
package stats

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// ErrEmpty is returned for an empty sample.
var ErrEmpty = errors.New("stats: empty sample")

// PSIBins is the number of bins PSI uses: deciles of the reference.
const PSIBins = 10

// psiFloor keeps empty bins from making PSI infinite.
const psiFloor = 1e-4

// PSI is the population stability index of current against reference:
// Σ (a−e)·ln(a/e) over the reference's decile bins (edges at its
// quantiles, interpolated linearly; a value on an edge counts in the bin
// to its right; shares floored at 1e-4). Below 0.1 is stable, 0.1–0.25 a
// moderate shift, above 0.25 a significant one.
func PSI(reference, current []float64) (float64, error) {
	if len(reference) == 0 || len(current) == 0 {
		return 0, ErrEmpty
	}
	sorted := slices.Clone(reference)
	slices.Sort(sorted)
	edges := make([]float64, PSIBins-1)
	for i := range edges {
		edges[i] = quantile(sorted, float64(i+1)/PSIBins)
	}
	e, a := shares(edges, reference), shares(edges, current)
	var psi float64
	for i := range e {
		ei, ai := math.Max(e[i], psiFloor), math.Max(a[i], psiFloor)
		psi += (ai - ei) * math.Log(ai/ei)
	}
	return psi, nil
}

// quantile is numpy's default (linear) quantile of a sorted sample.
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	if lo+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	frac := pos - float64(lo)
	return sorted[lo] + frac*(sorted[lo+1]-sorted[lo])
}

// shares is the fraction of xs in each bin between edges; a value on an
// edge goes right.
func shares(edges, xs []float64) []float64 {
	counts := make([]float64, len(edges)+1)
	for _, x := range xs {
		counts[sort.Search(len(edges), func(i int) bool { return edges[i] > x })]++
	}
	for i := range counts {
		counts[i] /= float64(len(xs))
	}
	return counts
}

// KS is the two-sample Kolmogorov–Smirnov statistic D (the largest gap
// between the empirical distribution functions, as scipy.stats.ks_2samp)
// and its two-sided p-value from the asymptotic Kolmogorov distribution at
// sqrt(n·m/(n+m))·D (scipy.stats.kstwobign.sf, Smirnov's approximation;
// good for the sample sizes drift checks use).
func KS(reference, current []float64) (d, p float64, err error) {
	if len(reference) == 0 || len(current) == 0 {
		return 0, 0, ErrEmpty
	}
	x, y := slices.Clone(reference), slices.Clone(current)
	slices.Sort(x)
	slices.Sort(y)
	n, m := float64(len(x)), float64(len(y))
	i, j := 0, 0
	for i < len(x) && j < len(y) {
		v := math.Min(x[i], y[j])
		for i < len(x) && x[i] <= v {
			i++
		}
		for j < len(y) && y[j] <= v {
			j++
		}
		d = math.Max(d, math.Abs(float64(i)/n-float64(j)/m))
	}
	return d, KolmogorovSF(math.Sqrt(n*m/(n+m)) * d), nil
}

// KolmogorovSF is the survival function of the Kolmogorov distribution:
// Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}, and for small λ the equivalent
// Jacobi-theta form, which converges there.
func KolmogorovSF(lambda float64) float64 {
	if lambda <= 0 {
		return 1
	}
	if lambda < 1 {
		// 1 − (√(2π)/λ) Σ_{k≥1} e^{−(2k−1)²π²/(8λ²)}
		var s float64
		for k := 1; k < 100; k++ {
			t := math.Exp(-float64((2*k-1)*(2*k-1)) * math.Pi * math.Pi / (8 * lambda * lambda))
			s += t
			if t < 1e-300 || t < s*1e-17 {
				break
			}
		}
		return 1 - math.Sqrt(2*math.Pi)/lambda*s
	}
	var s float64
	for k := 1; k < 100; k++ {
		t := math.Exp(-2 * float64(k*k) * lambda * lambda)
		if k%2 == 0 {
			t = -t
		}
		s += t
		if math.Abs(t) < 1e-300 || math.Abs(t) < math.Abs(s)*1e-17 {
			break
		}
	}
	return 2 * s
}

// JSBins is the number of bins Jensen–Shannon uses.
const JSBins = 10

// JensenShannon is the Jensen–Shannon distance (base 2, in [0, 1]) between
// the two samples' histograms on JSBins equal-width bins over their joint
// range (numpy.histogram's bins; scipy.spatial.distance.jensenshannon).
func JensenShannon(reference, current []float64) (float64, error) {
	if len(reference) == 0 || len(current) == 0 {
		return 0, ErrEmpty
	}
	lo := math.Min(slices.Min(reference), slices.Min(current))
	hi := math.Max(slices.Max(reference), slices.Max(current))
	p, q := histogram(reference, lo, hi), histogram(current, lo, hi)
	var div float64
	for i := range p {
		mi := (p[i] + q[i]) / 2
		if p[i] > 0 {
			div += p[i] * math.Log2(p[i]/mi)
		}
		if q[i] > 0 {
			div += q[i] * math.Log2(q[i]/mi)
		}
	}
	return math.Sqrt(math.Max(div/2, 0)), nil
}

// histogram is numpy.histogram's normalized counts on JSBins equal bins of
// [lo, hi], the last bin closed.
func histogram(xs []float64, lo, hi float64) []float64 {
	edges := make([]float64, JSBins+1)
	for i := range edges {
		edges[i] = lo + (hi-lo)*float64(i)/JSBins // as numpy.linspace
	}
	edges[JSBins] = hi
	counts := make([]float64, JSBins)
	for _, x := range xs {
		i := sort.Search(len(edges), func(i int) bool { return edges[i] > x }) - 1
		if i >= JSBins {
			i = JSBins - 1
		}
		if i >= 0 {
			counts[i]++
		}
	}
	for i := range counts {
		counts[i] /= float64(len(xs))
	}
	return counts
}

// AUC is the area under the ROC curve of scores against labels (1
// positive, 0 negative), ties counted half: the Mann–Whitney statistic
// over n₊·n₋, as sklearn.metrics.roc_auc_score.
func AUC(labels []int, scores []float64) (float64, error) {
	if len(labels) != len(scores) {
		return 0, fmt.Errorf("stats: %d labels for %d scores", len(labels), len(scores))
	}
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var pos, neg, rankSum float64
	for start := 0; start < len(idx); {
		end := start
		for end < len(idx) && scores[idx[end]] == scores[idx[start]] {
			end++
		}
		rank := float64(start+end+1) / 2 // average of ranks start+1..end
		for _, k := range idx[start:end] {
			switch labels[k] {
			case 1:
				pos++
				rankSum += rank
			case 0:
				neg++
			default:
				return 0, fmt.Errorf("stats: label %d at %d is not 0 or 1", labels[k], k)
			}
		}
		start = end
	}
	if pos == 0 || neg == 0 {
		return 0, errors.New("stats: AUC needs both classes")
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg), nil
}
