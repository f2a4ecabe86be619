# cython: language_level=3
"""Introspection of the OpenMP runtime fastopt was built with.

fastopt's compiled loops use ``omp_get_max_threads()`` threads, which
``OMP_NUM_THREADS`` and ``threadpoolctl.threadpool_limits`` control. Without
OpenMP support at build time every loop runs on one thread.
"""

cdef extern from "fo_config.h" nogil:
    int fo_omp_max_threads()

cdef extern from *:
    """
    #ifdef _OPENMP
    #define FO_OPENMP_ENABLED 1
    #else
    #define FO_OPENMP_ENABLED 0
    #endif
    """
    int FO_OPENMP_ENABLED


def openmp_enabled():
    """Whether fastopt was compiled with OpenMP."""
    return bool(FO_OPENMP_ENABLED)


def max_threads():
    """Number of threads fastopt's compiled loops use now."""
    return fo_omp_max_threads()
