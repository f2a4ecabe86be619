"""Choosing the learning rate with a range test (fastopt.lr_find) on the digits data.

1. Build the model as usual: a Pipeline that standardizes the pixels, then an MLP.
2. ``lr_find`` trains a copy of it for 100 minibatches while the learning rate grows
   from 1e-7 to 10, and records the loss (L. Smith, 2017). The loss first stays flat
   (too small a rate to move), then falls, then blows up; the suggestion is a tenth of
   the rate at the bottom of the smoothed curve. The model passed in is not touched.
3. Train at the suggested rate and compare with Adam's default rate (1e-3) for the
   same, small, number of epochs.

Writes the range-test picture to ``lr_find_digits.png`` (or the path given as the
first argument) when matplotlib is installed.

Run::

    python examples/lr_find_digits.py
"""

import sys
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastopt import MLPClassifier, lr_find

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
model = make_pipeline(
    StandardScaler(), MLPClassifier(hidden_layer_sizes=(64,), max_iter=30, random_state=0))

# 1-2. the range test: the scaler is fitted on X_train, then the MLP's range test runs
result = lr_find(model, X_train, y_train)
print(result)
print(f"steps run: {len(result.lrs)} of {result.n_steps} (stopped once the loss diverged)")
print(f"suggested learning rate: {result.suggestion:.3g}")

# 3. train at the suggestion, and at Adam's default rate, for the same 30 epochs
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # 30 epochs on purpose
    suggested = model.set_params(mlpclassifier__learning_rate_init=result.suggestion)
    accuracy = suggested.fit(X_train, y_train).score(X_test, y_test)
    default = make_pipeline(
        StandardScaler(), MLPClassifier(hidden_layer_sizes=(64,), max_iter=30, random_state=0))
    default_accuracy = default.fit(X_train, y_train).score(X_test, y_test)
print(f"test accuracy at the suggested rate {result.suggestion:.3g}: {accuracy:.4f}")
print(f"test accuracy at the default rate 0.001: {default_accuracy:.4f}")

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib is not installed: no picture (pip install fastopt[plot])")
else:
    path = sys.argv[1] if len(sys.argv) > 1 else "lr_find_digits.png"
    fig, ax = plt.subplots(figsize=(6, 3.6))
    result.plot(ax=ax)
    ax.set_title("lr_find: MLPClassifier(64) on digits, Adam, batch 200")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    print(f"wrote {path}")
