# The thread pool of fastopt's compiled loops (csrc/fo_pool.h), one per process:
# every module cimports these functions from fastopt._openmp, so all loops
# share the same workers.

ctypedef void (*block_fn)(void* ctx, Py_ssize_t block) noexcept nogil

cdef int loop_threads() noexcept nogil
cdef int plan_threads(double work_ns, Py_ssize_t n_blocks, int n_threads) noexcept nogil
cdef void run_blocks(block_fn fn, void* ctx, Py_ssize_t n_blocks, int n_threads) noexcept nogil
cdef bint on_worker() noexcept nogil
