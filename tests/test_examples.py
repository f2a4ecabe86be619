"""Every script in examples/ runs to completion (subprocess, Agg backend, time limit)."""

import os
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
    if path.name == "plot_optimizers_digits.py":
        assert (tmp_path / "optimizers_digits.png").read_bytes().startswith(b"\x89PNG")


def test_dask_example_exits_cleanly_without_dask(tmp_path):
    hide_dask = ("import runpy, sys; sys.modules['dask'] = None; "
                 f"runpy.run_path({str(ROOT / 'examples' / 'dask_incremental.py')!r}, "
                 "run_name='__main__')")
    result = _run(["-c", hide_dask], tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'pip install "fastopt[dask]"' in result.stdout
