# cython: language_level=3
"""Compiled training epochs of SGDRegressor / SGDClassifier.

Two engines, each advanced one epoch per call from ``_sgd_training.py`` (which owns
the stopping rule, validation scores and verbosity -- nothing per sample
happens in Python):

``PlainSGD``
    scikit-learn's algorithm (solver='sgd', batch_size=1): per-sample updates
    with the wscale trick, lazy L1, averaging, sklearn's learning rates. The
    per-sample body is C (``csrc/fo_sgd.h``). One *problem* per regressor or
    per one-vs-rest class. All problems visit the samples in one shuffled
    order, and the active problems are split into contiguous groups, blocks
    of a job on fastopt's worker pool (``fastopt._openmp.run_blocks``, GIL
    released); a thread fetches each row once for its whole group. Problems
    are independent, so the result does not depend on the thread count.
    CSR one-vs-rest trains a feature-major copy of the coefficients (a
    feature's classes share a cache line) and steps the classes together on
    each row, on one thread (their coefficients share cache lines; the
    measurements are in benchmarks/README.md).

``MinibatchSGD``
    every other solver and batch size: K outputs (one-vs-rest columns or
    softmax classes) in one flat buffer ``[coef (K x d) row-major, intercept
    (K)]``, the gradient of a minibatch, then one ``rule_step`` of a
    fastopt.optim optimizer. A dense minibatch is cut into fixed row blocks
    (a layout that depends on the batch size only) run on the worker pool;
    each block gathers its rows in chunks, and the outputs and its partial
    gradient are two single-threaded GEMMs per chunk; the partials are added
    in block order, so results do not depend on the thread count. CSR input
    uses lazy updates: the distinct
    features of the batch are numbered, their coefficients (and the
    intercepts) with their optimizer state are copied into compact buffers,
    the gradient is summed sample by sample in a fixed order and stepped
    there, and the result copied back, so a step costs O(nnz(batch) * K) and
    its inner loops stay in L1. Shuffled minibatches read rows at random:
    the first pass over a sample prefetches the row, targets and weight of
    the sample PREFETCH_AHEAD positions later. ``MinibatchSGD.range_test``
    runs the same minibatch loop as the learning-rate range test
    (``fastopt/_range_test.pxd``): one call, a geometric rate per step,
    continuing across epochs.

Input rows are dense C-ordered or CSR, float32 or float64 (no upcast): the
engines keep raw pointers to arrays validated and kept alive here.
"""

import numpy as np
cimport numpy as cnp
from cython cimport floating
from libc.math cimport fabs, isfinite, sqrt
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy

from fastopt._blas cimport gemm
from fastopt._openmp cimport on_worker, plan_threads, run_blocks
from fastopt._openmp import one_blas_thread
from fastopt._kinds import check_kind
from fastopt._rows cimport Rows, max_row_values, mean_row_values, row_span, rows_of
from fastopt._losses cimport FO_SGD_MAX_DLOSS, fo_sgd_dloss, fo_sgd_loss, softmax
from fastopt.optim._rules cimport (RuleConfig, RuleState, fo_lr_invscaling, fo_lr_optimal,
                                   rule_drop_schedule, rule_step)
from fastopt.optim._state cimport OptimizerState
from fastopt._interrupt cimport (
    fo_interrupt_clock, fo_interrupt_start, fo_interrupt_pending, fo_stop_requested,
    fo_request_stop, raise_pending_error,
)
from fastopt._range_test cimport RangeTest, range_begin, range_init, range_rate, range_record

cnp.import_array()

cdef extern from "fo_rng.h" nogil:
    ctypedef struct fo_rng:
        pass
    void fo_rng_seed(fo_rng* r, unsigned long long seed, unsigned long long stream)
    void fo_rng_shuffle(fo_rng* r, Py_ssize_t* a, Py_ssize_t n)

cdef extern from "fo_losses.h":
    cpdef enum SGDLoss "fo_sgd_loss_kind":
        LOSS_HINGE "FO_LOSS_HINGE"
        LOSS_SQUARED_HINGE "FO_LOSS_SQUARED_HINGE"
        LOSS_MODIFIED_HUBER "FO_LOSS_MODIFIED_HUBER"
        LOSS_LOG_LOSS "FO_LOSS_LOG"
        LOSS_SQUARED_ERROR "FO_LOSS_SQUARED"
        LOSS_HUBER "FO_LOSS_HUBER"
        LOSS_EPSILON_INSENSITIVE "FO_LOSS_EPS_INSENSITIVE"
        LOSS_SQUARED_EPSILON_INSENSITIVE "FO_LOSS_SQ_EPS_INSENSITIVE"

cdef extern from "fo_sgd.h" nogil:
    ctypedef struct fo_sgd_config:
        int loss
        double loss_param
        int penalty
        double alpha
        double l1_ratio
        int learning_rate
        double eta0
        double power_t
        double optimal_init
        int fit_intercept
        double intercept_decay
        double average
        int track_objective
        Py_ssize_t n_features
        double wscale_min
        Py_ssize_t problem_stride
        Py_ssize_t feature_stride
    ctypedef struct fo_sgd_state:
        double t
        double eta
        double wscale
        double sq_norm
        double l1_norm
        double u
        double average_a
        double average_b
        double intercept
        double average_intercept
        double weight_pos
        double weight_neg
        double objective
        double loss_sum
    cpdef enum SGDPenalty "fo_sgd_penalty_kind":
        PENALTY_NONE "FO_PENALTY_NONE"
        PENALTY_L1 "FO_PENALTY_L1"
        PENALTY_L2 "FO_PENALTY_L2"
        PENALTY_ELASTICNET "FO_PENALTY_ELASTICNET"
    cpdef enum SGDLearningRate "fo_sgd_lr_kind":
        LR_SOLVER "FO_LR_SOLVER"
        LR_CONSTANT "FO_LR_CONSTANT"
        LR_OPTIMAL "FO_LR_OPTIMAL"
        LR_INVSCALING "FO_LR_INVSCALING"
        LR_ADAPTIVE "FO_LR_ADAPTIVE"
        LR_PA1 "FO_LR_PA1"
        LR_PA2 "FO_LR_PA2"
    ctypedef struct fo_sgd_samples:
        const void* data
        const int* indices
        const int* indptr
        Py_ssize_t n_targets
        const void* y
        const void* sw
        const Py_ssize_t* order
        Py_ssize_t n_order
    void fo_sgd_epoch_f32(const fo_sgd_config*, fo_sgd_state*, const Py_ssize_t*, Py_ssize_t,
                          const fo_sgd_samples*, float*, float*, float*)
    void fo_sgd_epoch_f64(const fo_sgd_config*, fo_sgd_state*, const Py_ssize_t*, Py_ssize_t,
                          const fo_sgd_samples*, double*, double*, double*)
    bint fo_sgd_all_finite_f32(const float* w, Py_ssize_t n)
    bint fo_sgd_all_finite_f64(const double* w, Py_ssize_t n)
    void fo_sgd_store_f32(const fo_sgd_config*, fo_sgd_state*, Py_ssize_t, float*, float*,
                          float*, float*)
    void fo_sgd_store_f64(const fo_sgd_config*, fo_sgd_state*, Py_ssize_t, double*, double*,
                          double*, double*)
    void fo_sgd_prefetch_sample(const char* data, const int* indices, const int* indptr,
                                Py_ssize_t d, size_t item, Py_ssize_t i, const char* y,
                                Py_ssize_t n_y, Py_ssize_t y_stride, const char* sw,
                                Py_ssize_t i_ahead)

# scikit-learn's names -> kinds, from the enums: LOSS_LOG_LOSS is 'log_loss'
# ('perceptron' is the hinge loss with threshold 0), PENALTY_NONE is None
LOSSES = {k.name[len("LOSS_"):].lower(): k for k in SGDLoss}
LOSSES["perceptron"] = LOSS_HINGE
PENALTIES = {None if k == PENALTY_NONE else k.name[len("PENALTY_"):].lower(): k
             for k in SGDPenalty}
LEARNING_RATES = {k.name[len("LR_"):].lower(): k for k in SGDLearningRate if k != LR_SOLVER}


def _check_objective_kinds(dict config):
    """Raise ValueError unless the loss and penalty kinds of ``config`` exist."""
    check_kind(SGDLoss, config["loss"])
    check_kind(SGDPenalty, config["penalty"])


def loss_value(str loss, double param, double y, double p):
    """Loss of prediction ``p`` for target ``y`` (the C definition; for tests)."""
    return fo_sgd_loss(LOSSES[loss], param, y, p)


def loss_derivative(str loss, double param, double y, double p):
    """Derivative of the loss with respect to ``p`` (the C definition; for tests)."""
    return fo_sgd_dloss(LOSSES[loss], param, y, p)


# Cost model of a PlainSGD epoch: ns per stored value of a sampled row and problem.
cdef double PLAIN_NS_PER_VALUE = 1.0

cdef enum:
    # Samples per slice of a PlainSGD epoch; pending signals are handled between slices.
    INTERRUPT_SLICE = 8192
    # MinibatchSGD prefetches the sample this many positions ahead of the one it reads.
    PREFETCH_AHEAD = 16
    # Dense minibatches are processed in chunks of at most this many rows ...
    CHUNK_ROWS = 256
    # ... and at most this many bytes of gathered rows.
    CHUNK_BYTES = 1 << 20
    # A dense minibatch is cut into blocks of at least BLOCK_ROWS rows, at
    # most MAX_BLOCKS of them (a layout that depends on the batch size only).
    BLOCK_ROWS = 64
    MAX_BLOCKS = 16

# Cost model of a dense minibatch: ns per value of the rows times outputs
# (two GEMMs and the gather), one thread; see docs/threads.md.
cdef double DENSE_NS_PER_VALUE = 0.25


cdef void _copy_coefs(const floating[:, :] src, floating[:, :] dst) noexcept nogil:
    """``dst[...] = src`` for (K, n_features) arrays of any two memory orders,
    feature by feature: K streams read and written in order, where numpy's
    copy between a C- and an F-ordered array strides through one of them."""
    cdef Py_ssize_t j, k
    for j in range(src.shape[1]):
        for k in range(src.shape[0]):
            dst[k, j] = src[k, j]


def _feature_major(src):
    """An F-ordered copy of the (K, n_features) array src, or None for None."""
    if src is None:
        return None
    out = np.empty(src.shape, src.dtype, order="F")
    if src.dtype == np.float32:
        _copy_coefs[float](src, out)
    else:
        _copy_coefs[double](src, out)
    return out


cdef void* _ptr(arr, dtype, str name, bint writeable=True) except NULL:
    if (not isinstance(arr, np.ndarray) or arr.dtype != dtype
            or not arr.flags.c_contiguous
            or (writeable and not arr.flags.writeable)):
        raise ValueError(f"{name} must be a C-contiguous {np.dtype(dtype)} array"
                         + (" (writeable)" if writeable else ""))
    return cnp.PyArray_DATA(<cnp.ndarray> arr)


ctypedef struct _PlainJob:
    void* engine
    const Py_ssize_t* act
    Py_ssize_t n_act
    Py_ssize_t n_groups
    int* stop


cdef void _plain_group(void* ctx, Py_ssize_t g) noexcept nogil:
    """Block g of a PlainSGD epoch: the g-th of n_groups contiguous groups of problems."""
    cdef _PlainJob* job = <_PlainJob*> ctx
    cdef Py_ssize_t lo = g * job.n_act // job.n_groups
    cdef Py_ssize_t hi = (g + 1) * job.n_act // job.n_groups
    (<PlainSGD> job.engine)._run(job.act + lo, hi - lo, not on_worker(), job.stop)


cdef class PlainSGD:
    """scikit-learn's per-sample SGD over K independent problems.

    Parameters
    ----------
    config : dict
        ``fo_sgd_config`` fields, except those the engine derives from X and
        W (``n_features``, ``wscale_min``, ``problem_stride``,
        ``feature_stride``).
    X : ndarray or csr_matrix of shape (n_samples, n_features)
    Y : ndarray of shape (K, n_samples), X's dtype
        Targets of each problem.
    sample_weight : ndarray of shape (n_samples,), X's dtype
    train_idx : ndarray of intp
        Samples to learn from (the others are validation samples).
    W : ndarray of shape (K, n_features), C-contiguous
        Coefficients. With dense X, or one problem, the engine updates W in
        place; with CSR X and K > 1 it trains a feature-major copy
        (``coefs``: a feature's K coefficients adjacent, so one cache line
        fetched serves all the problems where W's layout costs K, and the
        problems are stepped together, see ``fo_sgd_run_lanes``; the
        problems then run on one thread, as their coefficients share cache
        lines) and ``store`` writes it back into W.
    AW : ndarray of shape (K, n_features) or None
        Averaged coefficients (``average > 0``), as W.
    intercept, average_intercept, weight_pos, weight_neg : ndarray of shape (K,)
    seed : int
        Seed of the shuffles.
    t : float
        Initial sample counter (``t_``).
    shuffle : bool
    n_threads : int
    """
    cdef fo_sgd_config cfg
    cdef fo_sgd_state* states
    cdef fo_rng rng
    cdef Rows rows
    cdef object keep
    cdef readonly object coefs, avg_coefs
    cdef object out
    cdef void* y
    cdef void* sw
    cdef void* w
    cdef void* aw
    cdef void* q
    cdef Py_ssize_t[::1] order
    cdef Py_ssize_t K
    cdef bint shuffle
    cdef int n_threads

    def __cinit__(self):
        self.states = NULL

    def __dealloc__(self):
        free(self.states)

    def __init__(self, dict config, X, Y, sample_weight, train_idx, W, AW, intercept,
                 average_intercept, weight_pos, weight_neg, unsigned long long seed, double t,
                 bint shuffle, int n_threads):
        cdef Py_ssize_t k
        _check_objective_kinds(config)
        check_kind(SGDLearningRate, config["learning_rate"])
        if config["learning_rate"] == LR_SOLVER:
            raise ValueError("the per-sample engine has no optimizer object: give it one of "
                             "scikit-learn's learning rates")
        x_keep = []
        self.rows = rows_of(X, x_keep)
        dtype = np.float32 if self.rows.is32 else np.float64
        self.K = W.shape[0]
        # CSR one-vs-rest trains a feature-major copy (fo_sgd_run_lanes)
        order = "F" if self.K > 1 and self.rows.indices != NULL else "C"
        self.cfg = {**config, "n_features": self.rows.n_features,
                    "wscale_min": 1e-6 if self.rows.is32 else 1e-9,
                    "problem_stride": self.rows.n_features if order == "C" else 1,
                    "feature_stride": 1 if order == "C" else self.K}
        _ptr(Y, dtype, "Y", False)
        Yt = np.ascontiguousarray(Y.T)  # (n_samples, K): a sample's targets in one line
        self.y = _ptr(Yt, dtype, "Y", False)
        self.sw = _ptr(sample_weight, dtype, "sample_weight", False)
        if (sample_weight == 1).all():
            self.sw = NULL  # unit weights: one random memory access less per sample
        _ptr(W, dtype, "W")
        if AW is not None:
            _ptr(AW, dtype, "AW")
        self.out = (W, AW)
        sq_norms = [float(np.dot(W[k], W[k])) for k in range(self.K)]
        # (the L1 norm enters the objective only through l1_ratio)
        l1_norms = [float(np.abs(W[k]).sum()) if self.cfg.l1_ratio > 0.0 else 0.0
                    for k in range(self.K)]
        if order == "F":
            W, AW = _feature_major(W), _feature_major(AW)
        self.w = cnp.PyArray_DATA(<cnp.ndarray> W)
        self.aw = NULL if AW is None else cnp.PyArray_DATA(<cnp.ndarray> AW)
        Q = None
        self.q = NULL
        if self.cfg.penalty == PENALTY_L1 or self.cfg.penalty == PENALTY_ELASTICNET:
            Q = np.zeros(W.shape, dtype, order=order)
            self.q = cnp.PyArray_DATA(<cnp.ndarray> Q)
        self.keep = (x_keep, Yt, sample_weight, Q)
        self.coefs, self.avg_coefs = W, AW
        self.shuffle = shuffle
        self.n_threads = max(1, n_threads) if order == "C" else 1
        self.order = np.array(train_idx, dtype=np.intp)
        fo_rng_seed(&self.rng, seed, 0)
        self.states = <fo_sgd_state*> malloc(self.K * sizeof(fo_sgd_state))
        if self.states == NULL:
            raise MemoryError()
        for k in range(self.K):
            self.states[k] = fo_sgd_state(
                t=t, eta=self.cfg.eta0, wscale=1.0, sq_norm=sq_norms[k],
                l1_norm=l1_norms[k], u=0.0, average_a=0.0, average_b=1.0,
                intercept=intercept[k], average_intercept=average_intercept[k],
                weight_pos=weight_pos[k], weight_neg=weight_neg[k], objective=0.0,
                loss_sum=0.0)

    def epoch(self, active):
        """Run one epoch of the problems in ``active``; return their objective sums.

        Raises FloatingPointError when a coefficient or intercept stops being finite.
        """
        cdef Py_ssize_t[::1] act = np.ascontiguousarray(active, dtype=np.intp)
        cdef Py_ssize_t a, n_act = act.shape[0]
        cdef _PlainJob job
        cdef int stop = 0
        # Problems are independent, so the grouping never changes a result.
        # Cost model: a problem's epoch costs about one pass over the sampled
        # values (PLAIN_NS_PER_VALUE each). One group per thread: every group
        # fetches every sampled row once, and that fetch is most of a
        # problem's cost (dense 200k x 100, 8 classes, 2 threads: four groups
        # took 3x as long as two; benchmarks/README.md, "The rule table and
        # shared numerics"). A late worker's group is run by the caller, which
        # never waits.
        cdef double work = (<double> n_act * self.order.shape[0] * PLAIN_NS_PER_VALUE
                            * max(1.0, mean_row_values(&self.rows)))
        cdef int nt = plan_threads(work, n_act, self.n_threads)
        cdef Py_ssize_t n_groups = min(n_act, nt)
        if n_act == 0:
            return np.empty(0)
        if self.shuffle and self.order.shape[0] > 0:
            fo_rng_shuffle(&self.rng, &self.order[0], self.order.shape[0])
        for a in range(n_act):
            self.states[act[a]].objective = 0.0
            self.states[act[a]].loss_sum = 0.0
        job.engine = <void*> self
        job.act = &act[0]
        job.n_act = n_act
        job.n_groups = n_groups
        job.stop = &stop
        with nogil:
            run_blocks(_plain_group, &job, n_groups, nt)
        if stop:
            raise_pending_error()
        if not self._finite(act):
            raise FloatingPointError("non-finite coefficients")
        out = np.empty(n_act)
        for a in range(n_act):
            out[a] = self.states[act[a]].objective
        return out

    cdef void _run(self, const Py_ssize_t* probs, Py_ssize_t n_probs, bint check_signals,
                   int* stop) noexcept nogil:
        """The epoch of problems probs[0:n_probs], in slices of INTERRUPT_SLICE samples.

        Between slices a thread given ``check_signals`` (the caller's, not a
        pool worker) lets Python handle pending signals; on an interrupt every
        thread stops at its next slice.
        """
        cdef Py_ssize_t n_order = self.order.shape[0]
        cdef Py_ssize_t start = 0
        cdef fo_interrupt_clock clock
        cdef fo_sgd_samples smp
        smp.data = self.rows.data
        smp.indices = self.rows.indices
        smp.indptr = self.rows.indptr
        smp.n_targets = self.K
        smp.y = self.y
        smp.sw = self.sw
        fo_interrupt_start(&clock)
        while start < n_order:
            if fo_stop_requested(stop):
                return
            smp.order = &self.order[start]
            smp.n_order = min(<Py_ssize_t> INTERRUPT_SLICE, n_order - start)
            if self.rows.is32:
                fo_sgd_epoch_f32(&self.cfg, self.states, probs, n_probs, &smp, <float*> self.w,
                                 <float*> self.aw, <float*> self.q)
            else:
                fo_sgd_epoch_f64(&self.cfg, self.states, probs, n_probs, &smp,
                                 <double*> self.w, <double*> self.aw, <double*> self.q)
            start += smp.n_order
            if check_signals and fo_interrupt_pending(&clock):
                fo_request_stop(stop)
                return

    cdef bint _finite(self, const Py_ssize_t[::1] act):
        """Whether the problems act[:] have finite scale factors, intercepts and
        coefficients (feature-major: one pass over all of W; the others are
        finite since they stopped)."""
        cdef Py_ssize_t a, d = self.rows.n_features
        for a in range(act.shape[0]):
            if not (isfinite(self.states[act[a]].wscale)
                    and isfinite(self.states[act[a]].intercept)):
                return False
        if self.cfg.feature_stride != 1:
            return self._span_finite(0, d * self.K)
        for a in range(act.shape[0]):
            if not self._span_finite(act[a] * d, d):
                return False
        return True

    cdef bint _span_finite(self, Py_ssize_t start, Py_ssize_t n):
        if self.rows.is32:
            return fo_sgd_all_finite_f32(<const float*> self.w + start, n)
        return fo_sgd_all_finite_f64(<const double*> self.w + start, n)

    def store(self):
        """Write the coefficients (and averages) with every problem's scale
        factors folded in into the W and AW given to the constructor: folded in
        place, or, from the feature-major copy, in one pass that leaves the
        engine as it was (``fo_sgd_store``)."""
        W, AW = self.out
        cdef void* out_w = cnp.PyArray_DATA(<cnp.ndarray> W)
        cdef void* out_aw = NULL if AW is None else cnp.PyArray_DATA(<cnp.ndarray> AW)
        if self.rows.is32:
            fo_sgd_store_f32(&self.cfg, self.states, self.K, <float*> self.w, <float*> self.aw,
                             <float*> out_w, <float*> out_aw)
        else:
            fo_sgd_store_f64(&self.cfg, self.states, self.K, <double*> self.w,
                             <double*> self.aw, <double*> out_w, <double*> out_aw)

    def intercept(self, Py_ssize_t k):
        """Current (intercept, average_intercept) of problem k."""
        return self.states[k].intercept, self.states[k].average_intercept

    def report(self, Py_ssize_t k):
        """scikit-learn's verbose figures of problem k after an epoch: (norm of
        the coefficients as its bookkeeping tracks it -- updated by the axpy,
        not by the L1 truncation --, number of non-zero stored coefficients,
        intercept, sum of the losses of the epoch)."""
        return (sqrt(self.states[k].sq_norm), int(np.count_nonzero(self.coefs[k])),
                self.states[k].intercept, self.states[k].loss_sum)

    def eta(self, Py_ssize_t k):
        """Current 'constant'/'adaptive' learning rate of problem k."""
        return self.states[k].eta

    def set_eta(self, Py_ssize_t k, double eta):
        """Set problem k's 'constant'/'adaptive' learning rate."""
        self.states[k].eta = eta

    def scales(self, Py_ssize_t k):
        """Problem k's pending factors (wscale, average_a, average_b): its
        coefficients are ``wscale * W[k]`` and its averaged coefficients
        ``(AW[k] + average_a * W[k]) / average_b``."""
        return self.states[k].wscale, self.states[k].average_a, self.states[k].average_b


ctypedef struct _DenseJob:
    void* engine
    const void* p
    void* g
    void* xb
    void* z
    void* parts
    double* losses
    Py_ssize_t chunk, start, nb, rows, d, K, n_params
    bint is32


cdef inline Py_ssize_t _block_rows(Py_ssize_t nb) noexcept nogil:
    """Rows per block of a dense minibatch of nb rows (at most MAX_BLOCKS blocks)."""
    return max(<Py_ssize_t> BLOCK_ROWS, (nb + MAX_BLOCKS - 1) // MAX_BLOCKS)


cdef void _dense_block(void* ctx, Py_ssize_t b) noexcept nogil:
    """Block b of a dense minibatch: its rows' gradient into g (b = 0) or parts[b - 1]."""
    cdef _DenseJob* job = <_DenseJob*> ctx
    cdef Py_ssize_t r0 = b * job.rows
    cdef Py_ssize_t nr = min(job.rows, job.nb - r0)
    cdef Py_ssize_t part = (b - 1) * job.n_params, xb = b * job.chunk * job.d
    cdef Py_ssize_t z = b * job.chunk * job.K
    if job.is32:
        (<MinibatchSGD> job.engine)._dense_grad(
            <const float*> job.p, <float*> job.g if b == 0 else <float*> job.parts + part,
            <float*> job.xb + xb, <float*> job.z + z, job.chunk, job.start + r0, nr,
            job.losses + r0)
    else:
        (<MinibatchSGD> job.engine)._dense_grad(
            <const double*> job.p, <double*> job.g if b == 0 else <double*> job.parts + part,
            <double*> job.xb + xb, <double*> job.z + z, job.chunk, job.start + r0, nr,
            job.losses + r0)


cdef class MinibatchSGD:
    """Minibatch training of K outputs with a fastopt.optim update rule.

    Parameters
    ----------
    config : dict
        ``loss`` (an SGDLoss), ``loss_param``, ``penalty`` (an SGDPenalty),
        ``alpha``, ``l1_ratio``, ``multinomial``, ``fit_intercept``,
        ``batch_size``, ``lr_kind`` (an SGDLearningRate other than the
        passive-aggressive ones; LR_SOLVER leaves the optimizer's own rate
        and schedule alone), ``eta0``, ``power_t``,
        ``optimal_init``, ``rate_scale`` (multiplies the 'optimal' and
        'invscaling' rates).
    X : ndarray or csr_matrix of shape (n_samples, n_features)
    Y : ndarray of shape (K, n_samples)
        One-vs-rest targets per output, or (1, n_samples) class indices
        (as floats) for the multinomial loss.
    sample_weight : ndarray of shape (n_samples,)
    train_idx : ndarray of intp
    params : ndarray of shape (K * n_features + K,)
        Flat ``[coef, intercept]`` buffer, updated in place.
    state : OptimizerState
        Optimizer state created over ``params``.
    weight_pos, weight_neg : ndarray of shape (K,)
        Class weights of positive / negative targets of each output
        (multinomial: ``weight_pos[k]`` is the weight of class k).
    seed : int
    shuffle : bool
    n_threads : int
        Threads of the dense minibatch gradient and of the optimizer step
        (each goes parallel when the cost model says it pays).
    """
    cdef Rows rows
    cdef OptimizerState state
    cdef object keep
    cdef object params
    cdef void* y
    cdef void* sw
    cdef void* p
    cdef double* wpos
    cdef double* wneg
    cdef Py_ssize_t[::1] order
    cdef fo_rng rng
    cdef Py_ssize_t K, batch_size, max_row_nnz
    cdef int loss, penalty, lr_kind, n_threads
    cdef double loss_param, alpha, l1_ratio, eta0, power_t, optimal_init, rate_scale
    cdef bint multinomial, fit_intercept, shuffle
    cdef double lr, loss_sum

    def __init__(self, dict config, X, Y, sample_weight, train_idx, params,
                 OptimizerState state, weight_pos, weight_neg, unsigned long long seed,
                 bint shuffle, int n_threads):
        _check_objective_kinds(config)
        if check_kind(SGDLearningRate, config["lr_kind"]) in (LR_PA1, LR_PA2):
            raise ValueError("the passive-aggressive rates are for the per-sample engine")
        x_keep = []
        self.rows = rows_of(X, x_keep)
        self.max_row_nnz = max_row_values(&self.rows)
        dtype = np.float32 if self.rows.is32 else np.float64
        self.K = (params.shape[0]) // (self.rows.n_features + 1)
        self.y = _ptr(Y, dtype, "Y", False)
        self.sw = _ptr(sample_weight, dtype, "sample_weight", False)
        self.p = _ptr(params, dtype, "params")
        wp = np.ascontiguousarray(weight_pos, dtype=np.float64)
        wn = np.ascontiguousarray(weight_neg, dtype=np.float64)
        self.wpos = <double*> cnp.PyArray_DATA(wp)
        self.wneg = <double*> cnp.PyArray_DATA(wn)
        self.keep = (x_keep, Y, sample_weight, wp, wn)
        self.params = params
        self.state = state
        self.order = np.array(train_idx, dtype=np.intp)
        fo_rng_seed(&self.rng, seed, 0)
        self.shuffle = shuffle
        self.n_threads = n_threads
        self.loss = config["loss"]
        self.loss_param = config["loss_param"]
        self.penalty = config["penalty"]
        self.alpha = config["alpha"]
        self.l1_ratio = config["l1_ratio"]
        self.multinomial = config["multinomial"]
        self.fit_intercept = config["fit_intercept"]
        self.batch_size = config["batch_size"]
        self.lr_kind = config["lr_kind"]
        self.eta0 = config["eta0"]
        self.lr = config["eta0"]
        self.power_t = config["power_t"]
        self.optimal_init = config["optimal_init"]
        self.rate_scale = config["rate_scale"]

    def divide_lr(self, double factor):
        """'adaptive' learning rate: divide the rate by ``factor``; return the new rate."""
        if self.lr_kind == LR_SOLVER:
            return self.state.divide_lr(factor)
        self.lr /= factor
        return self.lr

    def epoch(self):
        """One pass over the training samples; return the sum of per-sample
        losses plus n_train times the penalty at the end of the epoch.

        Raises FloatingPointError when the loss or a parameter is not finite.
        """
        cdef double total, penalty
        if self.shuffle:
            fo_rng_shuffle(&self.rng, &self.order[0], self.order.shape[0])
        with one_blas_thread():
            if self.rows.is32:
                total = self._epoch(<float*> self.p, NULL)
                penalty = self._penalty(<float*> self.p)
            else:
                total = self._epoch(<double*> self.p, NULL)
                penalty = self._penalty(<double*> self.p)
        if not isfinite(total) or not np.isfinite(self.params).all():
            raise FloatingPointError("non-finite coefficients or loss")
        self.loss_sum = total
        return total + self.order.shape[0] * penalty

    def range_test(self, double min_lr, double max_lr, Py_ssize_t n_steps, double beta,
                   double stop_factor):
        """Run the learning-rate range test in place (see ``fastopt/_range_test.pxd``).

        Up to ``n_steps`` minibatches as :meth:`epoch` cuts them, continuing
        into the next (reshuffled) epoch when one ends; step i steps at
        ``min_lr (max_lr / min_lr)^(i / (n_steps - 1))`` (the optimizer's own
        schedule and scikit-learn's rates are off). Stops after the first step
        whose smoothed loss is not finite or exceeds ``stop_factor`` times its
        minimum. Returns a (3, steps run) float64 array: rates, minibatch
        losses (mean per-sample loss before the step, without the penalty)
        and smoothed losses.
        """
        cdef RangeTest rt
        out = np.empty((3, max(n_steps, 0)))
        range_init(&rt, <double*> cnp.PyArray_DATA(<cnp.ndarray> out), min_lr, max_lr,
                   n_steps, beta, stop_factor)
        range_begin(&rt)
        rule_drop_schedule(&self.state.cfg)  # the test owns the rate
        with one_blas_thread():
            if self.rows.is32:
                self._epoch(<float*> self.p, &rt)
            else:
                self._epoch(<double*> self.p, &rt)
        return out[:, :rt.n_run].copy()

    def report(self):
        """scikit-learn's verbose figures after an epoch: (norm of the
        coefficients, number of non-zero coefficients, intercepts, sum of the
        losses of the epoch)."""
        coef = self.params[: self.K * self.rows.n_features]
        return (float(np.linalg.norm(coef)), int(np.count_nonzero(coef)),
                self.params[self.K * self.rows.n_features:], self.loss_sum)

    cdef double _penalty(self, floating* p):
        cdef Py_ssize_t j, n = self.K * self.rows.n_features
        cdef double s2 = 0.0, s1 = 0.0
        if self.penalty == PENALTY_NONE:
            return 0.0
        for j in range(n):
            s2 += p[j] * p[j]
            s1 += fabs(p[j])
        return self.alpha * ((1.0 - self.l1_ratio) * 0.5 * s2 + self.l1_ratio * s1)

    cdef double _epoch(self, floating* p, RangeTest* rt) except? -1.0:
        """One pass over ``order`` in minibatches; return the sum of the losses.

        With ``rt`` (the range test), ``rt.n_steps`` minibatches instead,
        wrapping around ``order`` (reshuffled at each new epoch when
        ``shuffle``), step i at rate ``range_rate(rt, i)``, stopping when
        ``range_record`` says so.
        """
        cdef Py_ssize_t d = self.rows.n_features, K = self.K
        cdef Py_ssize_t n_params = K * d + K
        cdef Py_ssize_t n_train = self.order.shape[0]
        cdef bint sparse = self.rows.indices != NULL
        cdef Py_ssize_t block_rows = _block_rows(self.batch_size)
        cdef Py_ssize_t max_blocks = (self.batch_size + block_rows - 1) // block_rows
        cdef Py_ssize_t chunk = max(1, min(<Py_ssize_t> CHUNK_ROWS, block_rows,
                                           CHUNK_BYTES // (max(1, d) * <Py_ssize_t> sizeof(floating))))
        cdef floating* g = <floating*> malloc(n_params * sizeof(floating))
        cdef floating* z = <floating*> malloc(
            (K if sparse else max_blocks * chunk * K) * sizeof(floating))
        cdef floating* xb = NULL
        cdef floating* parts = NULL
        cdef double* losses = NULL
        cdef _DenseJob job
        cdef floating* gp = NULL
        cdef floating* coef
        cdef floating* cs[3]
        cdef floating* gs[3]
        cdef floating* ss[3]
        cdef int* slot = NULL
        cdef int* pos = NULL
        cdef Py_ssize_t* feats = NULL
        cdef Py_ssize_t start, nb, b, s, i, j, k, m = 0, off, q, n_step, n_coef, it
        cdef Py_ssize_t n_batches = (n_train + self.batch_size - 1) // self.batch_size
        cdef double total = 0.0, l2 = 0.0, l1 = 0.0, scale, batch_loss, sample_loss
        cdef int buf
        cdef RuleConfig* cfg = &self.state.cfg
        cdef RuleState* st = &self.state.st
        cdef fo_interrupt_clock clock
        cdef bint interrupted = False
        for buf in range(3):
            ss[buf] = <floating*> self.state.flat_buffer(buf)
            gs[buf] = NULL
        if self.penalty != PENALTY_NONE:
            l2 = self.alpha * (1.0 - self.l1_ratio)
            l1 = self.alpha * self.l1_ratio
        if sparse:
            gp = <floating*> malloc(n_params * sizeof(floating))
            slot = <int*> malloc(d * sizeof(int))
            feats = <Py_ssize_t*> malloc(d * sizeof(Py_ssize_t))
            # non-zeros of a batch: at most batch_size of the longest rows, at most all
            pos = <int*> malloc(max(1, min(self.batch_size * self.max_row_nnz,
                                           self.rows.nnz)) * sizeof(int))
            for buf in range(3):
                if ss[buf] != NULL:
                    gs[buf] = <floating*> malloc(n_params * sizeof(floating))
        else:
            xb = <floating*> malloc(max_blocks * chunk * d * sizeof(floating))
            losses = <double*> malloc(self.batch_size * sizeof(double))
            if max_blocks > 1:
                parts = <floating*> malloc((max_blocks - 1) * n_params * sizeof(floating))
        try:
            if g == NULL or z == NULL or (
                    (xb == NULL or losses == NULL or (max_blocks > 1 and parts == NULL))
                    if not sparse else (
                    gp == NULL or slot == NULL or feats == NULL or pos == NULL
                    or (ss[0] != NULL and gs[0] == NULL) or (ss[1] != NULL and gs[1] == NULL)
                    or (ss[2] != NULL and gs[2] == NULL))):
                raise MemoryError()
            with nogil:
                fo_interrupt_start(&clock)
                if sparse:
                    for j in range(d):
                        slot[j] = -1
                for it in range(n_batches if rt == NULL else rt.n_steps):
                    if fo_interrupt_pending(&clock):
                        interrupted = True
                        break
                    b = it % n_batches
                    if rt != NULL and b == 0 and self.shuffle:
                        fo_rng_shuffle(&self.rng, &self.order[0], n_train)
                    start = b * self.batch_size
                    nb = min(self.batch_size, n_train - start)
                    # Sparse steps work on compact copies of the coefficients of
                    # the features in the batch (K per feature) and the
                    # intercepts; dense steps on the flat buffer itself.
                    if sparse:
                        m = self._collect(start, nb, slot, feats, pos)
                        self._gather(p, ss, gp, gs, feats, m, False)
                        coef, n_coef, n_step = gp, m * K, m * K + K
                        for buf in range(3):
                            cs[buf] = gs[buf]
                    else:
                        coef, n_coef, n_step = p, K * d, n_params
                        for buf in range(3):
                            cs[buf] = ss[buf]
                    if sparse:
                        # summed into total sample by sample, as the epoch loss always was
                        for j in range(n_step):
                            g[j] = 0
                        q = 0
                        batch_loss = 0.0
                        for s in range(nb):
                            i = self.order[start + s]
                            sample_loss = self._sample(coef, g, z, pos + q, m, i)
                            total += sample_loss
                            batch_loss += sample_loss
                            q += row_span(&self.rows, i, &off)
                    else:
                        batch_loss = self._dense_batch(&job, p, g, xb, z, parts, losses, chunk,
                                                       start, nb)
                        total += batch_loss
                    scale = 1.0 / nb
                    for j in range(n_step):
                        g[j] *= scale
                    if not self.fit_intercept:
                        for k in range(K):
                            g[n_coef + k] = 0
                    if l2 != 0.0 or l1 != 0.0:
                        for j in range(n_coef):
                            g[j] += l2 * coef[j] + (l1 if coef[j] > 0 else
                                                    (-l1 if coef[j] < 0 else 0.0))
                    if rt == NULL:
                        self._set_lr()
                    else:
                        self.state.set_lr(range_rate(rt, it))
                    rule_step(cfg, st, coef, g, cs[0], cs[1], cs[2], n_step, self.n_threads)
                    if sparse:
                        self._gather(p, ss, gp, gs, feats, m, True)
                        for j in range(m):
                            slot[feats[j]] = -1
                    if rt != NULL and range_record(rt, it, batch_loss / nb):
                        break
            if interrupted:
                raise_pending_error()
        finally:
            free(g)
            free(z)
            free(xb)
            free(parts)
            free(losses)
            free(gp)
            free(slot)
            free(pos)
            free(feats)
            for buf in range(3):
                free(gs[buf])
        return total

    cdef Py_ssize_t _collect(self, Py_ssize_t start, Py_ssize_t nb, int* slot,
                             Py_ssize_t* feats, int* pos) noexcept nogil:
        """Number the distinct features of the minibatch ``order[start:start + nb]``
        (CSR): ``feats[0:m]`` lists them, ``slot[f]`` is feature f's number and
        ``pos`` receives the number of every non-zero of the batch, row after
        row. Returns m."""
        cdef Py_ssize_t s, j, i, f, off, nnz, m = 0, q = 0, t
        cdef Py_ssize_t n_train = self.order.shape[0]
        for s in range(nb):
            t = start + s + PREFETCH_AHEAD
            if t < n_train:
                fo_sgd_prefetch_sample(
                    <const char*> self.rows.data, self.rows.indices, self.rows.indptr,
                    self.rows.n_features, 4 if self.rows.is32 else 8, self.order[t],
                    <const char*> self.y, 1 if self.multinomial else self.K,
                    self.rows.n_samples, <const char*> self.sw,
                    self.order[t + PREFETCH_AHEAD] if t + PREFETCH_AHEAD < n_train else -1)
            i = self.order[start + s]
            nnz = row_span(&self.rows, i, &off)
            for j in range(nnz):
                f = self.rows.indices[off + j]
                if slot[f] < 0:
                    slot[f] = m
                    feats[m] = f
                    m += 1
                pos[q] = slot[f]
                q += 1
        return m

    cdef void _set_lr(self) noexcept nogil:
        """sklearn's learning rate at the coming step (string solvers only)."""
        cdef double t = self.state.steps_taken() + 1
        if self.lr_kind == LR_SOLVER:
            return
        if self.lr_kind == LR_OPTIMAL:
            self.state.set_lr(fo_lr_optimal(self.rate_scale, self.alpha, self.optimal_init, t))
        elif self.lr_kind == LR_INVSCALING:
            self.state.set_lr(fo_lr_invscaling(self.rate_scale * self.eta0, t, self.power_t))
        else:
            self.state.set_lr(self.lr)

    cdef void _gather(self, floating* p, floating** ss, floating* gp, floating** gs,
                      const Py_ssize_t* feats, Py_ssize_t m, bint back) noexcept nogil:
        """Copy the coefficients of features ``feats[0:m]`` and the intercepts,
        with their optimizer state, from the flat buffers (``p``, ``ss``) to
        the compact ones (``gp``, ``gs``: K per feature, then the K
        intercepts), or back when ``back``."""
        cdef Py_ssize_t d = self.rows.n_features, K = self.K, j, k
        cdef floating* full
        cdef floating* compact
        cdef int buf
        for buf in range(4):
            full = p if buf == 0 else ss[buf - 1]
            compact = gp if buf == 0 else gs[buf - 1]
            if full == NULL:
                continue
            if back:
                for j in range(m):
                    for k in range(K):
                        full[k * d + feats[j]] = compact[j * K + k]
                for k in range(K):
                    full[K * d + k] = compact[m * K + k]
            else:
                for j in range(m):
                    for k in range(K):
                        compact[j * K + k] = full[k * d + feats[j]]
                for k in range(K):
                    compact[m * K + k] = full[K * d + k]

    cdef double _dense_batch(self, _DenseJob* job, const floating* p, floating* g,
                             floating* xb, floating* z, floating* parts, double* losses,
                             Py_ssize_t chunk, Py_ssize_t start, Py_ssize_t nb) noexcept nogil:
        """Gradient of the dense samples ``order[start:start + nb]`` into g (flat
        ``[K x d, K]`` layout, overwritten); return the sum of their losses.

        The batch is cut into fixed blocks of ``_block_rows(nb)`` rows (a
        layout that depends on nb only), run on the worker pool when the cost
        model allows: block 0 writes g, block b > 0 its partial gradient
        ``parts[b - 1]``, and the partials are added to g in block order;
        per-sample losses are added in sample order. The result is therefore
        the same for any number of threads.
        """
        cdef Py_ssize_t n_params = self.K * self.rows.n_features + self.K
        cdef Py_ssize_t b, j, s, rows = _block_rows(nb)
        cdef Py_ssize_t n_blocks = (nb + rows - 1) // rows
        cdef floating* part
        cdef double total = 0.0
        cdef double work = (<double> nb * self.K * self.rows.n_features * DENSE_NS_PER_VALUE
                            + <double> (n_blocks - 1) * n_params * DENSE_NS_PER_VALUE)
        job.engine = <void*> self
        job.p = p
        job.g = g
        job.xb = xb
        job.z = z
        job.parts = parts
        job.losses = losses
        job.chunk = chunk
        job.start = start
        job.nb = nb
        job.rows = rows
        job.d = self.rows.n_features
        job.K = self.K
        job.n_params = n_params
        job.is32 = floating is float
        run_blocks(_dense_block, job, n_blocks, plan_threads(work, n_blocks, self.n_threads))
        for b in range(1, n_blocks):
            part = parts + (b - 1) * n_params
            for j in range(n_params):
                g[j] += part[j]
        for s in range(nb):
            total += losses[s]
        return total

    cdef void _dense_grad(self, const floating* p, floating* g, floating* xb, floating* z,
                          Py_ssize_t chunk, Py_ssize_t start, Py_ssize_t nb,
                          double* losses) noexcept nogil:
        """Sum the gradients of the dense samples ``order[start:start + nb]``
        into g (flat ``[K x d, K]`` layout, overwritten); ``losses[s]`` gets
        sample s's loss.

        In chunks of ``chunk`` rows: gather the rows into ``xb`` (prefetching
        ahead: they are random memory accesses), outputs ``Z = X_c W^T`` by
        GEMM, the per-sample output gradients, then ``G += dZ^T X_c`` by GEMM
        and the intercept gradients (column sums of dZ, in sample order).
        """
        cdef Py_ssize_t d = self.rows.n_features, K = self.K, n_train = self.order.shape[0]
        cdef Py_ssize_t ci, c0, nc, s, t, i, k
        cdef const floating* X = <const floating*> self.rows.data
        for k in range(K):
            g[K * d + k] = 0
        for ci in range((nb + chunk - 1) // chunk):
            c0 = ci * chunk
            nc = min(chunk, nb - c0)
            for s in range(nc):
                t = start + c0 + s
                if t + PREFETCH_AHEAD < n_train:
                    fo_sgd_prefetch_sample(
                        <const char*> X, NULL, NULL, d, sizeof(floating),
                        self.order[t + PREFETCH_AHEAD], <const char*> self.y,
                        1 if self.multinomial else K, self.rows.n_samples,
                        <const char*> self.sw, -1)
                memcpy(xb + s * d, X + self.order[t] * d, d * sizeof(floating))
            gemm(False, True, <int> nc, <int> K, <int> d, <floating> 1, xb, <int> d, p, <int> d,
                 <floating> 0, z, <int> K)
            for s in range(nc):
                i = self.order[start + c0 + s]
                for k in range(K):
                    z[s * K + k] += p[K * d + k]
                losses[c0 + s] = self._output_grad(z + s * K, i)
                for k in range(K):
                    g[K * d + k] += z[s * K + k]
            gemm(True, False, <int> K, <int> d, <int> nc, <floating> 1, z, <int> K, xb, <int> d,
                 <floating> (0 if c0 == 0 else 1), g, <int> d)

    cdef double _output_grad(self, floating* z, Py_ssize_t i) noexcept nogil:
        """Turn sample i's outputs ``z[0:K]`` (intercepts included) into the
        derivatives of its loss times its sample and class weights; return the
        (unweighted) loss."""
        cdef Py_ssize_t K = self.K, k, cls
        cdef const floating* y = <const floating*> self.y
        cdef double w = (<const floating*> self.sw)[i]
        cdef double loss = 0.0, dz, yk, zc
        if self.multinomial:
            cls = <Py_ssize_t> y[i]
            zc = z[cls]
            loss = softmax(z, K) - zc
            w *= self.wpos[cls]
            for k in range(K):
                z[k] = w * (z[k] - (1.0 if k == cls else 0.0))
        else:
            for k in range(K):
                yk = y[k * self.rows.n_samples + i]
                loss += fo_sgd_loss(self.loss, self.loss_param, yk, z[k])
                dz = fo_sgd_dloss(self.loss, self.loss_param, yk, z[k])
                dz = min(max(dz, -FO_SGD_MAX_DLOSS), FO_SGD_MAX_DLOSS)
                z[k] = dz * w * (self.wpos[k] if yk > 0 else self.wneg[k])
        return loss

    cdef double _sample(self, const floating* coef, floating* g, floating* z, const int* pos,
                        Py_ssize_t m, Py_ssize_t i) noexcept nogil:
        """Add CSR sample i's gradient to the compact gradient g; return its loss.

        ``coef`` and ``g`` are compact ``[m x K, K]`` buffers and ``pos[j]``
        the number of the feature of the row's j-th non-zero (see ``_collect``).
        """
        cdef Py_ssize_t K = self.K, k, j, off, nnz
        cdef const floating* x
        cdef double loss, dz, acc
        nnz = row_span(&self.rows, i, &off)
        x = <const floating*> self.rows.data + off
        for k in range(K):
            acc = 0.0
            for j in range(nnz):
                acc += <double> coef[pos[j] * K + k] * <double> x[j]
            z[k] = acc + coef[m * K + k]
        loss = self._output_grad(z, i)
        for k in range(K):
            dz = z[k]
            if dz == 0:
                continue
            for j in range(nnz):
                g[pos[j] * K + k] += dz * x[j]
            g[m * K + k] += dz
        return loss
