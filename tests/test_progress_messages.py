"""progress=True: warnings print below the finished bar (through the filters in force), the
bar says why the stopping rule ended a fit early, and the SGD bar shows the loss."""

import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from fastopt import MLPClassifier, SGDClassifier
from fastopt._progress import epoch_progress

pytest.importorskip("tqdm")
ROOT = Path(__file__).resolve().parents[1]


def _bar_run(n_epochs, messages, stopped=None):
    """Three-epoch bar; warn each message during the first epoch."""
    with epoch_progress(True, 3, "demo") as bar:
        for epoch in range(n_epochs):
            if epoch == 0:
                for message in messages:
                    warnings.warn(message, UserWarning)
            bar.update(loss=f"{1.0 / (epoch + 1):.4g}")
        if stopped:
            bar.stopped(stopped)


def test_convergence_warning_prints_after_the_bar_is_closed():
    code = ("from sklearn.datasets import load_iris; from fastopt import MLPClassifier; "
            "X, y = load_iris(return_X_y=True); "
            "MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, progress=True, "
            "random_state=0).fit(X, y)")
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=120, check=True).stderr
    assert "ConvergenceWarning" in err
    # The bar's last redraw (5/5) comes before the warning, not after it.
    assert err.rindex("5/5") < err.index("ConvergenceWarning")


@pytest.mark.parametrize("action, shown", [("always", 2), ("default", 1), ("once", 1),
                                           ("ignore", 0)])
def test_warnings_held_during_the_bar_pass_the_filters_in_force(action, shown, capsys):
    message = f"held back while the bar is open ({action})"
    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter(action)
        _bar_run(3, [message, message])  # twice from the same line
    assert [str(w.message) for w in log] == [message] * shown
    capsys.readouterr()


def test_module_filters_apply_to_warnings_held_during_the_bar(capsys):
    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", module=re.escape(__name__))
        _bar_run(3, ["from this test module"])
    assert log == []
    capsys.readouterr()


def test_error_filter_still_raises_the_held_warning(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="turned into an error"):
            _bar_run(3, ["turned into an error"])
    capsys.readouterr()


def test_bar_that_stopped_early_says_why_and_ends_full(capsys):
    _bar_run(2, [], stopped="loss did not improve")
    err = capsys.readouterr().err
    final = err.replace("\r", "\n").strip().splitlines()[-1]
    assert "100%" in final and "2/2" in final
    assert "stopped after 2 of max_iter=3 epochs: loss did not improve" in final
    assert "loss=0.5" in final


def test_bar_that_ran_every_epoch_has_no_stop_note(capsys):
    _bar_run(3, [])
    final = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert "3/3" in final and "stopped" not in final


def test_mlp_stopping_rule_is_named_on_the_bar(capsys):
    X = [[0.0], [1.0], [2.0], [3.0]] * 10
    y = [0, 1, 0, 1] * 10
    clf = MLPClassifier(hidden_layer_sizes=(2,), max_iter=50, tol=10.0, n_iter_no_change=2,
                        random_state=0, progress=True).fit(X, y)
    final = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert clf.n_iter_ < 50
    assert (f"stopped after {clf.n_iter_} of max_iter=50 epochs: loss did not improve "
            "by tol=10.0 for 2 epochs") in final


@pytest.mark.parametrize("early_stopping, shown", [(False, "loss="), (True, "val_score=")])
def test_sgd_bar_shows_the_loss_and_active_problems(early_stopping, shown, capsys):
    X = [[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]] * 10
    y = [0, 1, 2, 1] * 10
    SGDClassifier(max_iter=4, tol=None, random_state=0, early_stopping=early_stopping,
                  progress=True).fit(X, y)
    final = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert shown in final and "active=3/3" in final and "active_problems" not in final
