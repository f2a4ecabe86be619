"""``python -m fastopt``: a bad --output fails before any training; the figure plots loss
against seconds per optimizer (fastopt solid, scikit-learn dashed) and the fit times."""

import numpy as np
import pytest

import fastopt.__main__ as demo

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def test_output_into_a_missing_folder_fails_before_training(tmp_path, monkeypatch, capsys):
    def no_training(*args, **kwargs):
        raise AssertionError("trained before checking --output")

    monkeypatch.setattr(demo, "run", no_training)
    with pytest.raises(SystemExit) as exc:
        demo.main(["--output", str(tmp_path / "missing" / "figure.png")])
    assert exc.value.code == 2
    assert "does not exist" in capsys.readouterr().err


def test_no_plot_skips_the_output_check(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "run", lambda *args: [])
    monkeypatch.setattr(demo, "format_table", lambda rows: "")
    demo.main(["--no-plot", "--output", str(tmp_path / "missing" / "figure.png")])


@pytest.fixture(scope="module")
def rows():
    X_train, X_test, y_train, y_test = demo.load_dataset("synthetic", 300)
    return demo.run(X_train, X_test, y_train, y_test, epochs=3, hidden=(8,), batch_size=32)


def test_figure_has_one_panel_per_optimizer_and_a_fit_time_bar(rows):
    fig = demo.draw_figure(rows, "title", plt)
    panels, bars = fig.axes[:-1], fig.axes[-1]
    names = [name for family in demo.FAMILIES for name in family]
    assert sorted(names) == sorted(demo.OPTIMIZERS)
    assert [ax.get_title().split("\n")[0] for ax in panels] == names
    by_name = {row["name"]: row for row in rows}
    for ax, name in zip(panels, names):
        row = by_name[name]
        lines = ax.get_lines()
        fast = lines[0]
        assert fast.get_linestyle() == "-"
        np.testing.assert_allclose(fast.get_xdata()[-1], row["fastopt_time"])
        np.testing.assert_allclose(fast.get_ydata(), row["fastopt"].loss_curve_)
        if row["sklearn"] is None:
            assert len(lines) == 1 and "fastopt only" in ax.get_title()
        else:
            slow = lines[1]
            assert slow.get_linestyle() == "--"
            np.testing.assert_allclose(slow.get_xdata()[-1], row["sklearn_time"])
            np.testing.assert_allclose(slow.get_ydata(), row["sklearn"].loss_curve_)
            ratio = row["sklearn_time"] / row["fastopt_time"]
            assert f"{ratio:.1f}x faster" in ax.get_title()
    widths = sorted(round(p.get_width(), 9) for p in bars.patches)
    expected = [row["fastopt_time"] for row in rows] + [row["sklearn_time"] or 0.0
                                                        for row in rows]
    np.testing.assert_allclose(widths, sorted(expected), rtol=1e-6)
    plt.close(fig)


def test_saved_figure_is_800_pixels_wide(rows, tmp_path):
    path = tmp_path / "demo.png"
    assert demo.save_figure(rows, path, "title")
    width, height = plt.imread(path).shape[1::-1]
    assert (width, height) == (800, 500)
