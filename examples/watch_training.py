"""Watch an MLP overfit, and steer its training with callbacks and a validation set.

A wide network (two hidden layers of 128) trained on 300 handwritten digits,
a fifth of them mislabelled, drives its training loss towards zero by
memorising the wrong labels, while its loss on held-out digits turns back up: the fit
records both curves when ``fit`` is given ``X_val``/``y_val``, and
``fastopt.plot_loss_curves`` draws them (validation dashed). Then the same
fit is watched with scikit-learn's callbacks (``sklearn.callback``): a
``ScoringMonitor`` logs the training accuracy of every epoch, and a small
custom callback stops training once the held-out loss has not improved for
10 epochs. Finally ``early_stopping=True`` with the same ``X_val`` stops on
the validation score and restores the best weights. The figure is written to
watching_training.png.

    python examples/watch_training.py
"""

import warnings

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.callback import ScoringMonitor  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.metrics import log_loss  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from fastopt import MLPClassifier, plot_loss_curves  # noqa: E402

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_val, y_train, y_val = train_test_split(X, y, train_size=300, test_size=400,
                                                  stratify=y, random_state=0)
noisy = np.random.default_rng(0).random(len(y_train)) < 0.2  # 20% wrong labels to memorise
y_train = np.where(noisy, (y_train + 1 + np.arange(len(y_train)) % 9) % 10, y_train)
params = dict(hidden_layer_sizes=(128, 128), alpha=0.0, learning_rate_init=3e-3,
              max_iter=80, tol=0.0, n_iter_no_change=80, random_state=0)


class StopWhenHeldOutLossRises:
    """Stop once the held-out log-loss has not improved for ``patience`` epochs."""

    def __init__(self, X, y, patience):
        self.X, self.y, self.patience = X, y, patience
        self.losses = []

    def setup(self, estimator, context):
        self.losses = []

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        if context.task_name != "epoch":
            return False  # the end of the whole fit
        self.losses.append(log_loss(self.y, fitted_estimator.predict_proba(self.X)))
        best = self.losses.index(min(self.losses))
        return len(self.losses) - 1 - best >= self.patience


with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    overfit = MLPClassifier(**params).fit(X_train, y_train, X_val=X_val, y_val=y_val)

val = overfit.validation_loss_curve_
best_epoch = val.index(min(val)) + 1
print(f"{'epochs':>6} {'train loss':>11} {'val loss':>9} {'val acc':>8}")
for epoch in sorted({1, best_epoch, overfit.n_iter_}):
    print(f"{epoch:>6} {overfit.loss_curve_[epoch - 1]:>11.4f} {val[epoch - 1]:>9.4f} "
          f"{overfit.validation_scores_[epoch - 1]:>8.3f}")
print(f"validation loss is lowest at epoch {best_epoch} ({min(val):.4f}) and ends at "
      f"{val[-1]:.4f}: the network overfits")

monitor = ScoringMonitor(scoring="accuracy")
stopper = StopWhenHeldOutLossRises(X_val, y_val, patience=10)
steered = MLPClassifier(**params).set_callbacks(monitor, stopper).fit(X_train, y_train)
epochs = [row for row in monitor.get_logs().data if row["task_name"] == "epoch"]
print(f"callbacks: ScoringMonitor logged {len(epochs)} epochs (training accuracy "
      f"{epochs[-1]['accuracy']:.3f}); the custom callback stopped the fit after epoch "
      f"{steered.n_iter_}, held-out loss {stopper.losses[-1]:.4f}")

stopped = MLPClassifier(**{**params, "early_stopping": True, "n_iter_no_change": 10}).fit(
    X_train, y_train, X_val=X_val, y_val=y_val)
print(f"early_stopping=True on X_val: {stopped.n_iter_} epochs, best validation accuracy "
      f"{stopped.best_validation_score_:.3f} (restored), "
      f"validation log-loss {log_loss(y_val, stopped.predict_proba(X_val)):.4f}")

fig, ax = plt.subplots(figsize=(7, 4.5))
plot_loss_curves([overfit], ax=ax, labels=["MLP 64-128-128-10, 300 digits (20% mislabelled)"])
ax.axvline(best_epoch, color="grey", linewidth=0.8, linestyle=":")
ax.set_title("Training loss falls, validation loss turns back up: overfitting")
fig.tight_layout()
fig.savefig("watching_training.png", dpi=100)
print("wrote watching_training.png")
