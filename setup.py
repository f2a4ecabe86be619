"""Build script for fastopt's compiled modules.

Every ``.pyx`` file below ``fastopt/`` becomes one extension module. Compiler
flags are chosen at build time:

* ``-O3 -fno-math-errno`` so that loops calling ``sqrt`` vectorise (GCC's
  default ``-fmath-errno`` keeps them scalar). No ``-ffast-math``: the NaN
  checks in the estimators depend on IEEE semantics.
* ``-ffp-contract=off``: no silent fusion of ``a*b + c`` into an FMA, so the
  AVX2 and baseline code paths round identically (results do not depend on
  the CPU) and a centered RMSprop variance ``v - a*a`` never rounds below 0.
* AVX2 is *not* switched on for the whole module. The hot element-wise
  kernels in ``csrc/fo_rules.h`` are compiled twice through GCC/Clang
  function multi-versioning (``target_clones``) and the loader picks the
  variant the CPU supports, so one binary runs on any x86-64.
* OpenMP is used when a test compile with ``-fopenmp`` succeeds; otherwise
  (e.g. Apple clang) the package builds and ``prange`` loops run serially.
* GCC and Clang only: the kernels rely on their function multi-versioning
  and flags, and no other compiler is built or tested here.

Before Cython runs, ``fastopt/optim/_rule_codegen.py`` writes the C and
Cython declarations that follow from the table of update rules
(``fastopt/optim/_rule_table.py``).
"""

import os
import runpy
import sys
import tempfile
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).parent
CSRC = ROOT / "csrc"

OPENMP_PROBE = r"""
#include <omp.h>
int main(void) {
    int n = 0;
    #pragma omp parallel reduction(+:n)
    n += 1;
    return n > 0 ? 0 : 1;
}
"""


# glibc's vector math library (libmvec): the activation kernels (csrc/fo_mlp_act.c)
# call its erf/exp/expm1 when it links.
LIBMVEC_PROBE = r"""
#include <stddef.h>
__attribute__((__simd__("notinbranch"))) extern double erf(double);
double x[64];
int main(void) {
    for (ptrdiff_t i = 0; i < 64; i++) x[i] = erf(x[i]);
    return x[0] != 0.0;
}
"""

# C sources compiled into an extension beside its Cython module.
EXTRA_SOURCES = {"fastopt.neural_network._mlp_fast": ["csrc/fo_mlp_act.c"]}


def _compiles(compiler, source, extra_args):
    """Return True if ``source`` compiles and links with ``extra_args``."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write(source)
        try:
            objects = compiler.compile([src], output_dir=tmp, extra_postargs=extra_args)
            compiler.link_executable(
                objects, os.path.join(tmp, "probe"), extra_postargs=extra_args
            )
        except Exception:
            return False
    return True


class BuildExt(build_ext):
    """``build_ext`` that picks optimisation and OpenMP flags for the compiler."""

    def build_extensions(self):
        if self.compiler.compiler_type == "msvc":
            raise RuntimeError(
                "fastopt builds with GCC or Clang only (its kernels use their function "
                "multi-versioning); on Windows use MinGW-w64 (python setup.py build_ext --compiler=mingw32)"
            )
        compile_args = ["-O3", "-fno-math-errno", "-ffp-contract=off", "-Wno-unused-function"]
        link_args = []
        if os.environ.get("FASTOPT_NO_OPENMP") != "1" and _compiles(
            self.compiler, OPENMP_PROBE, ["-fopenmp"]
        ):
            compile_args.append("-fopenmp")
            link_args.append("-fopenmp")
        else:
            print("fastopt: OpenMP not available, building serial loops", file=sys.stderr)
        libmvec = ["-O3", "-fno-math-errno", "-lmvec"]
        if _compiles(self.compiler, LIBMVEC_PROBE, libmvec):
            compile_args.append("-DFO_HAVE_LIBMVEC")
            link_args.append("-lmvec")
        else:
            print("fastopt: libmvec not available, scalar erf/exp in the activations",
                  file=sys.stderr)
        for ext in self.extensions:
            ext.extra_compile_args = compile_args + ext.extra_compile_args
            ext.extra_link_args = link_args + ext.extra_link_args
        super().build_extensions()


def _extensions():
    runpy.run_path(str(ROOT / "fastopt" / "optim" / "_rule_codegen.py"))["generate"]()
    extensions = []
    for pyx in sorted((ROOT / "fastopt").rglob("*.pyx")):
        rel = pyx.relative_to(ROOT)
        name = ".".join(rel.with_suffix("").parts)
        extensions.append(
            Extension(
                name,
                [str(rel), *EXTRA_SOURCES.get(name, [])],
                include_dirs=[np.get_include(), str(CSRC.relative_to(ROOT))],
                define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
                # an edited kernel header rebuilds the modules that include it
                depends=[str(h.relative_to(ROOT)) for h in sorted(CSRC.glob("*.h"))],
            )
        )
    return cythonize(
        extensions,
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    )


setup(ext_modules=_extensions(), cmdclass={"build_ext": BuildExt})
