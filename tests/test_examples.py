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
    "batch_norm_badly_scaled.py": "StandardScaler + plain MLP",
    "custom_numpy_gradients.py": "LogisticRegression (lbfgs)",
    "dask_incremental.py": "coefficients equal to a local partial_fit loop over the same "
                           "blocks: True",
    "grid_search_optimizer.py": "best: ",
    "lr_find_digits.py": "test accuracy at the suggested rate",
    "plot_optimizers_digits.py": "wrote optimizers_digits.png",
    "sgd_sparse_text_like.py": "fastopt Adam + softmax",
    "textbook_linear_fit.py": "batch GD w_k - (2 - 2 (1 - eta0 mean(x^2))^k)",
    "textbook_theta_steps.py": "|theta - 3| after 200 steps",
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


def check_textbook_linear_fit(stdout):
    """All three reach w = 2; batch GD is the closed form and decreases every epoch; SGD,
    with one step per sample, needs the fewest epochs."""
    finals = _numbers(_line(stdout, "final w:"))
    assert len(finals) == 3 and all(abs(w - 2.0) < 1e-2 for w in finals)
    assert float(_line(stdout, "batch GD w_k - ").split()[-1]) < 1e-12
    rows = stdout.split("Adam\n")[1].split("\n\n")[0].splitlines()
    batch_gd = [float(row.split()[1]) for row in rows]
    assert all(b < a for a, b in zip(batch_gd, batch_gd[1:]))

    def epochs(name):
        value = _line(stdout, f"epochs until MSE < 1e-6, {name}:").split(":")[-1].strip()
        return float("inf") if value == "None" else int(value)

    assert epochs("SGD") < epochs("Adam") < epochs("batch GD")


def check_textbook_theta_steps(stdout):
    """Each printed textbook fact holds and all four optimizers reach both minima."""
    assert _line(stdout, "GD equals 3 - 3 (1 - 2 lr)^t").endswith("True")
    assert _line(stdout, "momentum equals the loop").endswith("True")
    rms, expected = _numbers(_line(stdout, "first RMSprop step"))[-2:]
    assert abs(rms - expected) < 1e-6
    assert abs(_numbers(_line(stdout, "first Adam step"))[0] - 0.1) < 1e-6
    ends = stdout.split("after 200 steps\n")[1].split("\n\n")[0].splitlines()
    assert len(ends) == 4 and all(float(row.split()[-1]) < 1e-3 for row in ends)
    errors = [float(x) for x in re.findall(r"\d\.\de[-+]\d+", _line(stdout, "|theta - 3|"))]
    assert len(errors) == 4 and max(errors) < 1e-3


def check_lr_find_digits(stdout):
    """The range test stopped on divergence and the suggested rate trains well: above 95%
    test accuracy, within 0.03 of Adam's default rate."""
    steps, n_steps = (int(x) for x in re.findall(r"steps run: (\d+) of (\d+)", stdout)[0])
    assert steps < n_steps
    at_suggestion = _numbers(_line(stdout, "test accuracy at the suggested rate"))[-1]
    at_default = _numbers(_line(stdout, "test accuracy at the default rate"))[-1]
    assert at_suggestion > 0.95 and at_suggestion >= at_default - 0.03


def check_batch_norm_badly_scaled(stdout):
    """On raw inputs scaled by 1000, batch norm ends with a loss under a third of the
    plain network's and a test accuracy at least 0.05 higher."""
    plain = _numbers(_line(stdout, "plain MLP on raw inputs"))
    normed = _numbers(_line(stdout, "batch_norm=True on raw inputs"))
    assert normed[0] < plain[0] / 3 and normed[-1] > plain[-1] + 0.05


CHECKS = {
    "batch_norm_badly_scaled.py": check_batch_norm_badly_scaled,
    "lr_find_digits.py": check_lr_find_digits,
    "custom_numpy_gradients.py": check_custom_numpy_gradients,
    "sgd_sparse_text_like.py": check_sgd_sparse_text_like,
    "plot_optimizers_digits.py": check_plot_optimizers_digits,
    "textbook_linear_fit.py": check_textbook_linear_fit,
    "textbook_theta_steps.py": check_textbook_theta_steps,
}


def _run(args, cwd):
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=600)  # a hang guard, not a speed claim


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
    if path.name == "lr_find_digits.py" and "wrote" in result.stdout:
        assert (tmp_path / "lr_find_digits.png").read_bytes().startswith(b"\x89PNG")
    if path.name == "textbook_linear_fit.py" and "wrote" in result.stdout:
        assert (tmp_path / "linear_fit_loss_curves.png").read_bytes().startswith(b"\x89PNG")


def test_dask_example_exits_cleanly_without_dask(tmp_path):
    hide_dask = ("import runpy, sys; sys.modules['dask'] = None; "
                 f"runpy.run_path({str(ROOT / 'examples' / 'dask_incremental.py')!r}, "
                 "run_name='__main__')")
    result = _run(["-c", hide_dask], tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'pip install "fastopt[dask]"' in result.stdout
