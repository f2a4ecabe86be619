# cython: language_level=3
"""Optimizer update rules over flat buffers, callable without the GIL.

Layering: ``fo_schedule_lr`` (learning rate at step t, in csrc/fo_schedule.h)
and ``rule_begin`` (the per-step scalars: the common ones here, the rule's own
in its C ``fo_<rule>_begin``) are scalar functions; ``rule_apply`` runs the rule's
element-wise kernel from ``csrc/fo_rules.h`` over fixed chunks of
``APPLY_BLOCK`` elements, handed to fastopt's worker pool
(``fastopt._openmp.run_blocks``) when the cost model says the step is long
enough to share (``plan_threads`` with ``APPLY_NS_PER_ELEMENT``).
``grad_sumsq`` reduces over fixed-size blocks summed in block order, so the
global gradient norm -- and every result -- is bit-identical whatever the
thread count. ``penalised_step`` adds a weight penalty on a prefix of the
parameters (the MLP's weights) to a step: fused into the pass of
scikit-learn's Adam (``fo_sk_adam_l2``) or as its own pass before the step
(``penalty_grad``), with the same bits either way. Everything is fused over
float32/float64 with ``floating``.

The kinds, their kernels and their per-step scalars come from
``_rule_table.py`` through the generated switches ``fo_rule_begin`` and
``fo_rule_kernel_f32/_f64``, and the schedules from ``csrc/fo_schedule.h``.
Those switches cannot raise (they return -1, the schedule NaN, for an unknown
kind); no unknown kind gets here, because ``OptimizerState`` -- the only place
a ``RuleConfig`` is built -- refuses it (``check_kinds``).
"""

from libc.math cimport sqrt
from libc.string cimport memset
from fastopt._openmp cimport plan_threads, run_blocks
from fastopt._kinds import check_kind

cdef extern from "fo_rules.h" nogil:
    int fo_rule_begin(const RuleConfig*, RuleState*, fo_coef*)
    int fo_rule_kernel_f32(int, float*, const float*, float*, float*, float*, Py_ssize_t,
                           const fo_coef*)
    int fo_rule_kernel_f64(int, double*, const double*, double*, double*, double*, Py_ssize_t,
                           const fo_coef*)
    double fo_sumsq_f32(const float*, Py_ssize_t)
    double fo_sumsq_f64(const double*, Py_ssize_t)
    void fo_penalty_grad_f32(const float*, float*, Py_ssize_t, float, float, double*, double*)
    void fo_penalty_grad_f64(const double*, double*, Py_ssize_t, double, double, double*,
                             double*)
    double fo_sk_adam_l2_f32(float*, const float*, float*, float*, Py_ssize_t, Py_ssize_t,
                             float, const fo_coef*)
    double fo_sk_adam_l2_f64(double*, const double*, double*, double*, Py_ssize_t,
                             Py_ssize_t, double, const fo_coef*)
    double INFINITY

cdef enum:
    # Elements per block of a step handed to the pool.
    APPLY_BLOCK = 32768
    # Block size of the deterministic sum of squares, and its most blocks.
    SUMSQ_BLOCK = 16384
    SUMSQ_MAX_BLOCKS = 256
    # Elements per chunk of the penalty job (a multiple of FO_REDUCE_BLOCK),
    # and its most chunks.
    PENALTY_CHUNK = 32768
    PENALTY_MAX_CHUNKS = 256

# Cost model (ns per element, one thread, measured in docs/threads.md): a fused
# Adam step on float32 buffers out of cache, and a sum of squares.
cdef double APPLY_NS_PER_ELEMENT = 0.5
cdef double SUMSQ_NS_PER_ELEMENT = 0.15
# ... and the penalty fused into scikit-learn's Adam step (the slower of the
# two penalty passes), on float32 parameters.
cdef double PENALTY_NS_PER_ELEMENT = 1.0


def check_kinds(dict config):
    """Raise ValueError unless the rule and schedule kinds of ``config`` exist."""
    check_kind(RuleKind, config["kind"])
    check_kind(ScheduleKind, config["schedule"]["kind"])


cdef fo_coef rule_begin(const RuleConfig* cfg, RuleState* st, double grad_sumsq) noexcept nogil:
    """Advance the step count and return the scalars of this step.

    ``grad_sumsq`` is the squared global gradient norm; it is read only when
    ``cfg.clip_norm > 0``.
    """
    cdef fo_coef c
    memset(&c, 0, sizeof(c))
    st.t += 1
    c.lr = fo_schedule_lr(&cfg.schedule, cfg.lr, st.t)
    c.gscale = 1.0
    if cfg.clip_norm > 0.0:
        c.gscale = cfg.clip_norm / (sqrt(grad_sumsq) + 1e-6)
        if not c.gscale < 1.0:
            c.gscale = 1.0
    c.clip = cfg.clip_value
    c.first = st.t == 1
    fo_rule_begin(cfg, st, &c)
    return c


cdef inline floating* _offset(floating* a, Py_ssize_t start) noexcept nogil:
    return a + start if a != NULL else NULL


cdef void _kernel(const RuleConfig* cfg, const fo_coef* c, floating* p, const floating* g,
                  floating* s0, floating* s1, floating* s2, Py_ssize_t n) noexcept nogil:
    if floating is float:
        fo_rule_kernel_f32(cfg.kind, p, g, s0, s1, s2, n, c)
    else:
        fo_rule_kernel_f64(cfg.kind, p, g, s0, s1, s2, n, c)


ctypedef struct _ApplyJob:
    const RuleConfig* cfg
    const fo_coef* c
    void* p
    const void* g
    void* s[3]
    Py_ssize_t n
    Py_ssize_t block
    bint is32


cdef void _apply_block_typed(const _ApplyJob* job, floating* p, Py_ssize_t b) noexcept nogil:
    cdef Py_ssize_t start = b * job.block
    cdef Py_ssize_t end = min(start + job.block, job.n)
    _kernel(job.cfg, job.c, p + start, <const floating*> job.g + start,
            _offset(<floating*> job.s[0], start), _offset(<floating*> job.s[1], start),
            _offset(<floating*> job.s[2], start), end - start)


cdef void _apply_block(void* ctx, Py_ssize_t b) noexcept nogil:
    cdef _ApplyJob* job = <_ApplyJob*> ctx
    if job.is32:
        _apply_block_typed(job, <float*> job.p, b)
    else:
        _apply_block_typed(job, <double*> job.p, b)


cdef void rule_apply(const RuleConfig* cfg, const fo_coef* c, floating* p, const floating* g,
                     floating* s0, floating* s1, floating* s2, Py_ssize_t n,
                     int n_threads) noexcept nogil:
    """Apply one step with scalars ``c`` to ``p[0:n]`` and its state buffers.

    Unused buffers are NULL. The element-wise result does not depend on how
    the range is split, so threads never change the result.
    """
    cdef _ApplyJob job
    cdef Py_ssize_t n_blocks = (n + APPLY_BLOCK - 1) // APPLY_BLOCK
    cdef int threads = plan_threads(n * APPLY_NS_PER_ELEMENT, n_blocks, n_threads)
    if threads <= 1:
        _kernel(cfg, c, p, g, s0, s1, s2, n)
        return
    job.cfg = cfg
    job.c = c
    job.p = p
    job.g = g
    job.s[0] = s0
    job.s[1] = s1
    job.s[2] = s2
    job.n = n
    job.block = APPLY_BLOCK
    job.is32 = floating is float
    run_blocks(_apply_block, &job, n_blocks, threads)


cdef inline double _sumsq(const floating* g, Py_ssize_t n) noexcept nogil:
    if floating is float:
        return fo_sumsq_f32(g, n)
    else:
        return fo_sumsq_f64(g, n)


ctypedef struct _SumsqJob:
    const void* g
    Py_ssize_t n
    Py_ssize_t block
    double* partial
    bint is32


cdef void _sumsq_block(void* ctx, Py_ssize_t b) noexcept nogil:
    cdef _SumsqJob* job = <_SumsqJob*> ctx
    cdef Py_ssize_t start = b * job.block
    cdef Py_ssize_t end = min(start + job.block, job.n)
    if job.is32:
        job.partial[b] = fo_sumsq_f32(<const float*> job.g + start, end - start)
    else:
        job.partial[b] = fo_sumsq_f64(<const double*> job.g + start, end - start)


cdef double grad_sumsq(const floating* g, Py_ssize_t n, int n_threads) noexcept nogil:
    """Sum of squares of ``g[0:n]`` in double, identical for any thread count.

    The range is cut into at most ``SUMSQ_MAX_BLOCKS`` blocks whose size
    depends on ``n`` only; block sums land in a stack array and are added in
    block order. No allocation.
    """
    cdef double partial[SUMSQ_MAX_BLOCKS]
    cdef _SumsqJob job
    cdef Py_ssize_t n_blocks, b
    cdef double total = 0.0
    job.block = SUMSQ_BLOCK
    if n > <Py_ssize_t> SUMSQ_BLOCK * SUMSQ_MAX_BLOCKS:
        job.block = ((n + SUMSQ_MAX_BLOCKS - 1) // SUMSQ_MAX_BLOCKS + 63) & ~(<Py_ssize_t>63)
    n_blocks = (n + job.block - 1) // job.block
    if n_blocks <= 1:
        return _sumsq(g, n)
    job.g = g
    job.n = n
    job.partial = partial
    job.is32 = floating is float
    run_blocks(_sumsq_block, &job, n_blocks,
               plan_threads(n * SUMSQ_NS_PER_ELEMENT, n_blocks, n_threads))
    for b in range(n_blocks):
        total += partial[b]
    return total


cdef void rule_step(const RuleConfig* cfg, RuleState* st, floating* p, const floating* g,
                    floating* s0, floating* s1, floating* s2, Py_ssize_t n,
                    int n_threads) noexcept nogil:
    """One optimizer step over a single flat parameter buffer."""
    cdef double sumsq = grad_sumsq(g, n, n_threads) if cfg.clip_norm > 0.0 else 0.0
    cdef fo_coef c = rule_begin(cfg, st, sumsq)
    rule_apply(cfg, &c, p, g, s0, s1, s2, n, n_threads)


ctypedef struct _PenaltyJob:
    void* p
    void* g
    void* m
    void* v
    const fo_coef* c     # scikit-learn's Adam step fused in; NULL: the penalty gradient only
    double c2
    double c1
    Py_ssize_t n_pen
    Py_ssize_t n
    Py_ssize_t chunk
    double* sumsq
    double* sumabs
    bint is32


cdef void _penalty_chunk_typed(_PenaltyJob* job, floating* p, Py_ssize_t b) noexcept nogil:
    cdef Py_ssize_t start = b * job.chunk
    cdef Py_ssize_t end = min(start + job.chunk, job.n)
    cdef Py_ssize_t n_pen = min(max(job.n_pen - start, 0), end - start)
    cdef floating* g = <floating*> job.g + start
    if job.c != NULL:
        if floating is float:
            job.sumsq[b] = fo_sk_adam_l2_f32(p + start, g, <float*> job.m + start,
                                             <float*> job.v + start, n_pen, end - start,
                                             <float> job.c2, job.c)
        else:
            job.sumsq[b] = fo_sk_adam_l2_f64(p + start, g, <double*> job.m + start,
                                             <double*> job.v + start, n_pen, end - start,
                                             job.c2, job.c)
    elif floating is float:
        fo_penalty_grad_f32(p + start, g, n_pen, <float> job.c2, <float> job.c1,
                            &job.sumsq[b], &job.sumabs[b])
    else:
        fo_penalty_grad_f64(p + start, g, n_pen, job.c2, job.c1, &job.sumsq[b],
                            &job.sumabs[b])


cdef void _penalty_chunk(void* ctx, Py_ssize_t b) noexcept nogil:
    cdef _PenaltyJob* job = <_PenaltyJob*> ctx
    if job.is32:
        _penalty_chunk_typed(job, <float*> job.p, b)
    else:
        _penalty_chunk_typed(job, <double*> job.p, b)


cdef double _run_penalty(_PenaltyJob* job, floating* p, Py_ssize_t layout_n,
                         double* sumabs, int n_threads) noexcept nogil:
    """Run ``job`` over ``p[0:job.n]`` in fixed chunks whose size depends on
    ``layout_n`` only; return the chunk sums of squares added in chunk order,
    and the sums of absolute values likewise in ``sumabs``."""
    cdef double chunk_sumsq[PENALTY_MAX_CHUNKS]
    cdef double chunk_sumabs[PENALTY_MAX_CHUNKS]
    cdef Py_ssize_t b, n_chunks
    cdef double sumsq = 0.0
    job.p = p
    job.is32 = floating is float
    job.sumsq = chunk_sumsq
    job.sumabs = chunk_sumabs
    job.chunk = max(<Py_ssize_t> PENALTY_CHUNK,
                    ((layout_n + PENALTY_MAX_CHUNKS - 1) // PENALTY_MAX_CHUNKS + 1023)
                    & ~(<Py_ssize_t> 1023))
    n_chunks = (job.n + job.chunk - 1) // job.chunk
    for b in range(n_chunks):
        chunk_sumabs[b] = 0.0
    run_blocks(_penalty_chunk, job, n_chunks,
               plan_threads(job.n * PENALTY_NS_PER_ELEMENT, n_chunks, n_threads))
    sumabs[0] = 0.0
    for b in range(n_chunks):
        sumsq += chunk_sumsq[b]
        sumabs[0] += chunk_sumabs[b]
    return sumsq


cdef double penalty_grad(floating* p, floating* g, Py_ssize_t n_pen, Py_ssize_t layout_n,
                         double c2, double c1, double* sumabs, int n_threads) noexcept nogil:
    """Add ``c2 p + c1 sign(p)`` to ``g[0:n_pen]``; return ``||p[0:n_pen]||^2``
    (and ``||p[0:n_pen]||_1`` in ``sumabs``).

    The sums are reduced in fixed chunks laid out as for a buffer of
    ``layout_n`` elements (``fo_penalty_grad`` within a chunk, chunk sums in
    double in order), so they are the same for any thread count and, with
    ``layout_n`` the whole buffer, the same as ``penalised_step``'s fused pass.
    Without a penalty (``c2 == c1 == 0``) nothing is read and both sums are 0.
    """
    cdef _PenaltyJob job
    if c2 == 0.0 and c1 == 0.0:
        sumabs[0] = 0.0
        return 0.0
    job.g = g
    job.c = NULL
    job.c2 = c2
    job.c1 = c1
    job.n_pen = n_pen
    job.n = n_pen
    return _run_penalty(&job, p, layout_n, sumabs, n_threads)


cdef double penalised_step(const RuleConfig* cfg, RuleState* st, floating* p, floating* g,
                           floating* s0, floating* s1, floating* s2, Py_ssize_t n_pen,
                           Py_ssize_t n, double c2, double c1, double* sumabs, bint fuse,
                           int n_threads) noexcept nogil:
    """One step of the rule over ``p[0:n]`` on the gradient ``g`` plus that of the
    penalty ``c2/2 ||w||^2 + c1 ||w||_1``, ``w = p[0:n_pen]``; return
    ``||w||^2`` before the step (and ``||w||_1`` in ``sumabs``).

    scikit-learn's Adam with a pure L2 penalty and no global-norm clipping
    (the MLP's default fit) runs as one pass that adds the penalty gradient
    on the fly (``fo_sk_adam_l2``) when ``fuse``; otherwise the penalty
    gradient is added to ``g`` first (``penalty_grad``) and the rule steps.
    Both give the same bits: parameters, state and, when there is a penalty,
    the sums (without one the two-pass path skips its pass and returns 0).
    """
    cdef _PenaltyJob job
    cdef fo_coef c
    cdef double sumsq
    if fuse and cfg.kind == RULE_SK_ADAM and cfg.clip_norm == 0.0 and c1 == 0.0:
        c = rule_begin(cfg, st, 0.0)
        job.g = g
        job.m = s0
        job.v = s1
        job.c = &c
        job.c2 = c2
        job.c1 = 0.0
        job.n_pen = n_pen
        job.n = n
        return _run_penalty(&job, p, n, sumabs, n_threads)
    sumsq = penalty_grad(p, g, n_pen, n, c2, c1, sumabs, n_threads)
    rule_step(cfg, st, p, g, s0, s1, s2, n, n_threads)
    return sumsq


def invscaling_rate(double eta0, double t, double power_t):
    """scikit-learn's 'invscaling' rate ``eta0 / t^power_t`` (``fo_lr_invscaling``)."""
    return fo_lr_invscaling(eta0, t, power_t)


def evaluate_schedule(dict schedule, double lr, long long t):
    """Python entry to ``fo_schedule_lr`` (used by the schedule objects and tests)."""
    cdef Schedule s = schedule
    return fo_schedule_lr(&s, lr, t)
