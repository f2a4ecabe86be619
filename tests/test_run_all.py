"""benchmarks/run_all.py writes into a scratch folder unless --update-committed is given, and
never rewrites the hand-written analysis in benchmarks/README.md."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_run_all():
    spec = importlib.util.spec_from_file_location("run_all", ROOT / "benchmarks" / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def run_all(tmp_path, monkeypatch):
    """run_all with its committed paths and its scratch default moved under tmp_path."""
    module = _load_run_all()
    monkeypatch.setattr(module, "COMMITTED_REPORT", tmp_path / "committed" / "REPORT.md")
    monkeypatch.setattr(module, "COMMITTED_PLOTS", tmp_path / "committed" / "docs")
    monkeypatch.setattr(module, "SCRATCH", tmp_path / "scratch")
    return module


NOTHING = ["--scripts", "--no-measure"]  # the report without running anything


def test_default_writes_the_report_to_the_scratch_folder(run_all, tmp_path):
    assert run_all.main(NOTHING) == 0
    assert (tmp_path / "scratch" / "report.md").is_file()
    assert not (tmp_path / "committed").exists()


def test_out_names_the_scratch_folder(run_all, tmp_path):
    run_all.main(NOTHING + ["--out", str(tmp_path / "mine")])
    report = (tmp_path / "mine" / "report.md").read_text()
    assert report.startswith("# Benchmark report")
    assert "python benchmarks/run_all.py --scripts --no-measure --out" in report
    assert not (tmp_path / "scratch").exists() and not (tmp_path / "committed").exists()


def test_only_update_committed_rewrites_the_committed_report(run_all, tmp_path):
    run_all.main(NOTHING + ["--update-committed"])
    assert (tmp_path / "committed" / "REPORT.md").is_file()
    assert not (tmp_path / "scratch").exists()


def test_out_and_update_committed_together_are_refused(run_all, tmp_path):
    with pytest.raises(SystemExit):
        run_all.main(NOTHING + ["--update-committed", "--out", str(tmp_path)])


def test_the_real_defaults_point_outside_the_repository_and_at_report_files():
    module = _load_run_all()
    assert ROOT not in module.SCRATCH.resolve().parents
    assert module.COMMITTED_REPORT == ROOT / "benchmarks" / "REPORT.md"
    assert module.COMMITTED_PLOTS == ROOT / "docs"
