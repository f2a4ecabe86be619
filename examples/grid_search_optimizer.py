"""Search the optimizer and its learning rate with scikit-learn's tools.

The optimizer objects of fastopt.optim are scikit-learn parameter objects, so
a search can choose between optimizers (``mlpclassifier__solver``) and tune
their own hyper-parameters with nested names (``mlpclassifier__solver__lr``),
next to the flat scikit-learn names (``mlpclassifier__alpha``). The search runs
in two joblib worker processes.

    python examples/grid_search_optimizer.py
"""

import warnings

from scipy.stats import loguniform
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import RandomizedSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastopt import MLPClassifier
from fastopt.optim import SGD, Adam, RMSprop

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

pipe = make_pipeline(StandardScaler(),
                     MLPClassifier(hidden_layer_sizes=(32,), max_iter=15, random_state=0))
search = RandomizedSearchCV(
    pipe,
    {
        "mlpclassifier__solver": [Adam(), RMSprop(), SGD(momentum=0.9, nesterov=True)],
        "mlpclassifier__solver__lr": loguniform(1e-4, 1e-1),
        "mlpclassifier__alpha": loguniform(1e-5, 1e-1),
    },
    n_iter=12, cv=3, n_jobs=2, random_state=0,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    search.fit(X_train, y_train)

results = sorted(zip(search.cv_results_["rank_test_score"], search.cv_results_["params"],
                     search.cv_results_["mean_test_score"]), key=lambda r: r[0])
print(f"{'rank':>4}  {'optimizer':<34} {'lr':>8} {'alpha':>8} {'cv acc':>7}")
for rank, params, score in results:
    solver = params["mlpclassifier__solver"]
    print(f"{rank:>4}  {solver!r:<34} {params['mlpclassifier__solver__lr']:>8.1e} "
          f"{params['mlpclassifier__alpha']:>8.1e} {score:>7.3f}")
best = search.best_estimator_[-1]
print(f"\nbest: {type(best.solver).__name__}(lr={best.solver.lr:.2e}), alpha={best.alpha:.1e}; "
      f"test accuracy {search.score(X_test, y_test):.3f}")
