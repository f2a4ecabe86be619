"""``python -m fastopt``: the demo runs, compares with scikit-learn, writes its PNG."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone

from fastopt.__main__ import OPTIMIZERS, load_dataset, main

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HANG = 600  # seconds: guards against a hang, not a speed claim (machines may be loaded)


def _env():
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env


def test_help_describes_every_option():
    out = subprocess.run([sys.executable, "-m", "fastopt", "--help"], capture_output=True,
                         text=True, env=_env(), cwd=ROOT, timeout=HANG, check=True).stdout
    for option in ("--dataset", "--n-samples", "--epochs", "--output", "digits",
                   "breast_cancer", "synthetic", "python -m fastopt paths"):
        assert option in out


def test_command_line_run_prints_table_and_writes_png(tmp_path):
    pytest.importorskip("matplotlib")  # the ``plot`` extra
    png = tmp_path / "curves.png"
    out = subprocess.run(
        [sys.executable, "-m", "fastopt", "--epochs", "2", "--output", str(png)],
        capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=HANG, check=True,
    ).stdout
    for name in OPTIMIZERS:
        assert f"\n{name} " in out
    assert "sklearn acc" in out
    assert png.read_bytes().startswith(PNG_MAGIC)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("dataset", ["breast_cancer", "synthetic"])
def test_every_optimizer_learns_and_matches_sklearn_accuracy(dataset, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = main(["--dataset", dataset, "--n-samples", "400", "--epochs", "5", "--no-plot"])
    assert [row["name"] for row in rows] == list(OPTIMIZERS)
    X_train, _, y_train, _ = load_dataset(dataset, 400)
    twins = [row for row in rows if row["sklearn"] is not None]
    for row in twins:
        assert row["fastopt"].n_iter_ == row["sklearn"].n_iter_ == 5
        # The demo's claim: scikit-learn's update formulas on both sides. Without
        # shuffling (each side has its own generator) the trajectories agree to rounding.
        ours = clone(row["fastopt"]).set_params(shuffle=False).fit(X_train, y_train)
        theirs = clone(row["sklearn"]).set_params(shuffle=False).fit(X_train, y_train)
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9)
        assert abs(row["fastopt_accuracy"] - row["sklearn_accuracy"]) <= 0.05
    # optimizers without a scikit-learn twin learn as well as scikit-learn's solvers do
    worst_sklearn = min(row["sklearn_accuracy"] for row in twins)
    for row in rows:
        assert row["fastopt"].n_iter_ == 5
        assert row["fastopt_accuracy"] >= worst_sklearn - 0.05
    assert list(tmp_path.iterdir()) == []  # --no-plot: no PNG


def test_missing_matplotlib_skips_png_with_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    png = tmp_path / "curves.png"
    main(["--dataset", "breast_cancer", "--epochs", "1", "--output", str(png)])
    assert "matplotlib is not installed" in capsys.readouterr().out
    assert not png.exists()


@pytest.mark.parametrize("argv", [["--dataset", "mnist"], ["--epochs", "0"],
                                  ["--n-samples", "-3"]])
def test_invalid_arguments_exit_with_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "usage: python -m fastopt" in capsys.readouterr().err
