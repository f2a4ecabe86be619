"""``python -m fastopt paths``: six optimizers on Rosenbrock and the saddle; its claims hold."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fastopt._paths_demo import main, problems
from fastopt.optim import trace

ROOT = Path(__file__).resolve().parents[1]
LABELS = ["SGD", "momentum", "Nesterov", "Adagrad", "RMSprop", "Adam"]


@pytest.fixture(scope="module")
def paths():
    return main(["--no-plot"])


def test_report_names_every_optimizer_and_its_end_point(paths, capsys):
    main(["--no-plot"])
    out = capsys.readouterr().out
    assert "Rosenbrock(a=1, b=100): 1000 steps" in out and "Saddle(): 50 steps" in out
    for name, (function, x0, n_steps, opts) in problems().items():
        assert list(opts) == LABELS
        for label, opt in opts.items():
            np.testing.assert_array_equal(paths[name][label], trace(opt, function, x0, n_steps))
            end = paths[name][label][-1]
            assert f"{end[0]:.4f}" in out and f"{function(end):.4g}" in out


def test_momentum_and_adam_follow_the_valley_where_sgd_and_adagrad_lag(paths):
    f = problems()["rosenbrock"][0]
    loss = {label: f(path[-1]) for label, path in paths["rosenbrock"].items()}
    for fast in ("momentum", "Nesterov", "Adam"):
        assert loss[fast] < 0.01
    for slow in ("SGD", "Adagrad"):
        assert loss[slow] > 1.0


def test_adaptive_rules_leave_the_saddle_at_once_while_sgd_slides_to_it(paths):
    saddle = paths["saddle"]
    assert abs(saddle["SGD"][-1, 1]) < 0.2 and abs(saddle["SGD"][-1, 0]) < 0.05
    for label in ("Adagrad", "RMSprop", "Adam"):
        # already past y = 0.25 after 5 steps, where SGD is still below 1e-2
        assert abs(saddle[label][5, 1]) > 0.25
    assert abs(saddle["SGD"][5, 1]) < 1e-2


def test_command_line_writes_png_and_default_demo_is_unchanged(tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    png = tmp_path / "paths.png"
    out = subprocess.run([sys.executable, "-m", "fastopt", "paths", "--output", str(png)],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600,
                         check=True).stdout
    assert f"paths written to {png}" in out
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    usage = subprocess.run([sys.executable, "-m", "fastopt", "--help"], capture_output=True,
                           text=True, env=env, cwd=tmp_path, timeout=600, check=True).stdout
    assert "--dataset" in usage


def test_missing_matplotlib_skips_png_with_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    png = tmp_path / "paths.png"
    main(["--output", str(png)])
    assert "matplotlib is not installed" in capsys.readouterr().out
    assert not png.exists()
