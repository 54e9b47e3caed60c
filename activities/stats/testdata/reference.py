"""Reference values for activities/stats, computed with SciPy and scikit-learn.

Run from the repository root (packages from PyPI):

    python3 -m venv .cache/pyref
    .cache/pyref/bin/pip install numpy scipy scikit-learn
    .cache/pyref/bin/python activities/stats/testdata/reference.py > activities/stats/testdata/reference.json

The Go tests read reference.json and must agree to 1e-9.
"""
import json
import sys

import numpy as np
import scipy
import sklearn
from scipy import stats
from scipy.spatial.distance import jensenshannon
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

rng = np.random.RandomState(20261126)


def psi(expected, actual, bins=10, eps=1e-4):
    """PSI over decile bins of `expected` (the reference), as activities/stats does:
    edges at the expected sample's quantiles (linear interpolation), outer bins open,
    a value on an edge goes to the bin on its right, empty shares floored at eps."""
    edges = np.quantile(expected, np.linspace(0, 1, bins + 1)[1:-1])
    e = np.bincount(np.searchsorted(edges, expected, side="right"), minlength=bins) / len(expected)
    a = np.bincount(np.searchsorted(edges, actual, side="right"), minlength=bins) / len(actual)
    e, a = np.maximum(e, eps), np.maximum(a, eps)
    return float(np.sum((a - e) * np.log(a / e)))


def js(expected, actual, bins=10):
    """Jensen-Shannon distance (base 2) between the two samples' histograms on
    shared equal-width bins over their joint range."""
    lo, hi = min(expected.min(), actual.min()), max(expected.max(), actual.max())
    edges = np.linspace(lo, hi, bins + 1)
    p, _ = np.histogram(expected, edges)
    q, _ = np.histogram(actual, edges)
    return float(jensenshannon(p / p.sum(), q / q.sum(), base=2))


cases = []
for name, ref, cur in [
    ("same distribution", rng.normal(25, 4, 800), rng.normal(25, 4, 600)),
    ("shifted mean", rng.normal(25, 4, 800), rng.normal(27.5, 4, 600)),
    ("wider", rng.normal(25, 4, 500), rng.normal(25, 7, 700)),
    ("ties (integer scores)", rng.randint(10, 31, 900).astype(float), rng.randint(8, 31, 400).astype(float)),
]:
    ks = stats.ks_2samp(ref, cur, method="asymp")
    n, m = len(ref), len(cur)
    en = n * m / (n + m)
    cases.append({
        "name": name,
        "reference": ref.tolist(),
        "current": cur.tolist(),
        "psi": psi(ref, cur),
        "ks_statistic": float(ks.statistic),
        # The asymptotic Kolmogorov distribution at sqrt(en)*D (Smirnov).
        "ks_pvalue": float(stats.kstwobign.sf(np.sqrt(en) * ks.statistic)),
        "js_distance": js(ref, cur),
    })

auc_cases = []
for name, y, s in [
    ("separable", np.r_[np.zeros(50), np.ones(50)], np.r_[rng.uniform(0, 0.5, 50), rng.uniform(0.5, 1, 50)]),
    ("noisy", rng.randint(0, 2, 400), rng.uniform(0, 1, 400)),
    ("ties", rng.randint(0, 2, 300), np.round(rng.uniform(0, 1, 300), 1)),
]:
    auc_cases.append({"name": name, "labels": [int(v) for v in y], "scores": s.tolist(), "auc": float(roc_auc_score(y, s))})

# Logistic regression: sklearn minimizes C·Σ logloss + |w|²/2, which is
# pipewatch's mean logloss + l2/2·|w|² with l2 = 1/(C·n).
X = rng.normal(0, 1, (400, 4))
true_w = np.array([1.5, -2.0, 0.7, 0.0])
y = (rng.uniform(0, 1, 400) < 1 / (1 + np.exp(-(X @ true_w + 0.3)))).astype(int)
C = 2.0
lr = LogisticRegression(C=C, tol=1e-12, max_iter=10000).fit(X, y)
logistic = {"x": X.tolist(), "y": y.tolist(), "l2": 1 / (C * len(y)),
            "weights": lr.coef_[0].tolist(), "bias": float(lr.intercept_[0])}

json.dump({
    "made_with": {"python": sys.version.split()[0], "numpy": np.__version__, "scipy": scipy.__version__, "scikit-learn": sklearn.__version__},
    "drift": cases,
    "auc": auc_cases,
    "logistic": logistic,
}, sys.stdout, indent=1)
print()
