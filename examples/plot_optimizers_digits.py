"""Compare optimizers on the digits data and plot their loss curves.

fastopt's MLPClassifier accepts any fastopt.optim optimizer as ``solver``
(PyTorch's update rules), besides scikit-learn's strings. Each network below
has the same architecture, initialisation and number of epochs; only the
update rule differs. The loss curves are written to optimizers_digits.png.

    python examples/plot_optimizers_digits.py
"""

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from fastopt import MLPClassifier, plot_loss_curves  # noqa: E402
from fastopt.optim import SGD, Adagrad, Adam, AdamW, CosineAnnealing, NAdam, RMSprop  # noqa: E402

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

epochs, batch_size = 40, 32
steps = epochs * -(-len(X_train) // batch_size)
optimizers = {
    "SGD": SGD(lr=0.05),
    "SGD + momentum": SGD(lr=0.01, momentum=0.9),
    "SGD + Nesterov": SGD(lr=0.01, momentum=0.9, nesterov=True),
    "Adagrad": Adagrad(lr=0.05),
    "RMSprop": RMSprop(lr=1e-3),
    "Adam": Adam(lr=1e-3),
    "AdamW + cosine": AdamW(lr=3e-3, weight_decay=1e-2,
                            schedule=CosineAnnealing(t_max=steps, warmup_steps=steps // 20)),
    "NAdam": NAdam(lr=2e-3),
}

models = []
print(f"{'optimizer':<16} {'train loss':>10} {'test acc':>9}")
for name, optimizer in optimizers.items():
    clf = MLPClassifier(hidden_layer_sizes=(64,), solver=optimizer, batch_size=batch_size,
                        max_iter=epochs, tol=0.0, n_iter_no_change=epochs, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    models.append(clf)
    print(f"{name:<16} {clf.loss_:>10.4f} {clf.score(X_test, y_test):>9.3f}")

fig, ax = plt.subplots(figsize=(7, 4.5))
plot_loss_curves(models, ax=ax, labels=list(optimizers))
ax.set_title("MLP 64-64-10 on digits")
fig.tight_layout()
fig.savefig("optimizers_digits.png", dpi=100)
print("wrote optimizers_digits.png")
