"""Batch normalisation rescues an MLP trained on badly scaled inputs.

The features of a 3-class problem are multiplied by 1000 and shifted by 500
(raw sensor counts, say), and nobody put a StandardScaler in front. Adam's
steps of ~1e-3 then barely move weights whose products with the inputs are in
the thousands: the plain network's pre-activations are huge, its softmax
saturates and the loss stays high. ``batch_norm=True`` normalises every hidden
unit over each minibatch (``torch.nn.BatchNorm1d`` after the affine map), so
the network trains as if the pre-activations were scaled. Scaling the inputs
is still the first fix; the last line shows it for reference.

Run: ``python examples/batch_norm_badly_scaled.py`` (a few seconds).
"""

import warnings

from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastopt import MLPClassifier

X, y = make_classification(2000, 20, n_informative=10, n_classes=3, random_state=0)
X = X * 1000.0 + 500.0
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

models = {
    "plain MLP on raw inputs": MLPClassifier((64, 64), max_iter=30, random_state=0),
    "batch_norm=True on raw inputs": MLPClassifier((64, 64), max_iter=30, random_state=0,
                                                   batch_norm=True),
    "StandardScaler + plain MLP": make_pipeline(
        StandardScaler(), MLPClassifier((64, 64), max_iter=30, random_state=0)),
}
print(f"{'model':32s} {'final loss':>10s} {'train acc':>9s} {'test acc':>8s}")
for name, model in models.items():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    mlp = model[-1] if hasattr(model, "steps") else model
    print(f"{name:32s} {mlp.loss_:10.4f} {model.score(X_train, y_train):9.3f} "
          f"{model.score(X_test, y_test):8.3f}")
