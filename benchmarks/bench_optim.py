"""Time per optimizer step: fastopt vs in-place NumPy vs torch.optim.

One flat parameter array of n elements and one gradient array; every
implementation updates its own copy of the parameters and state in place
from the same gradient. Implementations:

- ``fastopt``: ``opt.step(params, grad, state)`` (the Python call included),
- ``numpy``: the same update written with ``out=`` arguments and one scratch
  array (no temporaries), checked against fastopt before timing (the five
  original rules only),
- ``torch fused``: ``torch.optim.X(..., fused=True)`` where torch has a fused
  CPU kernel (SGD, Adam, AdamW, Adagrad; not RMSprop and none of the rules
  added from the rule table),
- ``torch foreach``: ``foreach=True`` (torch's CPU default is the
  single-tensor loop, which on one flat tensor runs the same per-op passes);
  every rule but Lion, which torch does not have.

Implementations are interleaved inside the repetition loop (order rotated
every repetition) and the median over repetitions is reported, with the
effective bandwidth of fastopt (bytes moved per parameter: e.g. Adam reads
p, g, m, v and writes p, m, v: 7 values, 28 bytes in float32). Threads:
``threadpoolctl.threadpool_limits`` for fastopt and ``torch.set_num_threads``
for torch (NumPy's element-wise ops are single-threaded anyway).

Usage::

    python benchmarks/bench_optim.py            # full run (a few minutes)
    python benchmarks/bench_optim.py --quick    # < 1 minute
    python benchmarks/bench_optim.py --sizes 1e6 1e7 --dtypes float32 \\
        --threads 1 --optimizers adam adamw
"""

import argparse
import datetime
import os
import platform
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

import fastopt.optim as fo

try:
    import torch
except ImportError:  # torch is an optional peer
    torch = None

LR = 1e-3


class NumpySGD:
    """SGD with momentum (PyTorch's rule, dampening 0) with in-place NumPy ops."""

    def __init__(self, params, momentum=0.9):
        self.mu = momentum
        self.buf = np.zeros_like(params)
        self.tmp = np.empty_like(params)
        self.t = 0

    def step(self, p, g):
        self.t += 1
        if self.t == 1:
            np.copyto(self.buf, g)
        else:
            np.multiply(self.buf, self.mu, out=self.buf)
            np.add(self.buf, g, out=self.buf)
        np.multiply(self.buf, LR, out=self.tmp)
        np.subtract(p, self.tmp, out=p)


class NumpyAdam:
    """Adam (decoupled=True: AdamW) with in-place NumPy ops."""

    def __init__(self, params, weight_decay=0.0, decoupled=False,
                 beta1=0.9, beta2=0.999, eps=1e-8):
        self.b1, self.b2, self.eps = beta1, beta2, eps
        self.wd, self.decoupled = weight_decay, decoupled
        self.m = np.zeros_like(params)
        self.v = np.zeros_like(params)
        self.tmp = np.empty_like(params)
        self.t = 0

    def step(self, p, g):
        self.t += 1
        tmp = self.tmp
        if self.decoupled:
            np.multiply(p, 1.0 - LR * self.wd, out=p)
        np.multiply(self.m, self.b1, out=self.m)        # m = b1 m + (1 - b1) g
        np.multiply(g, 1.0 - self.b1, out=tmp)
        np.add(self.m, tmp, out=self.m)
        np.multiply(g, g, out=tmp)                      # v = b2 v + (1 - b2) g^2
        np.multiply(tmp, 1.0 - self.b2, out=tmp)
        np.multiply(self.v, self.b2, out=self.v)
        np.add(self.v, tmp, out=self.v)
        # p -= s m / (sqrt(v) / sqrt(bc2) + eps) with s = lr / bc1, as
        # p -= m / (sqrt(v) / (s sqrt(bc2)) + eps / s): two passes fewer.
        step = LR / (1.0 - self.b1 ** self.t)
        np.sqrt(self.v, out=tmp)
        np.multiply(tmp, 1.0 / (step * np.sqrt(1.0 - self.b2 ** self.t)), out=tmp)
        np.add(tmp, self.eps / step, out=tmp)
        np.divide(self.m, tmp, out=tmp)
        np.subtract(p, tmp, out=p)


class NumpyRMSprop:
    """RMSprop (not centered, no momentum) with in-place NumPy ops."""

    def __init__(self, params, alpha=0.99, eps=1e-8):
        self.alpha, self.eps = alpha, eps
        self.v = np.zeros_like(params)
        self.tmp = np.empty_like(params)

    def step(self, p, g):
        tmp = self.tmp
        np.multiply(g, g, out=tmp)
        np.multiply(tmp, 1.0 - self.alpha, out=tmp)
        np.multiply(self.v, self.alpha, out=self.v)
        np.add(self.v, tmp, out=self.v)
        np.sqrt(self.v, out=tmp)
        np.add(tmp, self.eps, out=tmp)
        np.divide(g, tmp, out=tmp)
        np.multiply(tmp, LR, out=tmp)
        np.subtract(p, tmp, out=p)


class NumpyAdagrad:
    """Adagrad (no lr decay) with in-place NumPy ops."""

    def __init__(self, params, eps=1e-10):
        self.eps = eps
        self.s = np.zeros_like(params)
        self.tmp = np.empty_like(params)

    def step(self, p, g):
        tmp = self.tmp
        np.multiply(g, g, out=tmp)
        np.add(self.s, tmp, out=self.s)
        np.sqrt(self.s, out=tmp)
        np.add(tmp, self.eps, out=tmp)
        np.divide(g, tmp, out=tmp)
        np.multiply(tmp, LR, out=tmp)
        np.subtract(p, tmp, out=p)


# name -> (fastopt optimizer, NumPy class and kwargs or None, torch class name and
#          kwargs or None, values moved per parameter per step)
OPTIMIZERS = {
    "sgd-momentum": (lambda: fo.SGD(lr=LR, momentum=0.9), (NumpySGD, {}),
                     ("SGD", dict(lr=LR, momentum=0.9)), 5),
    "adam": (lambda: fo.Adam(lr=LR), (NumpyAdam, {}), ("Adam", dict(lr=LR)), 7),
    "adamw": (lambda: fo.AdamW(lr=LR), (NumpyAdam, dict(weight_decay=1e-2, decoupled=True)),
              ("AdamW", dict(lr=LR)), 7),
    "rmsprop": (lambda: fo.RMSprop(lr=LR), (NumpyRMSprop, {}), ("RMSprop", dict(lr=LR)), 5),
    "adagrad": (lambda: fo.Adagrad(lr=LR), (NumpyAdagrad, {}), ("Adagrad", dict(lr=LR)), 5),
    "adadelta": (lambda: fo.Adadelta(), None, ("Adadelta", {}), 7),
    "adamax": (lambda: fo.Adamax(lr=LR), None, ("Adamax", dict(lr=LR)), 7),
    "radam": (lambda: fo.RAdam(lr=LR), None, ("RAdam", dict(lr=LR)), 7),
    "rprop": (lambda: fo.Rprop(), None, ("Rprop", {}), 7),
    # ASGD before its averaging starts (t0 = 1e6 steps) writes ax = p: p and g read,
    # p and ax written.
    "asgd": (lambda: fo.ASGD(), None, ("ASGD", {}), 4),
    "lion": (lambda: fo.Lion(), None, None, 5),
}
TORCH_FUSED_CPU = {"SGD", "Adam", "AdamW", "Adagrad"}
IMPLS = ["fastopt", "numpy", "torch fused", "torch foreach"]


def make_steppers(name, params0, grad):
    """One zero-argument step function per implementation, each on its own copy."""
    make_fo, numpy_impl, torch_impl, _ = OPTIMIZERS[name]
    steppers = {}

    opt = make_fo()
    p_fo = params0.copy()
    state = opt.init(p_fo)
    steppers["fastopt"] = lambda: opt.step(p_fo, grad, state)

    if numpy_impl is not None:
        np_cls, np_kwargs = numpy_impl
        p_np = params0.copy()
        np_opt = np_cls(p_np, **np_kwargs)
        steppers["numpy"] = lambda: np_opt.step(p_np, grad)

    if torch is not None and torch_impl is not None:
        torch_name, torch_kwargs = torch_impl
        tgrad = torch.from_numpy(grad)
        cls = getattr(torch.optim, torch_name)
        variants = {"torch foreach": dict(foreach=True)}
        if torch_name in TORCH_FUSED_CPU:
            variants["torch fused"] = dict(fused=True)
        for label, flags in variants.items():
            tp = torch.nn.Parameter(torch.from_numpy(params0.copy()))
            tp.grad = tgrad
            steppers[label] = cls([tp], **torch_kwargs, **flags).step
    return steppers


def check_numpy_matches_fastopt():
    """The NumPy implementations do the same work as fastopt (5 float64 steps)."""
    rng = np.random.default_rng(0)
    for name, (make_fo, numpy_impl, _, _) in OPTIMIZERS.items():
        if numpy_impl is None:
            continue
        params0 = rng.standard_normal(1000)
        grads = rng.standard_normal((5, 1000))
        np_cls, np_kwargs = numpy_impl
        opt, p_fo, p_np = make_fo(), params0.copy(), params0.copy()
        state, np_opt = opt.init(p_fo), np_cls(p_np, **np_kwargs)
        for g in grads:
            opt.step(p_fo, g, state)
            np_opt.step(p_np, g)
        np.testing.assert_allclose(p_np, p_fo, rtol=1e-10, err_msg=name)


def time_interleaved(steppers, n_calls, repeats, warmup=3):
    """Median seconds per call of each stepper; implementations alternate in every repetition."""
    names = list(steppers)
    for name in names:
        for _ in range(warmup):
            steppers[name]()
    samples = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            step = steppers[name]
            t0 = time.perf_counter()
            for _ in range(n_calls):
                step()
            samples[name].append((time.perf_counter() - t0) / n_calls)
    return {name: statistics.median(s) for name, s in samples.items()}


def set_threads(n_threads):
    """Thread count for torch (fastopt's is set by threadpool_limits around the run)."""
    if torch is not None:
        torch.set_num_threads(n_threads)


def fmt_time(seconds):
    """Seconds as us/ms with 3 significant digits ("n/a" when not measured)."""
    if seconds is None:
        return "n/a"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} us"
    return f"{seconds * 1e3:.3g} ms"


def fmt_ratio(a, b):
    """a / b with 2 decimals ("n/a" when either is missing)."""
    return "n/a" if a is None or b is None else f"{a / b:.2f}"


def run_grid(args):
    """Time every size x dtype x thread count x optimizer; print and return the rows."""
    rows = []
    rng = np.random.default_rng(0)
    for n in args.sizes:
        for dtype in args.dtypes:
            params0 = rng.standard_normal(n).astype(dtype)
            grad = (0.01 * rng.standard_normal(n)).astype(dtype)
            n_calls = max(1, 2_000_000 // n)
            for n_threads in args.threads:
                for name in args.optimizers:
                    steppers = make_steppers(name, params0, grad)
                    set_threads(n_threads)
                    with threadpool_limits(limits=n_threads):
                        med = time_interleaved(steppers, n_calls, args.repeats)
                    values = OPTIMIZERS[name][3]
                    gbs = values * np.dtype(dtype).itemsize * n / med["fastopt"] / 1e9
                    row = dict(optimizer=name, dtype=np.dtype(dtype).name, n=n,
                               threads=n_threads, gbs=gbs,
                               **{impl: med.get(impl) for impl in IMPLS})
                    rows.append(row)
                    print_row(row, flush=True)
                    del steppers  # free these buffers before the next set is allocated
    return rows


HEADER = ("| optimizer | dtype | params | threads | fastopt | numpy | torch fused | torch foreach "
          "| fastopt GB/s | fastopt / torch fused | numpy / fastopt |")


def print_row(row, flush=False):
    """One markdown table row."""
    print(f"| {row['optimizer']} | {row['dtype']} | {row['n']:,} | {row['threads']} "
          f"| {fmt_time(row['fastopt'])} | {fmt_time(row['numpy'])} "
          f"| {fmt_time(row['torch fused'])} | {fmt_time(row['torch foreach'])} "
          f"| {row['gbs']:.1f} | {fmt_ratio(row['fastopt'], row['torch fused'])} "
          f"| {fmt_ratio(row['numpy'], row['fastopt'])} |", flush=flush)


def small_adam_call(repeats, n=10_000, n_calls=2000):
    """Per-call time of a 10k-parameter float32 Adam step on one thread, Python call included."""
    rng = np.random.default_rng(1)
    params0 = rng.standard_normal(n).astype(np.float32)
    grad = (0.01 * rng.standard_normal(n)).astype(np.float32)
    steppers = make_steppers("adam", params0, grad)
    p = params0.copy()
    state = fo.Adam(lr=LR).init(p)
    steppers = {"fastopt opt.step": steppers.pop("fastopt"),
                "fastopt state.step": lambda: state.step(p, grad),
                **{k: v for k, v in steppers.items() if k.startswith("torch")}}
    set_threads(1)
    with threadpool_limits(limits=1):
        return time_interleaved(steppers, n_calls, repeats)


def check_targets(rows, small):
    """The performance targets of this benchmark, with the measured values."""
    out = []
    for dtype in ("float32", "float64"):
        row = next((r for r in rows if r["optimizer"] == "adam" and r["n"] == 10_000_000
                    and r["threads"] == 1 and r["dtype"] == dtype), None)
        if row is not None and row["torch fused"] is not None:
            ratio = row["fastopt"] / row["torch fused"]
            out.append((f"Adam 10M {dtype} 1 thread: fastopt / torch fused <= 1.0",
                        f"{ratio:.2f}", ratio <= 1.0))
    row = next((r for r in rows if r["optimizer"] == "adam" and r["n"] == 10_000_000
                and r["threads"] == 1 and r["dtype"] == "float32"), None)
    if row is not None:
        ratio = row["numpy"] / row["fastopt"]
        out.append(("Adam 10M float32 1 thread: numpy / fastopt >= 8", f"{ratio:.1f}",
                    ratio >= 8.0))
    t = small["fastopt opt.step"]
    out.append(("Adam 10k float32 step (Python call included) < 5 us", fmt_time(t), t < 5e-6))
    return out


def load_average():
    """1/5/15-minute load averages (other jobs on the machine skew the timings)."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="10k and 1M float32 parameters, 1 thread, 5 repeats (< 1 min)")
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e4, 1e6, 1e7])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"],
                        choices=["float32", "float64"])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--optimizers", nargs="+", default=list(OPTIMIZERS),
                        choices=list(OPTIMIZERS))
    parser.add_argument("--repeats", type=int, default=11)
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.dtypes, args.threads, args.repeats = [1e4, 1e6], ["float32"], [1], 5
    args.sizes = [int(s) for s in args.sizes]
    args.dtypes = [np.dtype(d).type for d in args.dtypes]
    return args


def main():
    args = parse_args()
    check_numpy_matches_fastopt()
    started = time.perf_counter()
    print(f"# fastopt optimizer step benchmark, "
          f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"numpy {np.__version__}, torch {torch.__version__ if torch else 'not installed'}")
    print(f"# load average at start: {load_average()}")
    print(f"# median of {args.repeats} interleaved repetitions; time per step; "
          f"GB/s = values moved per parameter x itemsize x n / fastopt time\n")
    print(HEADER)
    print("|" + "---|" * (HEADER.count("|") - 1))
    rows = run_grid(args)
    small = small_adam_call(args.repeats)
    print("\nAdam, 10,000 float32 parameters, 1 thread, per call (Python call included):\n")
    print("| implementation | time per step |\n|---|---|")
    for name, t in small.items():
        print(f"| {name} | {fmt_time(t)} |")
    print("\nTargets:\n")
    print("| target | measured | met |\n|---|---|---|")
    for target, measured, met in check_targets(rows, small):
        print(f"| {target} | {measured} | {'yes' if met else 'NO'} |")
    print(f"\n# total {time.perf_counter() - started:.0f} s, load average at end: {load_average()}")


if __name__ == "__main__":
    main()
