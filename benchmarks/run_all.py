"""Run every benchmark and write a report (Markdown tables and PNG plots).

1. Each ``benchmarks/bench_*.py`` script present (bench_optim.py, bench_linear.py,
   bench_mlp.py, ...) runs as a subprocess (with ``--quick`` when this script
   gets ``--quick``); its printed table goes into the report verbatim.
2. Two measurements of this script, each drawn as a PNG:

   * MLP seconds per epoch against minibatch size: fastopt, scikit-learn and
     PyTorch (when installed) train the same 64-128-10 ReLU network with Adam
     (lr=1e-3) in float32, interleaved, median of ``--repeats`` fits;
   * training loss against wall-clock time for each optimizer: fastopt's
     MLPClassifier on the digits data with every solver, and scikit-learn's
     'sgd' and 'adam' (epoch ``i`` is drawn at ``i`` times the median time per
     epoch of the fit).

Where it writes: by default a scratch folder (``--out``, default
``<temp dir>/fastopt-benchmarks``): ``report.md`` and the PNGs side by side.
Only ``--update-committed`` rewrites the committed report,
``benchmarks/REPORT.md``, and its plots in ``docs/``. It never touches
``benchmarks/README.md``, the hand-written analysis.

Every number in the report comes from the run that wrote it; nothing is typed
in by hand. The machine is shared: the report records the load average.

Usage::

    python benchmarks/run_all.py --quick              # small sizes, to a scratch folder
    python benchmarks/run_all.py                      # full runs of every script (long)
    python benchmarks/run_all.py --update-committed   # full, rewrites REPORT.md and docs/*.png

The report states how long its run took (the scripts' own docstrings give theirs for
``--quick``: under a minute each on a quiet 2-core machine).
"""

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import scipy
import sklearn
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from fastopt import MLPClassifier  # noqa: E402
from fastopt._openmp import max_threads, openmp_enabled  # noqa: E402
from fastopt.optim import SGD, Adagrad, AdamW, NAdam, RMSprop  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

SCRIPT_ORDER = ("bench_optim.py", "bench_linear.py", "bench_mlp.py")
COMMITTED_REPORT = HERE / "REPORT.md"
COMMITTED_PLOTS = ROOT / "docs"
SCRATCH = Path(tempfile.gettempdir()) / "fastopt-benchmarks"
BATCH_PNG = "benchmark_mlp_epoch_time_vs_batch.png"
LOSS_PNG = "benchmark_loss_vs_time.png"

# Solvers of the loss-versus-time plot: (label, library, estimator parameters).
LOSS_SOLVERS = [
    ("sgd", "fastopt", dict(solver="sgd", momentum=0.0, learning_rate_init=0.05)),
    ("sgd", "sklearn", dict(solver="sgd", momentum=0.0, learning_rate_init=0.05)),
    ("nesterov", "fastopt", dict(solver="sgd", learning_rate_init=0.01)),
    ("nesterov", "sklearn", dict(solver="sgd", learning_rate_init=0.01)),
    ("adam", "fastopt", dict(solver="adam")),
    ("adam", "sklearn", dict(solver="adam")),
    ("SGD(momentum=0.9)", "fastopt", dict(solver=SGD(lr=0.01, momentum=0.9))),
    ("AdamW", "fastopt", dict(solver=AdamW(lr=1e-3))),
    ("RMSprop", "fastopt", dict(solver=RMSprop(lr=1e-3))),
    ("Adagrad", "fastopt", dict(solver=Adagrad(lr=0.05))),
    ("NAdam", "fastopt", dict(solver=NAdam(lr=2e-3))),
]


# ------------------------------------------------------------------ scripts


def run_scripts(quick, names):
    """Run the benchmark scripts; return one dict per script."""
    present = {p.name for p in HERE.glob("bench_*.py")}
    ordered = [n for n in SCRIPT_ORDER if n in present] + sorted(present - set(SCRIPT_ORDER))
    if names:
        ordered = [n for n in ordered if n in names]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    results = []
    for name in ordered:
        cmd = [sys.executable, f"benchmarks/{name}"] + (["--quick"] if quick else [])
        print(f"running {' '.join(cmd[1:])} ...", flush=True)
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        results.append({"name": name, "command": "python " + " ".join(cmd[1:]),
                        "returncode": proc.returncode, "stdout": proc.stdout,
                        "stderr": proc.stderr, "seconds": elapsed})
        print(proc.stdout if proc.returncode == 0 else proc.stderr[-2000:], flush=True)
    missing = [n for n in SCRIPT_ORDER if n not in present]
    return results, missing


# ------------------------------------------------------ MLP time vs batch


def _quiet_fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        est.fit(X, y)
        return time.perf_counter() - start


def _torch_fit(X, y, hidden, batch_size, epochs):
    """Hand-written PyTorch loop: shuffle, index, forward, backward, Adam step."""
    torch.manual_seed(0)
    sizes = [X.shape[1], *hidden, int(y.max()) + 1]
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    start = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(Xt))
        for i in range(0, len(Xt), batch_size):
            idx = perm[i:i + batch_size]
            loss = torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return time.perf_counter() - start


def bench_batch_sizes(quick, repeats, threads):
    """Median seconds per epoch per (library, batch size)."""
    n_train = 5000 if quick else 20000
    epochs = 2 if quick else 3
    batch_sizes = [16, 64, 256] if quick else [16, 32, 64, 128, 256, 512]
    hidden = (128,)
    X, y = make_classification(n_train, 64, n_informative=32, n_classes=10,
                               n_clusters_per_class=1, class_sep=2.0, random_state=0)
    X = StandardScaler().fit_transform(X).astype(np.float32)
    libraries = ["fastopt", "sklearn"] + (["torch"] if torch is not None else [])
    times = {(lib, b): [] for lib in libraries for b in batch_sizes}
    with threadpool_limits(threads):
        if torch is not None:
            torch.set_num_threads(threads)
        for _ in range(repeats):
            for b in batch_sizes:
                for lib in libraries:  # interleaved
                    params = dict(hidden_layer_sizes=hidden, batch_size=b, max_iter=epochs,
                                  tol=0.0, n_iter_no_change=10**6, random_state=0)
                    if lib == "fastopt":
                        t = _quiet_fit(MLPClassifier(**params), X, y)
                    elif lib == "sklearn":
                        t = _quiet_fit(SkMLPClassifier(**params), X, y)
                    else:
                        t = _torch_fit(X, y, hidden, b, epochs)
                    times[lib, b].append(t / epochs)
    med = {key: statistics.median(v) for key, v in times.items()}
    return {"libraries": libraries, "batch_sizes": batch_sizes, "median": med,
            "n_train": n_train, "epochs": epochs, "hidden": hidden, "threads": threads,
            "repeats": repeats}


def batch_table(res):
    libs = res["libraries"]
    head = "| batch | " + " | ".join(f"{lib} s/epoch" for lib in libs) + " | " + " | ".join(
        f"{lib} / fastopt" for lib in libs if lib != "fastopt") + " |"
    lines = [head, "|" + " --- |" * (1 + 2 * len(libs) - 1)]
    for b in res["batch_sizes"]:
        fo = res["median"]["fastopt", b]
        cells = [f"{res['median'][lib, b]:.4f}" for lib in libs]
        ratios = [f"{res['median'][lib, b] / fo:.1f}x" for lib in libs if lib != "fastopt"]
        lines.append(f"| {b} | " + " | ".join(cells + ratios) + " |")
    return "\n".join(lines)


def plot_batch_sizes(res, path, plt):
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for lib in res["libraries"]:
        ax.plot(res["batch_sizes"], [res["median"][lib, b] for b in res["batch_sizes"]],
                marker="o", label=lib)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("minibatch size")
    ax.set_ylabel("seconds per epoch (median)")
    ax.set_title(f"MLP 64-{'-'.join(map(str, res['hidden']))}-10, Adam, float32, "
                 f"{res['n_train']} rows, {res['threads']} thread(s)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# --------------------------------------------------------- loss vs time


def bench_loss_vs_time(quick, repeats, threads):
    """Loss curves and median time per epoch of each solver on the digits data."""
    epochs = 10 if quick else 40
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    times = {i: [] for i in range(len(LOSS_SOLVERS))}
    fitted = {}
    with threadpool_limits(threads):
        for _ in range(repeats):
            for i, (_, lib, params) in enumerate(LOSS_SOLVERS):  # interleaved
                cls = MLPClassifier if lib == "fastopt" else SkMLPClassifier
                est = cls(hidden_layer_sizes=(64,), batch_size=32, max_iter=epochs, tol=0.0,
                          n_iter_no_change=10**6, random_state=0, **params)
                times[i].append(_quiet_fit(est, X_train, y_train) / epochs)
                fitted[i] = est
    rows = []
    for i, (label, lib, _) in enumerate(LOSS_SOLVERS):
        est = fitted[i]
        rows.append({"label": label, "library": lib, "epoch_time": statistics.median(times[i]),
                     "loss_curve": list(est.loss_curve_),
                     "accuracy": est.score(X_test, y_test)})
    return {"rows": rows, "epochs": epochs, "threads": threads, "repeats": repeats,
            "n_train": len(X_train)}


def loss_table(res):
    lines = ["| solver | library | s/epoch | final loss | test acc |",
             "| --- | --- | --- | --- | --- |"]
    for row in res["rows"]:
        lines.append(f"| {row['label']} | {row['library']} | {row['epoch_time']:.4f} | "
                     f"{row['loss_curve'][-1]:.4f} | {row['accuracy']:.3f} |")
    return "\n".join(lines)


def plot_loss_vs_time(res, path, plt):
    fig, ax = plt.subplots(figsize=(9, 4.5))
    colours = {}
    for row in res["rows"]:
        colour = colours.setdefault(row["label"], f"C{len(colours)}")
        t = row["epoch_time"] * np.arange(1, len(row["loss_curve"]) + 1)
        ax.plot(t, row["loss_curve"], color=colour,
                linestyle="-" if row["library"] == "fastopt" else "--",
                label=f"{row['library']} {row['label']}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("wall-clock seconds")
    ax.set_ylabel("training loss")
    ax.set_title(f"MLP 64-64-10 on digits, batch 32, {res['threads']} thread(s)")
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ---------------------------------------------------------------- report


def _cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _environment():
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return [
        f"- CPU: {_cpu_name()}, {os.cpu_count()} logical cores; load average at start: {load}",
        f"- Python {platform.python_version()}, NumPy {np.__version__}, SciPy "
        f"{scipy.__version__}, scikit-learn {sklearn.__version__}, PyTorch "
        f"{torch.__version__ if torch is not None else 'not installed'}",
        f"- fastopt OpenMP: {'on' if openmp_enabled() else 'off'}, "
        f"{max_threads()} thread(s) available",
    ]


def write_report(path, command, quick, scripts, missing, batch, loss, plot_dir, started,
                 seconds):
    """Write the Markdown report; ``plot_dir`` holds the PNGs, or is None without plots."""

    def link(name):
        return Path(os.path.relpath(plot_dir / name, path.parent)).as_posix()

    mode = "--quick" if quick else "full"
    out = [
        "# Benchmark report",
        "",
        f"Generated by `{command}` on {started:%Y-%m-%d %H:%M} UTC ({mode} run, "
        f"{seconds / 60:.1f} minutes). Do not edit: rerun the script. The analysis of these "
        "numbers is hand-written in `benchmarks/README.md`. The machine is shared and noisy "
        "(expect +-30% between runs); compare columns of one row, which were measured "
        "interleaved in the same run.",
        "",
        *_environment(),
        "",
    ]
    for res in scripts:
        out += [f"## {res['name']}", "", f"`{res['command']}` ({res['seconds']:.0f} s)", ""]
        if res["returncode"] == 0:
            out += ["```", res["stdout"].rstrip(), "```", ""]
        else:
            out += [f"**failed** with exit code {res['returncode']}:", "", "```",
                    res["stderr"].rstrip()[-3000:], "```", ""]
    if missing:
        out += [f"Not present in this checkout: {', '.join(missing)}.", ""]
    if batch is not None:
        out += [
            "## MLP: time per epoch against minibatch size",
            "",
            f"64-{'-'.join(map(str, batch['hidden']))}-10 ReLU network, Adam lr=1e-3, float32, "
            f"{batch['n_train']} rows, {batch['epochs']} epoch(s) per fit, "
            f"{batch['threads']} thread(s), median of {batch['repeats']} interleaved fits "
            "(fit time / epochs, so validation and set-up are included for the estimators; "
            "the torch loop is hand-written, without scikit-learn's L2 term).",
            "",
            batch_table(batch),
            "",
        ]
        if plot_dir is not None:
            out += [f"![time per epoch against batch size]({link(BATCH_PNG)})", ""]
    if loss is not None:
        out += [
            "## Training loss against wall-clock time, per optimizer",
            "",
            f"MLPClassifier 64-64-10 on scikit-learn's digits ({loss['n_train']} training "
            f"rows, standardised), batch 32, {loss['epochs']} epochs, {loss['threads']} "
            f"thread(s), median epoch time of {loss['repeats']} interleaved fits. 'sgd', "
            "'nesterov' and 'adam' are scikit-learn's update formulas on both sides; the "
            "other solvers are fastopt.optim objects (PyTorch's rules).",
            "",
            loss_table(loss),
            "",
        ]
        if plot_dir is not None:
            out += [f"![training loss against time]({link(LOSS_PNG)})", ""]
    if plot_dir is None and (batch is not None or loss is not None):
        out += ["(matplotlib is not installed: no plots.)", ""]
    path.write_text("\n".join(out))


def _destination(args):
    """(report path, plot folder) for the parsed arguments."""
    if args.update_committed:
        return COMMITTED_REPORT, COMMITTED_PLOTS
    return args.out / "report.md", args.out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="pass --quick to every script; small measurements here")
    parser.add_argument("--scripts", nargs="*", default=None, metavar="NAME",
                        help="only these scripts (e.g. bench_mlp.py); none: skip the scripts")
    parser.add_argument("--no-measure", action="store_true",
                        help="skip this script's own measurements and plots")
    parser.add_argument("--repeats", type=int, default=3,
                        help="fits per measurement of this script, median (default: 3)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for this script's own measurements (default: 1)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--out", type=Path, default=SCRATCH,
                       help=f"scratch folder for report.md and the PNGs (default: {SCRATCH})")
    where.add_argument("--update-committed", action="store_true",
                       help="rewrite the committed report (benchmarks/REPORT.md) and its "
                       "PNGs in docs/ instead")
    args = parser.parse_args(argv)
    command = "python benchmarks/run_all.py" + "".join(
        f" {a}" for a in (argv if argv is not None else sys.argv[1:]))
    report, plot_dir = _destination(args)
    started = datetime.datetime.now(datetime.timezone.utc)
    start = time.perf_counter()
    report.parent.mkdir(parents=True, exist_ok=True)
    plot_dir.mkdir(parents=True, exist_ok=True)

    if args.scripts is not None and not args.scripts:
        scripts, missing = [], []
    else:
        scripts, missing = run_scripts(args.quick, args.scripts)
    batch = loss = None
    if not args.no_measure:
        print("measuring MLP time per epoch against batch size ...", flush=True)
        batch = bench_batch_sizes(args.quick, args.repeats, args.threads)
        print(batch_table(batch), flush=True)
        print("measuring loss against time per optimizer ...", flush=True)
        loss = bench_loss_vs_time(args.quick, args.repeats, args.threads)
        print(loss_table(loss), flush=True)
    drawn = None
    if batch is not None:
        try:
            import matplotlib
        except ImportError:
            print("matplotlib is not installed: no plots")
        else:
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            plot_batch_sizes(batch, plot_dir / BATCH_PNG, plt)
            plot_loss_vs_time(loss, plot_dir / LOSS_PNG, plt)
            drawn = plot_dir
    write_report(report, command, args.quick, scripts, missing, batch, loss, drawn, started,
                 time.perf_counter() - start)
    print(f"wrote {report}" + (f" and the plots in {drawn}" if drawn else ""))
    return 1 if any(r["returncode"] for r in scripts) else 0


if __name__ == "__main__":
    sys.exit(main())
