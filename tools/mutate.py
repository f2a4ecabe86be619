"""Mutation testing: plant realistic bugs one at a time and check that the tests catch each.

Every mutant below is one search/replace patch on a C, Cython or Python source,
with the tests that must catch it. For each mutant the script copies the
committed tree (with its built extensions) to a scratch folder once, applies
the patch there, rebuilds the extensions the patch affects in place, runs the
mutant's tests with pytest, and reverts the source and the built files to the
unmutated ones (in a ``finally`` block) before the next mutant. The working
tree is never modified (an interrupted run leaves nothing behind but the
scratch folder, which is deleted); the script refuses to run when it has
uncommitted changes, so the table always describes a commit.

Before the first mutant the unmutated scratch tree must pass the tests of
every selected mutant, so that a failure means the mutant was caught.
Extensions are built with the project's own flags (-O3): at -O0 the
``omp simd`` reductions round differently, and the scikit-learn equivalence
tests fail (and one test crashed) on the unmutated tree.

A mutant is *killed* when pytest fails (or crashes) on it and *survived* when
its tests pass. Before anything is built the script checks that the search text
of every selected mutant occurs exactly once in today's sources, and stops with
an error naming the stale ones otherwise -- the code moved: update the patch so
that it plants the same bug in the moved code. Keep the list current, and add a
mutant whenever a real bug is fixed.

Usage::

    python tools/mutate.py                 # every mutant, each with its tests
    python tools/mutate.py --list          # the mutants and their tests
    python tools/mutate.py --check         # only check that every patch applies
    python tools/mutate.py --only NAME...  # a subset, in the order given
    python tools/mutate.py --all-tests     # the whole suite for every mutant (slow)

The tests listed per mutant are files or test ids of the suite that CI runs,
so a mutant killed here fails CI too. The result is printed as a Markdown kill
table naming the first test that failed on each mutant.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMPILED_SUFFIXES = (".pyx", ".pxd", ".h")
SOLVERS_TEST = "tests/test_sgd_solvers.py::"


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    search: str
    replace: str
    tests: tuple
    bug: str


MUTANTS = [
    # ---- Python (no rebuild)
    Mutant("mlp-shuffles-once", "fastopt/neural_network/_base.py",
           "batch_size, self.shuffle, gradient_norms=norms)",
           "batch_size, self.shuffle and n_iter == 0, gradient_norms=norms)",
           ("tests/test_epoch_shuffling.py",),
           "MLP shuffles before the first epoch only"),
    Mutant("nesterov-string-without-nesterov", "fastopt/linear_model/_sgd_training.py",
           '"nesterov": lambda: SGD(momentum=0.9, nesterov=True),',
           '"nesterov": lambda: SGD(momentum=0.9),',
           (SOLVERS_TEST + "test_string_solver_equals_its_documented_optimizer_object",),
           "solver='nesterov' runs classical momentum"),
    Mutant("adam-string-optimal-rate", "fastopt/linear_model/_sgd_training.py",
           "    if uses_default_rate(est):\n",
           '    if uses_default_rate(est) and solver != "adam":\n',
           (SOLVERS_TEST + "test_string_solver_equals_its_documented_optimizer_object",),
           "solver='adam' at the default learning_rate='optimal' runs at eta0, not at "
           "Adam's default rate"),
    Mutant("early-stopping-keeps-last-weights", "fastopt/neural_network/_base.py",
           "            params[:] = best_params\n", "            pass\n",
           ("tests/test_mlp_reference.py",),
           "early stopping returns the last weights, not the best"),
    Mutant("lr-find-suggests-the-minimum", "fastopt/_lr_find.py",
           "return float(lrs[i_min] / 10.0)", "return float(lrs[i_min])",
           ("tests/test_lr_find.py",),
           "lr_find suggests the rate at the smoothed minimum, not a tenth of it"),
    Mutant("getstate-edits-live-instance", "fastopt/neural_network/_base.py",
           "state = dict(super().__getstate__())", "state = super().__getstate__()",
           ("tests/test_workflows.py::test_pickling_leaves_the_pickled_estimator_trainable",
            "tests/test_workflows.py::"
            "test_serialising_leaves_every_attribute_of_the_estimator_in_place"),
           "pickling an MLP deletes its flat parameter buffer from the live estimator "
           "(a bug fixed earlier)"),

    # ---- Cython (rebuilds one module)
    Mutant("minibatch-sample-weight-ignored", "fastopt/linear_model/_sgd_fast.pyx",
           "cdef double w = (<const floating*> self.sw)[i]",
           "cdef double w = 1.0",
           ("tests/test_sgd_minibatch_weights.py",),
           "the minibatch engine ignores sample_weight"),
    Mutant("minibatch-class-weight-ignored", "fastopt/linear_model/_sgd_fast.pyx",
           "z[k] = dz * w * (self.wpos[k] if yk > 0 else self.wneg[k])",
           "z[k] = dz * w",
           ("tests/test_sgd_minibatch_weights.py",),
           "the minibatch engine ignores class_weight (one-vs-rest outputs)"),
    Mutant("multinomial-class-weight-ignored", "fastopt/linear_model/_sgd_fast.pyx",
           "            w *= self.wpos[cls]\n", "",
           ("tests/test_sgd_minibatch_weights.py",),
           "the multinomial loss ignores class_weight"),
    Mutant("plain-sgd-shuffles-once", "fastopt/linear_model/_sgd_fast.pyx",
           "        if self.shuffle and self.order.shape[0] > 0:\n"
           "            fo_rng_shuffle(&self.rng, &self.order[0], self.order.shape[0])\n",
           "        if self.shuffle and self.order.shape[0] > 0:\n"
           "            fo_rng_shuffle(&self.rng, &self.order[0], self.order.shape[0])\n"
           "            self.shuffle = False\n",
           ("tests/test_epoch_shuffling.py",),
           "per-sample SGD shuffles before the first epoch only"),
    Mutant("minibatch-sgd-shuffles-once", "fastopt/linear_model/_sgd_fast.pyx",
           "        cdef double total, penalty\n"
           "        if self.shuffle:\n"
           "            fo_rng_shuffle(&self.rng, &self.order[0], self.order.shape[0])\n",
           "        cdef double total, penalty\n"
           "        if self.shuffle:\n"
           "            fo_rng_shuffle(&self.rng, &self.order[0], self.order.shape[0])\n"
           "            self.shuffle = False\n",
           ("tests/test_epoch_shuffling.py",),
           "minibatch SGD shuffles before the first epoch only"),
    Mutant("dropout-logistic-derivative", "fastopt/neural_network/_mlp_fast.pyx",
           "        return a * (1 - a)\n", "        return 1 - a\n",
           ("tests/test_mlp_dropout_gradient.py",),
           "wrong logistic derivative behind a dropout mask"),
    Mutant("tanh-derivative", "fastopt/neural_network/_mlp_fast.pyx",
           "            D[i] *= 1 - A[i] * A[i]\n", "            D[i] *= 1 - A[i]\n",
           ("tests/test_mlp_gradient.py",),
           "wrong tanh derivative in backpropagation"),
    Mutant("dropout-without-inverted-scale", "fastopt/neural_network/_mlp_fast.pyx",
           "mask[i] = keep_scale if fo_rng_uniform(rng) >= net.dropout else 0",
           "mask[i] = 1 if fo_rng_uniform(rng) >= net.dropout else 0",
           ("tests/test_mlp_dropout_gradient.py",),
           "dropout keeps units without the 1/(1-p) scale"),
    Mutant("mlp-sample-weight-ignored", "fastopt/neural_network/_mlp_fast.pyx",
           "            wb[i] = sw[rows[i]]\n", "            wb[i] = 1\n",
           ("tests/test_mlp_gradient.py",),
           "MLP minibatches ignore sample_weight"),
    Mutant("lbfgs-gradient-keeps-last-chunk", "fastopt/neural_network/_mlp_fast.pyx",
           "_run_grads(net, inp, order + start, m, grads, scale, start > 0, NULL, n_threads)",
           "_run_grads(net, inp, order + start, m, grads, scale, False, NULL, n_threads)",
           ("tests/test_mlp_gradient.py",),
           "the full-batch (L-BFGS) gradient keeps only the last row chunk"),
    Mutant("row-block-targets-not-offset", "fastopt/neural_network/_mlp_fast.pyx",
           "_output_loss_delta(net.out, Z, <const floating*> net.y + i0 * k, sw, nr, k,",
           "_output_loss_delta(net.out, Z, <const floating*> net.y, sw, nr, k,",
           ("tests/test_mlp_reference.py",),
           "every row block of a minibatch reads the first block's targets"),
    Mutant("row-block-weights-not-offset", "fastopt/neural_network/_mlp_fast.pyx",
           "        sw = <const floating*> net.sw + i0\n",
           "        sw = <const floating*> net.sw\n",
           ("tests/test_mlp_reference.py::test_sample_weight_matches_sklearn",),
           "every row block of a minibatch reads the first block's sample weights"),
    Mutant("lr-range-schedule-exponent", "fastopt/_range_test.pxd",
           "pow(r.max_lr / r.min_lr, <double> i / <double> (r.n_steps - 1))",
           "pow(r.max_lr / r.min_lr, <double> i / <double> r.n_steps)",
           ("tests/test_lr_find.py",),
           "the range test's geometric rates end one step short of max_lr"),
    Mutant("lr-range-sgd-rate-not-set", "fastopt/linear_model/_sgd_fast.pyx",
           "                        cfg.lr = range_rate(rt, it)\n",
           "                        pass\n",
           ("tests/test_lr_find.py",),
           "the linear models' range test records the rates but steps at eta0"),
    Mutant("clip-by-squared-norm", "fastopt/optim/_rules.pyx",
           "c.gscale = cfg.clip_norm / (sqrt(grad_sumsq) + 1e-6)",
           "c.gscale = cfg.clip_norm / (grad_sumsq + 1e-6)",
           (SOLVERS_TEST + "test_gradient_clipping_from_the_optimizer_matches_numpy_reference",),
           "global-norm clipping divides by the squared norm"),
    # ---- C headers (rebuild every module that includes them)
    Mutant("modified-huber-sign", "csrc/fo_sgd.h",
           "if (z >= -1.0) return 2.0 * (1.0 - z) * -y;",
           "if (z >= -1.0) return 2.0 * (1.0 - z) * y;",
           ("tests/test_sgd_reference.py",),
           "modified Huber derivative with the wrong sign"),
    Mutant("l1-truncation-skipped", "csrc/fo_sgd_impl.h",
           "        FO_NAME(fo_sgd_l1)(ind, nnz, w, q, st->u, st->wscale);\n", "",
           ("tests/test_sgd_reference.py",),
           "per-sample SGD never applies the cumulative L1 truncation"),
    Mutant("adam-eps-inside-sqrt", "csrc/fo_rules_impl.h",
           "p[i] = pi * decay - step * mi / (FO_SQRT(vi) * ibc2s + eps);",
           "p[i] = pi * decay - step * mi / FO_SQRT(vi * ibc2s * ibc2s + eps);",
           ("tests/test_optim_rules.py",),
           "Adam adds eps under the square root of v_hat"),
    Mutant("rmsprop-not-centered", "csrc/fo_rules_impl.h",
           "            v -= ga * ga;\n", "",
           ("tests/test_optim_rules.py",),
           "centered RMSprop does not subtract the squared gradient average"),
]


class StaleMutant(ValueError):
    """A mutant whose search text does not occur exactly once in its file."""


def _mutated(text, mutant):
    """``text`` with ``mutant``'s patch applied; raises StaleMutant unless the
    search text occurs exactly once."""
    count = text.count(mutant.search)
    if count != 1:
        raise StaleMutant(f"{mutant.name}: the search text occurs {count} times in "
                          f"{mutant.path} (expected once); update the patch")
    return text.replace(mutant.search, mutant.replace)


def stale_mutants(root, mutants):
    """Messages for the mutants whose patch does not apply to the sources in ``root``."""
    messages = []
    for mutant in mutants:
        try:
            _mutated((root / mutant.path).read_text(), mutant)
        except StaleMutant as error:
            messages.append(str(error))
    return messages


def _git(*args):
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True,
                          text=True).stdout


def _artefacts(root):
    """Built and generated files of the tree: extension modules and Cython's C
    sources, in place and in build/lib* (setuptools builds there, copies in place,
    and decides what is out of date from the modules in build/lib*), and the
    headers and .pxi files (setup.py generates some, untracked, from the rule
    table; copied with their times, they do not make every module look stale)."""
    in_place = [p for p in (root / "fastopt").rglob("*")
                if p.suffix in (".so", ".pxi")
                or (p.suffix == ".c" and p.with_suffix(".pyx").exists())]
    return sorted(in_place + list((root / "csrc").glob("*.h"))
                  + list(root.glob("build/lib*/fastopt/**/*.so")))


def _copy_tree(dest):
    """Tracked files plus built extensions, modification times kept (so that an
    up-to-date build stays up to date in the copy)."""
    for rel in _git("ls-files", "-z").split("\0"):
        if rel and (ROOT / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)
    for path in _artefacts(ROOT):
        (dest / path.relative_to(ROOT)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest / path.relative_to(ROOT))


def _build(tree):
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace", "-q"],
                            cwd=tree, capture_output=True, text=True)
    return result.returncode == 0, result.stdout + result.stderr, time.perf_counter() - start


def _imported_package(tree):
    """Folder of the fastopt package that Python started in ``tree`` imports (it must be
    the tree's own, not an installed one, or every mutant would survive)."""
    result = subprocess.run([sys.executable, "-c", "import fastopt; print(fastopt.__file__)"],
                            cwd=tree, capture_output=True, text=True, check=True)
    return Path(result.stdout.strip()).resolve().parent


def _headers_included(text, csrc):
    """Headers of ``csrc`` included by ``text``, transitively."""
    found, todo = set(), re.findall(r'#include "(\w+\.h)"', text)
    while todo:
        name = todo.pop()
        if name not in found and (csrc / name).exists():
            found.add(name)
            todo += re.findall(r'#include "(\w+\.h)"', (csrc / name).read_text())
    return found


def _spare_unaffected_modules(tree, header):
    """Mark the extension modules that do not include ``header`` as up to date.

    setup.py makes every module depend on every header; this keeps a header
    mutant from rebuilding modules whose code it cannot change.
    """
    for c_file in (tree / "fastopt").rglob("*.c"):
        if header not in _headers_included(c_file.read_text(errors="replace"), tree / "csrc"):
            package = c_file.parent.relative_to(tree)
            for folder in [tree, *tree.glob("build/lib*")]:
                for so in (folder / package).glob(c_file.stem + ".*so"):
                    os.utime(so)


def _pytest(tree, tests):
    """Run ``tests`` in ``tree`` up to the first failure; return pytest's exit code,
    its summary line, the failing test ids and the seconds taken."""
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-rfE", "-p", "no:cacheprovider", *tests]
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=tree, capture_output=True, text=True)
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    failed = [line.split()[1] for line in lines if line.startswith(("FAILED ", "ERROR "))]
    return result.returncode, lines[-1] if lines else "", failed, time.perf_counter() - start


def _verdict(returncode):
    if returncode == 0:
        return "SURVIVED"
    if returncode == 1 or returncode < 0:
        return "killed" if returncode == 1 else f"killed (crash, signal {-returncode})"
    return f"error (pytest exit {returncode})"


def run_mutant(tree, backup, mutant, all_tests):
    """Apply ``mutant`` in ``tree``, rebuild, test, revert. Returns a result row."""
    source = tree / mutant.path
    original = source.read_bytes()
    stat = source.stat()
    mutated = _mutated(original.decode(), mutant)
    try:
        source.write_text(mutated)
        build_seconds = 0.0
        if source.suffix in COMPILED_SUFFIXES:
            if source.suffix == ".h":
                _spare_unaffected_modules(tree, source.name)
            ok, log, build_seconds = _build(tree)
            if not ok:
                return dict(mutant=mutant, verdict="build failed", detail=log.strip()[-200:],
                            killed_by="", build_seconds=build_seconds, seconds=0.0)
        code, summary, failed, seconds = _pytest(
            tree, ("tests",) if all_tests else mutant.tests)
        return dict(mutant=mutant, verdict=_verdict(code), detail=summary,
                    killed_by=failed[0] if failed else "",
                    build_seconds=build_seconds, seconds=seconds)
    finally:
        source.write_bytes(original)
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        for saved in backup.rglob("*"):
            if saved.is_file():
                shutil.copy2(saved, tree / saved.relative_to(backup))


def print_table(rows):
    """The kill table, as Markdown."""
    print("\n| mutant | file | bug planted | verdict | killed by | build s | tests s |")
    print("|---|---|---|---|---|---:|---:|")
    for row in rows:
        m = row["mutant"]
        print(f"| {m.name} | `{m.path}` | {m.bug} | {row['verdict']} | "
              f"{'`' + row['killed_by'] + '`' if row['killed_by'] else row['detail']} | "
              f"{row['build_seconds']:.0f} | {row['seconds']:.0f} |")
    killed = sum(row["verdict"].startswith("killed") for row in rows)
    print(f"\n{killed} of {len(rows)} mutants killed")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="run these mutants only, in this order")
    parser.add_argument("--check", action="store_true",
                        help="check that every mutant's patch applies, and exit")
    parser.add_argument("--all-tests", action="store_true",
                        help="run the whole suite for every mutant instead of its tests")
    args = parser.parse_args(argv)
    mutants = MUTANTS
    if args.only:
        unknown = set(args.only) - {m.name for m in MUTANTS}
        if unknown:
            parser.error(f"unknown mutants: {', '.join(sorted(unknown))} (see --list)")
        by_name = {m.name: m for m in MUTANTS}
        mutants = [by_name[name] for name in dict.fromkeys(args.only)]
    if args.list:
        for m in mutants:
            print(f"{m.name:<36} {m.path}: {m.bug}\n{'':<36} tests: {' '.join(m.tests)}")
    stale = stale_mutants(ROOT, mutants)
    if stale:
        print("stale mutants (their code moved):\n  " + "\n  ".join(stale), file=sys.stderr)
        return 2
    if args.list or args.check:
        return 0
    if _git("status", "--porcelain", "--untracked-files=no").strip():
        print("refusing to run: the working tree has uncommitted changes (commit or stash "
              "them, so that the table describes a commit)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="fastopt-mutate-") as scratch:
        tree, backup = Path(scratch) / "tree", Path(scratch) / "built"
        _copy_tree(tree)
        ok, log, _ = _build(tree)
        if not ok:
            print(f"the unmutated tree does not build:\n{log}", file=sys.stderr)
            return 2
        imported = _imported_package(tree)
        if imported != (tree / "fastopt").resolve():
            print(f"Python in {tree} imports {imported}, not the tree's fastopt",
                  file=sys.stderr)
            return 2
        tests = ("tests",) if args.all_tests else sorted({t for m in mutants for t in m.tests})
        code, summary, failed, _ = _pytest(tree, tests)
        print(f"unmutated tree: {summary}", flush=True)
        if code != 0:
            print(f"the unmutated tree fails the mutants' tests (pytest exit {code}: "
                  f"{' '.join(failed)}): fix that first", file=sys.stderr)
            return 2
        for path in _artefacts(tree):
            (backup / path.relative_to(tree)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, backup / path.relative_to(tree))
        rows = []
        for mutant in mutants:
            row = run_mutant(tree, backup, mutant, args.all_tests)
            print(f"{mutant.name}: {row['verdict']} {row['killed_by']} {row['detail']} "
                  f"(build {row['build_seconds']:.0f} s, tests {row['seconds']:.0f} s)",
                  flush=True)
            rows.append(row)
    print_table(rows)
    return 0 if all(row["verdict"].startswith("killed") for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
