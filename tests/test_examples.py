"""Every script in examples/ runs to completion (subprocess, Agg backend, time limit)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
# What each example must print (its own check, or the line showing it finished).
EXPECTED = {
    "custom_numpy_gradients.py": "LogisticRegression (lbfgs)",
    "dask_incremental.py": "coefficients equal to a local partial_fit loop over the same "
                           "blocks: True",
    "grid_search_optimizer.py": "best: ",
    "plot_optimizers_digits.py": "wrote optimizers_digits.png",
    "sgd_sparse_text_like.py": "fastopt Adam + softmax",
    "watch_training.py": "wrote watching_training.png",
}


def _numbers(line):
    return [float(x) for x in re.findall(r"-?\d+\.\d+", line)]


def _line(stdout, start):
    return next(line for line in stdout.splitlines() if line.startswith(start))


def check_custom_numpy_gradients(stdout):
    """Adam on hand-written gradients gets within 1% of the optimum's loss."""
    fastopt_loss = _numbers(_line(stdout, "fastopt Adam final loss"))[0]
    optimum = _numbers(_line(stdout, "LogisticRegression (lbfgs)"))[0]
    assert optimum <= fastopt_loss <= 1.01 * optimum


def check_sgd_sparse_text_like(stdout):
    """Same algorithm, same settings: test accuracy within 2 points of scikit-learn."""
    sk_acc = _numbers(_line(stdout, "scikit-learn SGDClassifier"))[-1]
    fo_acc = _numbers(_line(stdout, "fastopt SGDClassifier"))[-1]
    assert abs(sk_acc - fo_acc) <= 0.02
    assert _numbers(_line(stdout, "fastopt Adam + softmax"))[-1] > 0.9


def check_plot_optimizers_digits(stdout):
    """Every optimizer reaches > 90% test accuracy on digits."""
    rows = stdout.split("test acc\n")[1].split("wrote")[0].strip().splitlines()
    assert len(rows) == 8
    assert all(_numbers(row)[-1] > 0.9 for row in rows)


CHECKS = {
    "custom_numpy_gradients.py": check_custom_numpy_gradients,
    "sgd_sparse_text_like.py": check_sgd_sparse_text_like,
    "plot_optimizers_digits.py": check_plot_optimizers_digits,
}


def _run(args, cwd):
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120)


def test_every_example_has_an_expectation():
    assert sorted(p.name for p in EXAMPLES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path, tmp_path):
    if path.name == "dask_incremental.py":
        pytest.importorskip("dask_ml")
        pytest.importorskip("distributed")
    if path.name == "plot_optimizers_digits.py":
        pytest.importorskip("matplotlib")
    result = _run([str(path)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert EXPECTED[path.name] in result.stdout
    if path.name in CHECKS:
        CHECKS[path.name](result.stdout)
    if path.name == "plot_optimizers_digits.py":
        assert (tmp_path / "optimizers_digits.png").read_bytes().startswith(b"\x89PNG")


def test_dask_example_exits_cleanly_without_dask(tmp_path):
    hide_dask = ("import runpy, sys; sys.modules['dask'] = None; "
                 f"runpy.run_path({str(ROOT / 'examples' / 'dask_incremental.py')!r}, "
                 "run_name='__main__')")
    result = _run(["-c", hide_dask], tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'pip install "fastopt[dask]"' in result.stdout
