"""Textbook exercise: fit y = 2x with batch gradient descent, SGD and Adam.

One fastopt SGDRegressor per method, without intercept or penalty, trained
one epoch at a time with partial_fit so that the training loss can be recorded
after every epoch:

* batch GD: ``batch_size=n_samples``, one step per epoch;
* SGD: ``batch_size=1``, one step per sample;
* Adam: ``solver=Adam(lr=0.1)`` on minibatches of 10.

scikit-learn's squared loss is (y - w x)^2 / 2, so the batch gradient is
mean((w x - y) x) = (w - 2) mean(x^2) and batch GD follows the closed form
w_k = 2 - 2 (1 - eta0 mean(x^2))^k (see docs/textbook.md for the factor 2 of
Keras/PyTorch's MSE). The script prints the loss curves, checks the closed form
and writes the curves to linear_fit_loss_curves.png when matplotlib is there.

    python examples/textbook_linear_fit.py
"""

import numpy as np

from fastopt import SGDRegressor
from fastopt.optim import Adam

rng = np.random.default_rng(0)
X = rng.uniform(-1.0, 1.0, size=(100, 1))
y = 2.0 * X[:, 0]
n_epochs = 30
common = dict(penalty=None, fit_intercept=False, learning_rate="constant", random_state=0)
models = {
    "batch GD": SGDRegressor(eta0=0.5, batch_size=len(X), **common),
    "SGD": SGDRegressor(eta0=0.05, batch_size=1, **common),
    "Adam": SGDRegressor(solver=Adam(lr=0.1), batch_size=10, **common),
}
curves = {name: [] for name in models}
coefs = {name: [] for name in models}
for _ in range(n_epochs):
    for name, model in models.items():
        model.partial_fit(X, y)
        curves[name].append(np.mean((model.predict(X) - y) ** 2))
        coefs[name].append(model.coef_[0])

print("training MSE after each epoch")
print(f"{'epoch':>5} " + " ".join(f"{name:>10}" for name in models))
for epoch in [1, 2, 3, 5, 10, 20, n_epochs]:
    print(f"{epoch:>5} " + " ".join(f"{curves[name][epoch - 1]:>10.2e}" for name in models))

print("\nfinal w: " + ", ".join(f"{name} {coefs[name][-1]:.6f}" for name in models))
for name in models:
    reached = next((k + 1 for k, loss in enumerate(curves[name]) if loss < 1e-6), None)
    print(f"epochs until MSE < 1e-6, {name}: {reached}")

k = np.arange(1, n_epochs + 1)
closed_form = 2.0 - 2.0 * (1.0 - 0.5 * np.mean(X[:, 0] ** 2)) ** k
error = np.max(np.abs(np.array(coefs["batch GD"]) - closed_form))
print(f"batch GD w_k - (2 - 2 (1 - eta0 mean(x^2))^k): max |difference| {error:.1e}")

try:
    import matplotlib
except ImportError:
    print("matplotlib is not installed: no PNG")
else:
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name in models:
        ax.semilogy(k, curves[name], marker="o", markersize=3, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training MSE")
    ax.set_title("y = 2x: batch GD, SGD and Adam (fastopt SGDRegressor)")
    ax.legend()
    fig.tight_layout()
    fig.savefig("linear_fit_loss_curves.png", dpi=100)
    print("wrote linear_fit_loss_curves.png")
