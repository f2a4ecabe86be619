# cython: language_level=3
"""Threads of fastopt's compiled loops: how many, when, and the pool that runs them.

Every parallel loop in fastopt is a job of fixed blocks handed to
``run_blocks``; the block layout depends on the data only, and the caller
adds the blocks' partial results in block order, so results do not depend on
the thread count. ``run_blocks`` runs on the worker pool of
``csrc/fo_pool.h`` (the caller takes blocks too and never waits for a worker
to arrive; see that header for why this replaces OpenMP regions).

The cost model is ``plan_threads``: a job goes parallel only when its
estimated work gives every thread at least ``MIN_WORK_NS`` nanoseconds, the
measured price of handing blocks to a woken worker (docs/threads.md).

The thread count is ``omp_get_max_threads()``, so ``OMP_NUM_THREADS`` and
``threadpoolctl.threadpool_limits(user_api="openmp")`` control it. Without
OpenMP support at build time every loop runs on one thread.
"""

cdef extern from "fo_config.h" nogil:
    int fo_omp_max_threads()

cdef extern from "fo_pool.h" nogil:
    ctypedef void (*fo_block_fn)(void* ctx, Py_ssize_t block) noexcept nogil
    void fo_pool_run(fo_block_fn fn, void* ctx, Py_ssize_t n_blocks, int n_threads)
    int fo_pool_on_worker()

cdef extern from *:
    """
    #ifdef _OPENMP
    #define FO_OPENMP_ENABLED 1
    #else
    #define FO_OPENMP_ENABLED 0
    #endif
    #if !defined(_WIN32)
    static long long fo_pool_stat(int k)
    {
        return k == 0 ? fo_pool.n_jobs : k == 1 ? fo_pool.n_parallel : fo_pool.n_stalls;
    }
    #else
    static long long fo_pool_stat(int k) { (void)k; return 0; }
    #endif
    """
    int FO_OPENMP_ENABLED
    long long fo_pool_stat(int k)

cdef enum:
    # Least estimated work per thread (ns) for which a job goes parallel.
    MIN_WORK_NS = 20000


cdef int loop_threads() noexcept nogil:
    """Threads the compiled loops may use now."""
    return fo_omp_max_threads()


cdef int plan_threads(double work_ns, Py_ssize_t n_blocks, int n_threads) noexcept nogil:
    """Threads worth using for ``n_blocks`` blocks totalling ``work_ns`` ns of work."""
    cdef double by_work = work_ns / MIN_WORK_NS
    cdef int t = n_threads
    if n_blocks < t:
        t = <int> n_blocks
    if by_work < t:
        t = <int> by_work
    return t if t > 1 else 1


cdef void run_blocks(block_fn fn, void* ctx, Py_ssize_t n_blocks, int n_threads) noexcept nogil:
    """Run ``fn(ctx, b)`` for every block ``b < n_blocks`` on up to ``n_threads`` threads."""
    fo_pool_run(<fo_block_fn> fn, ctx, n_blocks, n_threads)


cdef bint on_worker() noexcept nogil:
    """Whether the calling thread is one of the pool's workers (not a caller)."""
    return fo_pool_on_worker()


def openmp_enabled():
    """Whether fastopt was compiled with OpenMP."""
    return bool(FO_OPENMP_ENABLED)


def max_threads():
    """Number of threads fastopt's compiled loops use now."""
    return fo_omp_max_threads()


def pool_stats():
    """Counters of the worker pool since the process started.

    Returns a dict: ``jobs`` handed to the pool with more than one thread
    allowed, ``parallel`` jobs that ran on several threads, and ``stalls``
    (parallel jobs whose caller waited more than 0.2 ms for a preempted
    worker; each sends the following jobs to one thread for a while).
    """
    return {"jobs": fo_pool_stat(0), "parallel": fo_pool_stat(1), "stalls": fo_pool_stat(2)}


_blas_libraries = None


class _OneBlasThread:
    """Sets every loaded BLAS to one thread on entry and back on exit.

    threadpoolctl's ``limit`` re-reads and reports every library's state on
    each entry (hundreds of microseconds on a slow machine, a visible share of
    a 32-row ``partial_fit``); this only calls the libraries' own get/set.
    """

    __slots__ = ("_changed",)

    def __enter__(self):
        global _blas_libraries
        if _blas_libraries is None:
            from threadpoolctl import ThreadpoolController
            _blas_libraries = [lib for lib in ThreadpoolController().lib_controllers
                               if lib.user_api == "blas"]
        self._changed = []
        for lib in _blas_libraries:
            n = lib.get_num_threads()
            if n != 1:
                lib.set_num_threads(1)
                self._changed.append((lib, n))
        return self

    def __exit__(self, *exc_info):
        for lib, n in self._changed:
            lib.set_num_threads(n)
        return False


def one_blas_thread():
    """Context manager holding every loaded BLAS to one thread.

    The compiled loops call BLAS from the pool's threads on fixed blocks:
    BLAS threads inside them would oversubscribe the cores and make results
    depend on the BLAS thread count. The loaded libraries are found once (the
    scan costs milliseconds); entering and leaving costs a few calls into each.
    """
    return _OneBlasThread()
