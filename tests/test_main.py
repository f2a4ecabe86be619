"""``python -m fastopt``: the demo runs, compares with scikit-learn, writes its PNG."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fastopt.__main__ import OPTIMIZERS, main

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _env():
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env


def test_help_describes_every_option():
    out = subprocess.run([sys.executable, "-m", "fastopt", "--help"], capture_output=True,
                         text=True, env=_env(), cwd=ROOT, timeout=60, check=True).stdout
    for option in ("--dataset", "--n-samples", "--epochs", "--output", "digits",
                   "breast_cancer", "synthetic"):
        assert option in out


def test_command_line_run_prints_table_and_writes_png(tmp_path):
    png = tmp_path / "curves.png"
    out = subprocess.run(
        [sys.executable, "-m", "fastopt", "--epochs", "2", "--output", str(png)],
        capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=120, check=True,
    ).stdout
    for name in OPTIMIZERS:
        assert f"\n{name} " in out
    assert "sklearn acc" in out
    assert png.read_bytes().startswith(PNG_MAGIC)


@pytest.mark.parametrize("dataset", ["breast_cancer", "synthetic"])
def test_every_optimizer_learns_and_matches_sklearn_accuracy(dataset, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = main(["--dataset", dataset, "--n-samples", "400", "--epochs", "5", "--no-plot"])
    assert [row["name"] for row in rows] == list(OPTIMIZERS)
    n_classes = 2 if dataset == "breast_cancer" else 10
    for row in rows:
        assert row["fastopt"].n_iter_ == 5
        assert row["fastopt_accuracy"] > 1.5 / n_classes
        if row["sklearn"] is not None:
            # Same update formulas, initialisation and epochs: same quality.
            assert abs(row["fastopt_accuracy"] - row["sklearn_accuracy"]) <= 0.1
            assert row["sklearn"].n_iter_ == 5
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
