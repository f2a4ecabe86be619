# cython: language_level=3
"""Compiled training and inference passes of fastopt's multi-layer perceptrons.

Layout. All trainable parameters live in one flat buffer in scikit-learn's
``_pack`` order -- every layer's weight matrix (row-major, fan_in x fan_out),
then every intercept, then (batch norm) every hidden layer's scale, then
every shift -- so that ``coefs_``/``intercepts_`` are views into it,
the L2/L1 penalty touches one contiguous prefix, and one ``penalised_step`` of
:mod:`fastopt.optim` updates the whole network in a single fused pass.

Shape of the code (one idea per function, all ``nogil``, fused over
float32/float64 with ``floating``):

* ``gemm`` (``fastopt/_blas.pxd``) -- row-major GEMM on
  ``scipy.linalg.cython_blas``.
* ``_first_layer`` / ``_first_layer_grad_csr`` -- input layer product, dense
  (GEMM on gathered rows) or CSR (sparse kernel, no densification; with input
  dropout it reads the dropped copies of the stored values, ``_csr_row_values``).
* ``_bias_activation`` / ``_delta_derivative`` -- one pass per layer that
  fuses bias add, activation and inverted dropout forward, and the
  activation derivative and dropout mask backward; ``_draw_masks``.
* ``_output_loss_delta`` -- the output layer's loss and delta, row by row
  (``csrc/fo_losses.h``, shared with the linear engine: the canonical loss of
  each output activation, with delta ``(p - y) w``, or the absolute-error or
  Huber loss of identity outputs).
* ``_run_rows`` / ``_run_grads`` -- one minibatch as two jobs of fixed
  blocks on fastopt's worker pool (see the *minibatch* section);
  ``_bn_rows`` -- with batch normalisation, the forward and backward passes
  as one rows job per layer and one columns job per hidden layer for the
  batch statistics (see the *batch normalisation* section);
  ``_penalty`` -- the weight penalty, ``_penalty_step`` -- penalty and
  optimizer step, fused into one pass for scikit-learn's Adam (the default
  fit); both are :mod:`fastopt.optim`'s (``penalty_grad``, ``penalised_step``).
* ``_epoch`` -- the whole epoch (shuffle, gather, forward, backward,
  penalty, optimizer step, loss accumulation) in one call without the GIL
  and without allocation, or the learning-rate range test
  (``fastopt/_range_test.pxd``: minibatches across epochs at a geometric
  rate, in one call); ``_loss_grad`` -- full-batch loss and gradient for
  L-BFGS, in fixed row chunks; ``_predict`` -- chunked inference.

``MLPCore`` owns the workspaces (allocated once per fit for the largest
minibatch) and is the only Python-facing object. Every reduction runs in a
fixed order over blocks whose layout depends on the data only, and BLAS is
held to one thread during the compiled calls, so a fit gives the same bits
on any number of threads.
"""

import numpy as np
import scipy.sparse as sp

cimport numpy as cnp
from cython cimport floating
from libc.string cimport memcpy, memset
from fastopt._blas cimport gemm
from fastopt._openmp cimport loop_threads, plan_threads, run_blocks
from fastopt._openmp import one_blas_thread
from fastopt._kinds import check_kind
from fastopt.optim._rules cimport (RuleConfig, RuleState, penalised_step, penalty_grad,
                                   rule_drop_schedule, rule_set_lr)
from fastopt.optim._state cimport OptimizerState
from fastopt._losses cimport output_loss_delta, softmax
from fastopt._rows cimport Rows, mean_row_values, rows_of
from fastopt._interrupt cimport (
    fo_interrupt_clock, fo_interrupt_pending, fo_interrupt_start, raise_pending_error,
)
from fastopt._range_test cimport RangeTest, range_begin, range_init, range_rate, range_record

cnp.import_array()

cdef extern from "math.h" nogil:
    float expf(float)
    float tanhf(float)
    double exp(double)
    double tanh(double)
    double sqrt(double)
    bint isfinite(double)

cdef extern from "fo_rng.h" nogil:
    ctypedef struct fo_rng:
        pass
    void fo_rng_seed(fo_rng* r, unsigned long long seed, unsigned long long stream)
    double fo_rng_uniform(fo_rng* r)
    void fo_rng_shuffle(fo_rng* r, Py_ssize_t* a, Py_ssize_t n)

cdef extern from "fo_mlp_kernels.h" nogil:
    double fo_mlp_grad_sumsq_f32(const float* g, const float* p, Py_ssize_t n, float c2,
                                 float c1)
    double fo_mlp_grad_sumsq_f64(const double* g, const double* p, Py_ssize_t n, double c2,
                                 double c1)
    void fo_mlp_bias_grad_f32(const float* d, Py_ssize_t m, Py_ssize_t h, float scale,
                              float* gb)
    void fo_mlp_bias_grad_f64(const double* d, Py_ssize_t m, Py_ssize_t h, double scale,
                              double* gb)
    void fo_mlp_bias_relu_f32(float* z, const float* b, Py_ssize_t m, Py_ssize_t h)
    void fo_mlp_bias_relu_f64(double* z, const double* b, Py_ssize_t m, Py_ssize_t h)
    void fo_mlp_relu_delta_f32(float* d, const float* a, Py_ssize_t n)
    void fo_mlp_relu_delta_f64(double* d, const double* a, Py_ssize_t n)
    void fo_mlp_bias_act_f32(int kind, float* z, const float* b, Py_ssize_t m, Py_ssize_t h,
                             float* pre)
    void fo_mlp_bias_act_f64(int kind, double* z, const double* b, Py_ssize_t m,
                             Py_ssize_t h, double* pre)
    void fo_mlp_act_delta_f32(int kind, float* d, const float* x, const float* mask,
                              Py_ssize_t n)
    void fo_mlp_act_delta_f64(int kind, double* d, const double* x, const double* mask,
                              Py_ssize_t n)

    cpdef enum Activation "fo_mlp_act":
        ACT_IDENTITY "FO_ACT_IDENTITY"
        ACT_LOGISTIC "FO_ACT_LOGISTIC"
        ACT_TANH "FO_ACT_TANH"
        ACT_RELU "FO_ACT_RELU"
        ACT_EXP "FO_ACT_EXP"            # output only (Poisson regression)
        ACT_SOFTMAX "FO_ACT_SOFTMAX"    # output only (multiclass)
        ACT_LEAKY_RELU "FO_ACT_LEAKY_RELU"
        ACT_ELU "FO_ACT_ELU"
        ACT_GELU "FO_ACT_GELU"
        ACT_SILU "FO_ACT_SILU"

# activation name -> code, from the enum: ACT_LEAKY_RELU is 'leaky_relu'
ACTIVATION_CODES = {code.name[len("ACT_"):].lower(): code for code in Activation}

cdef extern from "fo_losses.h":
    cpdef enum OutputLoss "fo_output_loss":
        OUT_SQUARED_ERROR "FO_OUT_SQUARED_ERROR"
        OUT_POISSON "FO_OUT_POISSON"
        OUT_BINARY_LOG_LOSS "FO_OUT_BINARY_LOG_LOSS"
        OUT_LOG_LOSS "FO_OUT_LOG_LOSS"
        OUT_ABSOLUTE_ERROR "FO_OUT_ABSOLUTE_ERROR"
        OUT_HUBER "FO_OUT_HUBER"

# the loss each output activation trains with by default (its canonical link)
CANONICAL_LOSS = {ACT_IDENTITY: OUT_SQUARED_ERROR, ACT_EXP: OUT_POISSON,
                  ACT_LOGISTIC: OUT_BINARY_LOG_LOSS, ACT_SOFTMAX: OUT_LOG_LOSS}
# losses other than the output activation's (identity output only), from the
# enum: OUT_ABSOLUTE_ERROR is 'absolute_error'
LOSS_CODES = {code.name[len("OUT_"):].lower(): code
              for code in (OUT_ABSOLUTE_ERROR, OUT_HUBER)}

# activations of hidden layers (every code but the output-only exp and softmax)
HIDDEN_ACTIVATIONS = tuple(name for name, code in ACTIVATION_CODES.items()
                           if code not in (ACT_EXP, ACT_SOFTMAX))
# output activations (scikit-learn's, and exp for Poisson regression)
OUTPUT_ACTIVATIONS = tuple(name for name, code in ACTIVATION_CODES.items()
                           if code in (ACT_IDENTITY, ACT_LOGISTIC, ACT_SOFTMAX, ACT_EXP))

cdef enum:
    MAX_LAYERS = 64


cdef struct Net:
    int n_w                          # number of weight layers
    Py_ssize_t units[MAX_LAYERS + 1]
    Py_ssize_t w_off[MAX_LAYERS]     # offset of coefs_[l] in the flat buffer
    Py_ssize_t b_off[MAX_LAYERS]     # offset of intercepts_[l]
    Py_ssize_t n_coef                # coefs_ occupy params[0:n_coef]
    Py_ssize_t n_params
    int hidden[MAX_LAYERS]           # hidden[l]: activation of hidden layer l (1 <= l < n_w)
    int out
    int loss                         # OutputLoss of the output layer
    double huber_delta
    double dropout[MAX_LAYERS]       # drop probability of layer l's units (l = 0: input)
    bint dropped                     # any dropout rate > 0
    bint bn                          # batch normalisation after every hidden affine map
    Py_ssize_t g_off[MAX_LAYERS]     # offset of hidden layer l's BN scale (gamma) in params
    Py_ssize_t beta_off[MAX_LAYERS]  # ... of its BN shift (beta)
    Py_ssize_t r_off[MAX_LAYERS]     # offset of its running mean in ``running``
    Py_ssize_t n_hidden              # hidden units in all; running variances at + n_hidden
    void* running                    # running means, then variances (set by each entry)
    void* xhat[MAX_LAYERS + 1]       # normalised pre-activation of hidden layer l (training)
    double* inv_std[MAX_LAYERS + 1]  # 1 / sqrt(batch variance + eps) per unit of layer l
    void* bn_scale                   # inference: gamma / sqrt(running variance + eps)
    void* zeros                      # a zero intercept as wide as the widest hidden layer
    double l2                        # penalty = l2/2 ||W||^2 + l1 ||W||_1
    double l1
    Py_ssize_t cap                   # rows of the workspaces
    void* act[MAX_LAYERS + 1]        # act[0]: gathered input; act[l]: layer l output
    void* pre[MAX_LAYERS + 1]        # pre-activation of layer l, where act' needs it (or NULL)
    void* mask[MAX_LAYERS + 1]       # dropout scale per unit of layer l (or NULL; CSR: l > 0)
    void* in_values                  # CSR input dropout: the minibatch's stored values, dropped
    Py_ssize_t* in_off               # ... row i's start in in_values (cap + 1 entries)
    void* delta[MAX_LAYERS + 1]      # delta[l]: back-propagated delta of hidden layer l
    void* y
    void* sw
    double* row_loss                 # weighted loss of each row of the last rows job
    Py_ssize_t gblock[MAX_LAYERS + 1]  # first block of layer l in the gradient job
    double* block_sumsq              # squared gradient norm of each weight block
    bint is32


cdef struct Batch:                   # the rows a training pass reads
    const Rows* x
    const void* y                    # targets, n x n_outputs (the parameters' dtype)
    const void* sw                   # sample weights, or NULL
    Py_ssize_t* order                # row order, shuffled in place
    Py_ssize_t n


cdef struct Step:                    # what every minibatch updates (besides the parameters)
    void* grads
    RuleConfig* cfg
    RuleState* st
    void* s0                         # the rule's state buffers (NULL when unused)
    void* s1
    void* s2


cdef struct EpochRun:                # how an epoch runs
    Py_ssize_t batch_size
    bint shuffle
    fo_rng* shuffle_rng
    fo_rng* dropout_rng
    double* norms                    # per-layer gradient norms (net.n_w), or NULL
    RangeTest* rt                    # the learning-rate range test, or NULL
    int n_threads
    bint interrupted                 # set when a Python signal handler raised


# --------------------------------------------------------------- scalar maths

cdef inline floating _exp(floating x) noexcept nogil:
    if floating is float:
        return expf(x)
    else:
        return exp(x)


cdef inline floating _tanh(floating x) noexcept nogil:
    if floating is float:
        return tanhf(x)
    else:
        return tanh(x)


cdef inline floating _activate(int kind, floating z) noexcept nogil:
    if kind == ACT_RELU:
        return z if z > 0 else 0
    if kind == ACT_TANH:
        return _tanh(z)
    if kind == ACT_LOGISTIC:
        return 1 / (1 + _exp(-z))
    return z


cdef inline floating _derivative(int kind, floating a) noexcept nogil:
    """Activation derivative expressed through the activation output ``a``."""
    if kind == ACT_RELU:
        return 1 if a > 0 else 0
    if kind == ACT_TANH:
        return 1 - a * a
    if kind == ACT_LOGISTIC:
        return a * (1 - a)
    return 1


# ------------------------------------------------------------------- kernels

cdef void _gather(const Net* net, const Rows* inp, const floating* Y, const floating* sw,
                  const Py_ssize_t* rows, Py_ssize_t i0, Py_ssize_t i1,
                  Py_ssize_t n_out) noexcept nogil:
    """Copy minibatch rows ``i0:i1`` of X (dense only), Y and sample weights."""
    cdef Py_ssize_t i, d = inp.n_features
    cdef floating* xb = <floating*> net.act[0]
    cdef floating* yb = <floating*> net.y
    cdef floating* wb = <floating*> net.sw
    for i in range(i0, i1):
        if inp.indptr == NULL:
            memcpy(xb + i * d, <const floating*> inp.data + rows[i] * d, d * sizeof(floating))
        if Y != NULL:
            memcpy(yb + i * n_out, Y + rows[i] * n_out, n_out * sizeof(floating))
        if sw != NULL:
            wb[i] = sw[rows[i]]


cdef inline const floating* _csr_row_values(const Net* net, const Rows* inp,
                                           const floating* dropped, const Py_ssize_t* rows,
                                           Py_ssize_t i) noexcept nogil:
    """Stored values of minibatch row ``i`` of CSR input: X's own, or (``dropped``,
    the minibatch's values after input dropout) their dropped-out copies."""
    if dropped != NULL:
        return dropped + net.in_off[i]
    return <const floating*> inp.data + inp.indptr[rows[i]]


cdef void _first_layer(const Net* net, const Rows* inp, const floating* X,
                       const floating* dropped, const Py_ssize_t* rows, Py_ssize_t i0,
                       Py_ssize_t i1, const floating* W, floating* Z) noexcept nogil:
    """``Z[i0:i1] = X[rows[i0:i1]] @ W`` for the input layer; dense input is read
    from ``X``, the block's rows in order (gathered, or consecutive rows in place),
    CSR input from ``_csr_row_values``."""
    cdef Py_ssize_t i, j, q, start, h = net.units[1], d = inp.n_features
    cdef const floating* values
    cdef const floating* w
    cdef floating* z
    cdef floating v
    if inp.indptr == NULL:
        gemm(False, False, i1 - i0, h, d, <floating> 1, X + i0 * d, d, W, h, <floating> 0,
             Z + i0 * h, h)
        return
    for i in range(i0, i1):
        z = Z + i * h
        memset(z, 0, h * sizeof(floating))
        start = inp.indptr[rows[i]]
        values = _csr_row_values(net, inp, dropped, rows, i)
        for q in range(inp.indptr[rows[i] + 1] - start):
            v = values[q]
            w = W + inp.indices[start + q] * h
            for j in range(h):
                z[j] += v * w[j]


cdef void _first_layer_grad_csr(const Net* net, const Rows* inp, const floating* dropped,
                                const Py_ssize_t* rows, Py_ssize_t m, const floating* D,
                                floating scale, bint accumulate, Py_ssize_t j0, Py_ssize_t j1,
                                floating* G) noexcept nogil:
    """``G[:, j0:j1] = scale X[rows]^T D[:, j0:j1] (+ G if accumulate)``, CSR input
    (its values from ``_csr_row_values``).

    Every element is summed row after row, whatever the column range, so a
    split into column ranges gives the result of the whole product.
    """
    cdef Py_ssize_t i, j, q, f, start, h = net.units[1]
    cdef const floating* values
    cdef const floating* drow
    cdef floating* g
    cdef floating v
    if not accumulate:
        for f in range(inp.n_features):
            memset(G + f * h + j0, 0, (j1 - j0) * sizeof(floating))
    for i in range(m):
        drow = D + i * h
        start = inp.indptr[rows[i]]
        values = _csr_row_values(net, inp, dropped, rows, i)
        for q in range(inp.indptr[rows[i] + 1] - start):
            v = scale * values[q]
            g = G + inp.indices[start + q] * h
            for j in range(j0, j1):
                g[j] += v * drow[j]


cdef void _bias_activation(int kind, floating* Z, const floating* b, Py_ssize_t m,
                           Py_ssize_t h, const floating* mask, floating* pre) noexcept nogil:
    """``Z = act(Z + b)``, times the inverted-dropout ``mask`` if given; ``pre``
    (if given) receives ``Z + b``.

    One loop per activation so that each inner loop vectorises; ReLU (the
    default) and the activations after it run as C kernels with an AVX2 clone.
    """
    cdef Py_ssize_t i, j
    cdef floating* z
    if kind == ACT_RELU:
        if floating is float:
            fo_mlp_bias_relu_f32(Z, b, m, h)
        else:
            fo_mlp_bias_relu_f64(Z, b, m, h)
    elif kind >= ACT_LEAKY_RELU:
        if floating is float:
            fo_mlp_bias_act_f32(kind, Z, b, m, h, pre)
        else:
            fo_mlp_bias_act_f64(kind, Z, b, m, h, pre)
    else:
        for i in range(m):
            z = Z + i * h
            if kind == ACT_IDENTITY:
                for j in range(h):
                    z[j] += b[j]
            else:
                for j in range(h):
                    z[j] = _activate(kind, z[j] + b[j])
    if mask != NULL:
        for i in range(m * h):
            Z[i] *= mask[i]


cdef void _draw_masks(floating** masks, Net* net, const Rows* inp, const Py_ssize_t* rows,
                      Py_ssize_t m, fo_rng* rng) noexcept nogil:
    """Inverted-dropout masks of the ``m`` minibatch rows ``rows`` for every
    layer with a dropout rate (the input first), drawn in layer order and row
    order from one generator (before the parallel forward pass, so they never
    depend on which thread runs which rows). CSR input draws one keep-or-drop
    per stored value and writes the kept values, scaled, to ``net.in_values``
    (X itself is never changed)."""
    cdef int l
    cdef Py_ssize_t i, p, off = 0
    cdef floating* mask
    cdef floating* values = <floating*> net.in_values
    cdef const floating* data = <const floating*> inp.data
    cdef double rate
    cdef floating keep_scale
    for l in range(net.n_w):
        rate = net.dropout[l]
        if rate == 0.0:
            continue
        keep_scale = <floating> (1.0 / (1.0 - rate))
        if l == 0 and inp.indptr != NULL:
            for i in range(m):
                net.in_off[i] = off
                for p in range(inp.indptr[rows[i]], inp.indptr[rows[i] + 1]):
                    values[off] = data[p] * keep_scale if fo_rng_uniform(rng) >= rate else 0
                    off += 1
            continue
        mask = masks[l]
        for i in range(m * net.units[l]):
            mask[i] = keep_scale if fo_rng_uniform(rng) >= rate else 0


cdef void _delta_derivative(int kind, floating* D, const floating* A, const floating* pre,
                            const floating* mask, Py_ssize_t n) noexcept nogil:
    """``D *= act'(A)`` (times the dropout mask, through which A was scaled);
    ``act'`` of the activations after ReLU is read from ``pre`` where kept."""
    cdef Py_ssize_t i
    if kind >= ACT_LEAKY_RELU:
        if floating is float:
            fo_mlp_act_delta_f32(kind, D, pre if pre != NULL else A, mask, n)
        else:
            fo_mlp_act_delta_f64(kind, D, pre if pre != NULL else A, mask, n)
    elif mask != NULL:
        for i in range(n):
            if mask[i] == 0:
                D[i] = 0
            else:
                D[i] *= mask[i] * _derivative(kind, A[i] / mask[i])
    elif kind == ACT_RELU:
        if floating is float:
            fo_mlp_relu_delta_f32(D, A, n)
        else:
            fo_mlp_relu_delta_f64(D, A, n)
    elif kind == ACT_TANH:
        for i in range(n):
            D[i] *= 1 - A[i] * A[i]
    elif kind == ACT_LOGISTIC:
        for i in range(n):
            D[i] *= A[i] * (1 - A[i])


cdef void _output_loss_delta(const Net* net, floating* Z, const floating* Y, const floating* sw,
                             Py_ssize_t m, Py_ssize_t k, double* loss) noexcept nogil:
    """Turn the output pre-activations ``Z`` into the output delta, row by row
    (``output_loss_delta``: ``(p - y) w`` for the canonical links, or the robust
    loss's gradient); ``loss[i]`` = weighted loss of row i."""
    cdef Py_ssize_t i
    cdef floating w = 1
    for i in range(m):
        if sw != NULL:
            w = sw[i]
        loss[i] = w * output_loss_delta(net.loss, <floating> net.huber_delta, Z + i * k,
                                        Y + i * k, w, k)


cdef void _output_activation(int kind, floating* Z, Py_ssize_t m, Py_ssize_t k) noexcept nogil:
    """Apply the output activation to ``Z`` in place (inference)."""
    cdef Py_ssize_t i
    if kind == ACT_SOFTMAX:
        for i in range(m):
            softmax(Z + i * k, k)
    elif kind != ACT_IDENTITY:
        for i in range(m * k):
            Z[i] = _activate(kind, Z[i]) if kind != ACT_EXP else _exp(Z[i])


# ---------------------------------------------------------------- minibatch
#
# A minibatch is two jobs for the worker pool, then the optimizer step:
#
# * rows: fixed blocks of ROW_BLOCK rows; a block gathers its rows, runs the
#   forward pass through every layer, the output loss and delta, and
#   back-propagates the deltas through the hidden layers -- all row-wise
#   independent, so each row's numbers do not depend on the blocking.
#   Prediction (no deltas, no minibatch to split across threads) runs blocks
#   of PREDICT_BLOCK rows, read in place from dense input (its rows are
#   consecutive): fewer, larger GEMMs, which BLAS runs closer to its peak.
# * grads: fixed blocks of GRAD_BLOCK input units of one layer's weight
#   gradient (``G[r0:r1] = A[:, r0:r1]^T D``, the whole minibatch in one GEMM;
#   CSR first layer: GRAD_BLOCK output columns), plus one intercept block per
#   layer (column sums in row order). No block reduces over another's output.
#
# Row losses are stored per row and summed in row order by the caller. The
# layout depends only on the network and the minibatch size, so results are
# identical for any number of threads; GEMMs run on one BLAS thread (the
# Python entry points limit BLAS) and the pool is the only threaded layer.

cdef enum:
    ROW_BLOCK = 64       # minibatch rows per block of the rows job
    PREDICT_BLOCK = 256  # ... when it predicts (MODE_HIDDEN, MODE_PREDICT)
    GRAD_BLOCK = 32      # weight-gradient rows (CSR first layer: columns) per block
    MODE_HIDDEN = 0      # rows job: hidden layers only
    MODE_PREDICT = 1     # ... forward pass and output activation
    MODE_TRAIN = 2       # ... forward, loss, deltas

# Cost model (one thread, measured in docs/threads.md): ns per multiply-add
# pair of the GEMMs at these block sizes.
cdef double NS_PER_FLOP = 0.05


ctypedef struct RowJob:
    Net* net
    const Rows* inp
    const void* Y
    const void* sw
    const Py_ssize_t* rows
    const void* params
    Py_ssize_t m
    Py_ssize_t block     # rows per block
    int mode
    bint masked
    bint bn_stage        # batch-normalised training: run stage ``stage`` only
    int stage            # forward: weight layer ``stage``; backward: hidden layer ``stage``
    bint backward


ctypedef struct GradJob:
    Net* net
    const Rows* inp
    const Py_ssize_t* rows
    Py_ssize_t m
    void* grads
    double scale
    bint accumulate
    const void* params   # with ``norms``: measure ``grads + penalty gradient``
    double c2            # ... whose terms are ``c2 W + c1 sign(W)``
    double c1
    bint norms           # write each weight block's squared norm to net.block_sumsq
    bint masked          # the rows job ran with dropout masks (CSR input: dropped values)


cdef inline floating* _rows_of(floating* buf, Py_ssize_t i0, Py_ssize_t h) noexcept nogil:
    """Row ``i0`` of the ``h``-column workspace ``buf``, or NULL if it has none."""
    return buf + i0 * h if buf != NULL else NULL


cdef inline const void* _delta_of(const Net* net, int l) noexcept nogil:
    """Delta at the output of weight layer ``l`` (output layer: in ``act``)."""
    return net.act[net.n_w] if l == net.n_w - 1 else net.delta[l + 1]


cdef floating* _input_rows(const RowJob* job, floating* X, Py_ssize_t i0,
                           Py_ssize_t i1) noexcept nogil:
    """The input of the first layer for rows ``i0:i1`` of the job: gathered into
    ``X`` (the gather buffer ``act[0]``; rows of Y and sample weights too, with
    input dropout on dense input), or dense input read in place when it
    predicts; row 0 of the returned array is row 0 of the minibatch."""
    cdef Net* net = job.net
    cdef Py_ssize_t i, k = net.units[net.n_w]
    cdef const floating* mask0 = <const floating*> net.mask[0] if job.masked else NULL
    if job.mode == MODE_TRAIN or job.masked or job.inp.indptr != NULL:
        _gather(net, job.inp, <const floating*> job.Y, <const floating*> job.sw, job.rows,
                i0, i1, k if job.Y != NULL else 0)
        if mask0 != NULL:  # dense input dropout, on the gathered copy
            for i in range(i0 * net.units[0], i1 * net.units[0]):
                X[i] *= mask0[i]
        return X
    return <floating*> job.inp.data + job.rows[0] * job.inp.n_features


cdef void _affine_rows(const RowJob* job, const floating* params, const floating* X, int l,
                       Py_ssize_t i0, Py_ssize_t i1) noexcept nogil:
    """``act[l + 1][i0:i1] = act[l][i0:i1] @ W_l`` (layer 0: from the input ``X``)."""
    cdef Net* net = job.net
    cdef Py_ssize_t fan_in = net.units[l], fan_out = net.units[l + 1]
    if l == 0:
        _first_layer(net, job.inp, X, <const floating*> net.in_values if job.masked else NULL,
                     job.rows, i0, i1, params + net.w_off[0], <floating*> net.act[1])
    else:
        gemm(False, False, i1 - i0, fan_out, fan_in, <floating> 1,
             <const floating*> net.act[l] + i0 * fan_in, fan_in, params + net.w_off[l],
             fan_out, <floating> 0, <floating*> net.act[l + 1] + i0 * fan_out, fan_out)


cdef void _loss_rows(const RowJob* job, floating* Z, Py_ssize_t i0,
                     Py_ssize_t i1) noexcept nogil:
    """Output loss and delta of rows ``i0:i1`` of ``Z``, the output layer's ``act``."""
    cdef Net* net = job.net
    cdef Py_ssize_t k = net.units[net.n_w]
    cdef const floating* sw = NULL
    if job.sw != NULL:
        sw = <const floating*> net.sw + i0
    _output_loss_delta(net, Z + i0 * k,
                       <const floating*> net.y + i0 * k, sw, i1 - i0, k, net.row_loss + i0)


cdef void _back_rows(const RowJob* job, const floating* params, int l, Py_ssize_t i0,
                     Py_ssize_t i1) noexcept nogil:
    """``delta[l][i0:i1]``: the delta at weight layer ``l``'s output back through
    ``W_l``, times the derivative of hidden layer ``l``'s activation (and its
    dropout mask)."""
    cdef Net* net = job.net
    cdef Py_ssize_t fan_in = net.units[l], fan_out = net.units[l + 1], nr = i1 - i0
    cdef floating* prev = <floating*> net.delta[l] + i0 * fan_in
    gemm(False, True, nr, fan_in, fan_out, <floating> 1,
         <const floating*> _delta_of(net, l) + i0 * fan_out, fan_out, params + net.w_off[l],
         fan_out, <floating> 0, prev, fan_in)
    _delta_derivative(net.hidden[l], prev, <const floating*> net.act[l] + i0 * fan_in,
                      _rows_of(<floating*> net.pre[l], i0, fan_in),
                      _rows_of(<floating*> net.mask[l], i0, fan_in) if job.masked else NULL,
                      nr * fan_in)


cdef void _bn_inference(const Net* net, const floating* params, int l, floating* Z,
                        Py_ssize_t m) noexcept nogil:
    """``Z = gamma (Z - running mean) / sqrt(running variance + eps) + beta`` for
    ``m`` rows of hidden layer ``l`` (the scale is ``net.bn_scale``)."""
    cdef Py_ssize_t i, j, h = net.units[l]
    cdef const floating* mean = <const floating*> net.running + net.r_off[l]
    cdef const floating* scale = <const floating*> net.bn_scale + net.r_off[l]
    cdef const floating* beta = params + net.beta_off[l]
    cdef floating* z
    for i in range(m):
        z = Z + i * h
        for j in range(h):
            z[j] = (z[j] - mean[j]) * scale[j] + beta[j]


cdef void _rows_typed(const RowJob* job, const floating* params, Py_ssize_t i0,
                      Py_ssize_t i1) noexcept nogil:
    cdef Net* net = job.net
    cdef int l, n_w = net.n_w
    cdef Py_ssize_t fan_out, nr = i1 - i0, k = net.units[n_w]
    cdef floating* Z
    cdef floating* X = _input_rows(job, <floating*> net.act[0], i0, i1)
    for l in range(n_w):
        if job.mode == MODE_HIDDEN and l + 1 == n_w:
            return
        fan_out = net.units[l + 1]
        Z = <floating*> net.act[l + 1] + i0 * fan_out
        _affine_rows(job, params, X, l, i0, i1)
        if l + 1 == n_w:
            _bias_activation(ACT_IDENTITY, Z, params + net.b_off[l], nr, fan_out,
                             <const floating*> NULL, <floating*> NULL)
        elif net.bn:  # inference only: training runs _bn_stage_typed
            _bias_activation(ACT_IDENTITY, Z, params + net.b_off[l], nr, fan_out,
                             <const floating*> NULL, <floating*> NULL)
            _bn_inference(net, params, l + 1, Z, nr)
            _bias_activation(net.hidden[l + 1], Z, <const floating*> net.zeros, nr, fan_out,
                             <const floating*> NULL, <floating*> NULL)
        else:
            _bias_activation(net.hidden[l + 1], Z, params + net.b_off[l], nr, fan_out,
                             _rows_of(<floating*> net.mask[l + 1], i0, fan_out)
                             if job.masked else NULL,
                             _rows_of(<floating*> net.pre[l + 1], i0, fan_out)
                             if job.mode == MODE_TRAIN else NULL)
    if job.mode == MODE_PREDICT:
        _output_activation(net.out, <floating*> net.act[n_w] + i0 * k, nr, k)
        return
    _loss_rows(job, <floating*> net.act[n_w], i0, i1)
    for l in range(n_w - 1, 0, -1):
        _back_rows(job, params, l, i0, i1)


cdef void _bn_stage_typed(const RowJob* job, const floating* params, Py_ssize_t i0,
                          Py_ssize_t i1) noexcept nogil:
    """Rows ``i0:i1`` of stage ``job.stage`` of a batch-normalised training pass
    (see the *batch normalisation* section)."""
    cdef Net* net = job.net
    cdef int s = job.stage, n_w = net.n_w
    cdef Py_ssize_t nr = i1 - i0, h = net.units[s]
    cdef floating* X = NULL
    if job.backward:
        _back_rows(job, params, s, i0, i1)
        return
    if s == 0:
        X = _input_rows(job, <floating*> net.act[0], i0, i1)
    else:
        _bias_activation(net.hidden[s], <floating*> net.act[s] + i0 * h,
                         <const floating*> net.zeros, nr, h,
                         _rows_of(<floating*> net.mask[s], i0, h) if job.masked else NULL,
                         _rows_of(<floating*> net.pre[s], i0, h))
        if job.mode == MODE_HIDDEN and s + 1 == n_w:
            return
    _affine_rows(job, params, X, s, i0, i1)
    _bias_activation(ACT_IDENTITY, <floating*> net.act[s + 1] + i0 * net.units[s + 1],
                     params + net.b_off[s], nr, net.units[s + 1], <const floating*> NULL,
                     <floating*> NULL)
    if s + 1 < n_w:
        return
    _loss_rows(job, <floating*> net.act[n_w], i0, i1)
    if n_w > 1:
        _back_rows(job, params, n_w - 1, i0, i1)


cdef void _rows_block(void* ctx, Py_ssize_t b) noexcept nogil:
    cdef RowJob* job = <RowJob*> ctx
    cdef Py_ssize_t i0 = b * job.block
    cdef Py_ssize_t i1 = min(i0 + job.block, job.m)
    if job.bn_stage and job.net.is32:
        _bn_stage_typed(job, <const float*> job.params, i0, i1)
    elif job.bn_stage:
        _bn_stage_typed(job, <const double*> job.params, i0, i1)
    elif job.net.is32:
        _rows_typed(job, <const float*> job.params, i0, i1)
    else:
        _rows_typed(job, <const double*> job.params, i0, i1)


cdef inline double _penalised_sumsq(const floating* g, const floating* w, Py_ssize_t n,
                                    double c2, double c1) noexcept nogil:
    """``sum((g + c2 w + c1 sign(w))**2)``, reduced in a fixed order."""
    if floating is float:
        return fo_mlp_grad_sumsq_f32(g, w, n, <float> c2, <float> c1)
    else:
        return fo_mlp_grad_sumsq_f64(g, w, n, c2, c1)


cdef void _grads_typed(const GradJob* job, floating* grads, Py_ssize_t blk) noexcept nogil:
    cdef Net* net = job.net
    cdef int l = 0
    cdef Py_ssize_t fan_in, fan_out, r0, r1
    cdef floating scale = <floating> job.scale
    cdef const floating* D
    cdef const floating* W
    cdef floating* gb
    cdef Py_ssize_t f
    cdef double sumsq = 0.0
    if blk >= net.gblock[net.n_w]:
        l = <int> (blk - net.gblock[net.n_w])
        fan_out = net.units[l + 1]
        gb = grads + net.b_off[l]
        if not job.accumulate:
            memset(gb, 0, fan_out * sizeof(floating))
        if floating is float:
            fo_mlp_bias_grad_f32(<const float*> _delta_of(net, l), job.m, fan_out, scale, gb)
        else:
            fo_mlp_bias_grad_f64(<const double*> _delta_of(net, l), job.m, fan_out, scale, gb)
        return
    while blk >= net.gblock[l + 1]:
        l += 1
    fan_in = net.units[l]
    fan_out = net.units[l + 1]
    D = <const floating*> _delta_of(net, l)
    r0 = (blk - net.gblock[l]) * GRAD_BLOCK
    if l == 0 and job.inp.indptr != NULL:
        r1 = min(r0 + GRAD_BLOCK, fan_out)
        _first_layer_grad_csr(net, job.inp,
                              <const floating*> net.in_values if job.masked else NULL,
                              job.rows, job.m, D, scale, job.accumulate, r0, r1,
                              grads + net.w_off[0])
        if job.norms:
            W = <const floating*> job.params
            for f in range(fan_in):
                sumsq += _penalised_sumsq(grads + f * fan_out + r0, W + f * fan_out + r0,
                                          r1 - r0, job.c2, job.c1)
            net.block_sumsq[blk] = sumsq
        return
    r1 = min(r0 + GRAD_BLOCK, fan_in)
    gemm(True, False, r1 - r0, fan_out, job.m, scale, <const floating*> net.act[l] + r0,
         fan_in, D, fan_out, <floating> (1 if job.accumulate else 0),
         grads + net.w_off[l] + r0 * fan_out, fan_out)
    if job.norms:
        net.block_sumsq[blk] = _penalised_sumsq(
            grads + net.w_off[l] + r0 * fan_out,
            <const floating*> job.params + net.w_off[l] + r0 * fan_out,
            (r1 - r0) * fan_out, job.c2, job.c1)


cdef void _grads_block(void* ctx, Py_ssize_t blk) noexcept nogil:
    cdef GradJob* job = <GradJob*> ctx
    if job.net.is32:
        _grads_typed(job, <float*> job.grads, blk)
    else:
        _grads_typed(job, <double*> job.grads, blk)


cdef double _flops(const Net* net, const Rows* inp, Py_ssize_t m) noexcept nogil:
    """Multiply-adds (x2) of one forward pass over ``m`` rows."""
    cdef int l
    cdef double f = 2.0 * m * mean_row_values(inp) * net.units[1]
    for l in range(1, net.n_w):
        f += 2.0 * m * net.units[l] * net.units[l + 1]
    return f


cdef inline RowJob _row_job(Net* net, const Rows* inp, const void* Y, const void* sw,
                            const Py_ssize_t* rows, Py_ssize_t m, const void* params,
                            Py_ssize_t block, int mode, bint masked,
                            bint bn_stage) noexcept nogil:
    """A rows job over ``m`` minibatch rows in blocks of ``block`` (the stage
    fields of a batch-normalised pass are set by its caller)."""
    cdef RowJob job
    job.net = net
    job.inp = inp
    job.Y = Y
    job.sw = sw
    job.rows = rows
    job.params = params
    job.m = m
    job.block = block
    job.mode = mode
    job.masked = masked
    job.bn_stage = bn_stage
    return job


cdef void _run_rows(Net* net, const Rows* inp, const void* Y, const void* sw,
                    const Py_ssize_t* rows, Py_ssize_t m, const void* params, int mode,
                    bint masked, int n_threads) noexcept nogil:
    """The rows job over ``m`` minibatch rows (see the section comment); outside
    training, ``rows`` must be consecutive."""
    cdef Py_ssize_t block = ROW_BLOCK if mode == MODE_TRAIN else PREDICT_BLOCK
    cdef RowJob job = _row_job(net, inp, Y, sw, rows, m, params, block, mode, masked, False)
    cdef Py_ssize_t n_blocks = (m + block - 1) // block
    cdef double work = _flops(net, inp, m) * (2.0 if mode == MODE_TRAIN else 1.0) * NS_PER_FLOP
    run_blocks(_rows_block, &job, n_blocks, plan_threads(work, n_blocks, n_threads))


# --------------------------------------------------------- batch normalisation
#
# With ``net.bn`` a hidden layer's normalisation needs the pre-activations of
# every row of the minibatch, so a training pass synchronises per hidden layer:
#
# * forward stage s (rows job, ROW_BLOCK rows): activation (and dropout) of
#   hidden layer s from its normalised values (s = 0: gather the input), then
#   the affine map of weight layer s into ``act[s + 1]``; the last stage also
#   computes the output loss and delta and back-propagates them into
#   ``delta[n_w - 1]``;
# * normalisation of hidden layer s + 1 (columns job, COL_BLOCK units per
#   block): per unit, the (weighted) batch mean and biased variance, summed
#   over the rows in row order in double, ``xhat = (z - mean) / sqrt(var +
#   eps)`` and ``z = gamma xhat + beta``, and the running statistics;
# * backward, hidden layer l from the last down: a columns job turns
#   ``delta[l]`` (the gradient with respect to the normalised output) into
#   the gradient with respect to the pre-normalisation ``z`` and writes the
#   gradients of gamma and beta; a rows job (``_back_rows``) carries it
#   through ``W_{l-1}`` into ``delta[l - 1]``.
#
# Each unit's sums run over the rows in row order inside one block, so the
# results do not depend on the thread count. Inference (``_rows_typed``)
# normalises row by row with the running statistics, in one rows job.

cdef enum:
    COL_BLOCK = 16       # hidden units per block of a normalisation job

cdef double BN_EPS = 1e-5
cdef double BN_MOMENTUM = 0.1
cdef double NS_PER_BN_UNIT = 2.0  # ns per row and unit of a normalisation job (three passes)


ctypedef struct ColJob:
    Net* net
    const void* params
    void* grads
    Py_ssize_t m
    int layer
    double sw_sum        # weight sum of the minibatch (m when unweighted)
    bint weighted        # net.sw holds the minibatch's sample weights
    bint backward
    bint update          # forward: update the running statistics


cdef void _bn_forward_cols(const ColJob* job, const floating* params, Py_ssize_t j0,
                           Py_ssize_t j1) noexcept nogil:
    """Normalise units ``j0:j1`` of hidden layer ``job.layer`` over the minibatch
    (weighted batch mean and biased variance), keep ``xhat`` and ``1 / std``, and
    update the running mean and unbiased running variance."""
    cdef Net* net = job.net
    cdef int l = job.layer
    cdef Py_ssize_t i, j, h = net.units[l], m = job.m, nj = j1 - j0
    cdef floating* Z = <floating*> net.act[l]
    cdef floating* Xh = <floating*> net.xhat[l]
    cdef const floating* sw = <const floating*> net.sw
    cdef const floating* gamma = params + net.g_off[l]
    cdef const floating* beta = params + net.beta_off[l]
    cdef floating* rmean = <floating*> net.running + net.r_off[l]
    cdef floating* rvar = rmean + net.n_hidden
    cdef double mean[COL_BLOCK]
    cdef double var[COL_BLOCK]
    cdef double w = 1.0, d, W = job.sw_sum
    cdef double unbiased = W / (W - 1.0) if W > 1.0 else 1.0
    cdef floating* z
    cdef floating xh
    for j in range(nj):
        mean[j] = 0.0
        var[j] = 0.0
    for i in range(m):
        z = Z + i * h + j0
        if job.weighted:
            w = sw[i]
        for j in range(nj):
            mean[j] += w * z[j]
    for j in range(nj):
        mean[j] /= W
    for i in range(m):
        z = Z + i * h + j0
        if job.weighted:
            w = sw[i]
        for j in range(nj):
            d = z[j] - mean[j]
            var[j] += w * d * d
    for j in range(nj):
        var[j] /= W
        net.inv_std[l][j0 + j] = 1.0 / sqrt(var[j] + BN_EPS)
    for i in range(m):
        z = Z + i * h + j0
        for j in range(nj):
            xh = <floating> ((z[j] - mean[j]) * net.inv_std[l][j0 + j])
            Xh[i * h + j0 + j] = xh
            z[j] = gamma[j0 + j] * xh + beta[j0 + j]
    if job.update:
        for j in range(nj):
            rmean[j0 + j] = <floating> ((1.0 - BN_MOMENTUM) * rmean[j0 + j]
                                        + BN_MOMENTUM * mean[j])
            rvar[j0 + j] = <floating> ((1.0 - BN_MOMENTUM) * rvar[j0 + j]
                                       + BN_MOMENTUM * var[j] * unbiased)


cdef void _bn_backward_cols(const ColJob* job, const floating* params, floating* grads,
                            Py_ssize_t j0, Py_ssize_t j1) noexcept nogil:
    """Units ``j0:j1`` of hidden layer ``job.layer``: from ``g = delta[l]``, the
    gradient with respect to the normalised output, write the gradients of gamma
    (``sum g xhat``) and beta (``sum g``), over the weight sum, and turn ``delta[l]``
    into the gradient with respect to the pre-normalisation ``z``:
    ``gamma / std (g - p (sum g + xhat sum g xhat))``, ``p = w / sum w``."""
    cdef Net* net = job.net
    cdef int l = job.layer
    cdef Py_ssize_t i, j, h = net.units[l], m = job.m, nj = j1 - j0
    cdef floating* G = <floating*> net.delta[l]
    cdef const floating* Xh = <const floating*> net.xhat[l]
    cdef const floating* sw = <const floating*> net.sw
    cdef const floating* gamma = params + net.g_off[l]
    cdef double sg[COL_BLOCK]
    cdef double sgx[COL_BLOCK]
    cdef double c[COL_BLOCK]
    cdef double p = 1.0 / job.sw_sum
    cdef floating* g
    cdef const floating* xh
    for j in range(nj):
        sg[j] = 0.0
        sgx[j] = 0.0
    for i in range(m):
        g = G + i * h + j0
        xh = Xh + i * h + j0
        for j in range(nj):
            sg[j] += g[j]
            sgx[j] += g[j] * xh[j]
    for j in range(nj):
        grads[net.g_off[l] + j0 + j] = <floating> (sgx[j] / job.sw_sum)
        grads[net.beta_off[l] + j0 + j] = <floating> (sg[j] / job.sw_sum)
        c[j] = gamma[j0 + j] * net.inv_std[l][j0 + j]
    for i in range(m):
        g = G + i * h + j0
        xh = Xh + i * h + j0
        if job.weighted:
            p = sw[i] / job.sw_sum
        for j in range(nj):
            g[j] = <floating> (c[j] * (g[j] - p * (sg[j] + xh[j] * sgx[j])))


cdef void _cols_block(void* ctx, Py_ssize_t b) noexcept nogil:
    cdef ColJob* job = <ColJob*> ctx
    cdef Py_ssize_t j0 = b * COL_BLOCK
    cdef Py_ssize_t j1 = min(j0 + COL_BLOCK, job.net.units[job.layer])
    if job.backward and job.net.is32:
        _bn_backward_cols(job, <const float*> job.params, <float*> job.grads, j0, j1)
    elif job.backward:
        _bn_backward_cols(job, <const double*> job.params, <double*> job.grads, j0, j1)
    elif job.net.is32:
        _bn_forward_cols(job, <const float*> job.params, j0, j1)
    else:
        _bn_forward_cols(job, <const double*> job.params, j0, j1)


cdef void _run_cols(ColJob* job, int layer, bint backward, int n_threads) noexcept nogil:
    """The normalisation job (forward or backward) of hidden layer ``layer``."""
    cdef Py_ssize_t h = job.net.units[layer]
    cdef Py_ssize_t n_blocks = (h + COL_BLOCK - 1) // COL_BLOCK
    job.layer = layer
    job.backward = backward
    run_blocks(_cols_block, job, n_blocks,
               plan_threads(job.m * h * NS_PER_BN_UNIT, n_blocks, n_threads))


cdef void _run_stage(RowJob* job, int stage, bint backward, int n_threads) noexcept nogil:
    """Stage ``stage`` of the batch-normalised training pass as a rows job."""
    cdef const Net* net = job.net
    cdef Py_ssize_t n_blocks = (job.m + ROW_BLOCK - 1) // ROW_BLOCK
    cdef int l = stage - 1 if backward else stage
    cdef double fan_in = mean_row_values(job.inp) if l == 0 else net.units[l]
    cdef double work = 2.0 * job.m * fan_in * net.units[l + 1] * NS_PER_FLOP
    if not backward and stage == net.n_w - 1:
        work *= 2.0
    job.stage = l if backward else stage
    job.backward = backward
    run_blocks(_rows_block, job, n_blocks, plan_threads(work, n_blocks, n_threads))


cdef double _bn_rows(Net* net, const Rows* inp, const void* Y, const void* sw,
                     const Py_ssize_t* rows, Py_ssize_t m, const void* params, void* grads,
                     int mode, bint masked, bint update, int n_threads) noexcept nogil:
    """A batch-normalised training pass over ``m`` minibatch rows (see the section
    comment): forward, and with ``MODE_TRAIN`` the loss, the deltas and the
    gradients of gamma and beta (over the weight sum); the running statistics are
    updated if ``update``. Returns the minibatch's weight sum."""
    cdef RowJob job = _row_job(net, inp, Y, sw, rows, m, params, ROW_BLOCK, mode, masked, True)
    cdef ColJob cols
    cdef int l, n_w = net.n_w
    cols.net = net
    cols.params = params
    cols.grads = grads
    cols.m = m
    cols.weighted = sw != NULL
    cols.update = update
    for l in range(n_w):
        _run_stage(&job, l, False, n_threads)
        if l == 0:
            if net.is32:
                cols.sw_sum = _weight_sum(<const float*> net.sw if sw != NULL else NULL, m)
            else:
                cols.sw_sum = _weight_sum(<const double*> net.sw if sw != NULL else NULL, m)
        if l + 1 < n_w:
            _run_cols(&cols, l + 1, False, n_threads)
    if mode == MODE_TRAIN:
        for l in range(n_w - 1, 0, -1):
            _run_cols(&cols, l, True, n_threads)
            if l > 1:
                _run_stage(&job, l, True, n_threads)
    return cols.sw_sum


cdef void _run_grads(Net* net, const Rows* inp, const Py_ssize_t* rows, Py_ssize_t m,
                     void* grads, double scale, bint accumulate, const void* norm_params,
                     bint masked, int n_threads) noexcept nogil:
    """The weight and intercept gradients of ``m`` rows whose deltas are computed
    (by a rows job with dropout masks if ``masked``).

    With ``norm_params`` (the parameters), every weight block also writes the
    squared norm of its share of the objective's gradient -- this gradient
    plus ``scale`` times the penalty's -- to ``net.block_sumsq``.
    """
    cdef GradJob job
    cdef Py_ssize_t n_blocks = net.gblock[net.n_w] + net.n_w
    job.net = net
    job.inp = inp
    job.rows = rows
    job.m = m
    job.grads = grads
    job.scale = scale
    job.accumulate = accumulate
    job.params = norm_params
    job.norms = norm_params != NULL
    job.masked = masked
    job.c2 = scale * net.l2
    job.c1 = scale * net.l1
    run_blocks(_grads_block, &job, n_blocks,
               plan_threads(_flops(net, inp, m) * NS_PER_FLOP, n_blocks, n_threads))


cdef void _add_layer_norms(const Net* net, double* norms) noexcept nogil:
    """``norms[l] +=`` the L2 norm of weight layer ``l``'s gradient, from the
    block sums of the last gradient job added in block order."""
    cdef int l
    cdef Py_ssize_t blk
    cdef double sumsq
    for l in range(net.n_w):
        sumsq = 0.0
        for blk in range(net.gblock[l], net.gblock[l + 1]):
            sumsq += net.block_sumsq[blk]
        norms[l] += sqrt(sumsq)


cdef double _penalty(const Net* net, floating* params, floating* grads, floating scale,
                     int n_threads) noexcept nogil:
    """Add ``scale`` times the penalty gradient on the weights; return the penalty."""
    cdef double sumabs
    cdef double sumsq = penalty_grad(params, grads, net.n_coef, net.n_coef, scale * net.l2,
                                     scale * net.l1, &sumabs, n_threads)
    return 0.5 * net.l2 * sumsq + net.l1 * sumabs


cdef double _penalty_step(const Net* net, const Step* step, floating* params, floating scale,
                         int n_threads) noexcept nogil:
    """Add the penalty gradient and take one optimizer step; return the penalty.

    ``penalised_step`` of :mod:`fastopt.optim`: one fused pass for
    scikit-learn's Adam with an L2 penalty (the default fit), the penalty
    pass and then the step otherwise.
    """
    cdef double sumabs
    cdef double sumsq = penalised_step(step.cfg, step.st, params, <floating*> step.grads,
                                       <floating*> step.s0, <floating*> step.s1,
                                       <floating*> step.s2, net.n_coef, net.n_params,
                                       scale * net.l2, scale * net.l1, &sumabs, True, n_threads)
    return 0.5 * net.l2 * sumsq + net.l1 * sumabs


cdef double _weight_sum(const floating* sw, Py_ssize_t m) noexcept nogil:
    """Sum of the sample weights (``m`` when unweighted)."""
    cdef Py_ssize_t i
    cdef double s = 0.0
    if sw == NULL:
        return <double> m
    for i in range(m):
        s += sw[i]
    return s


cdef double _loss_sum(const Net* net, Py_ssize_t m) noexcept nogil:
    """Sum of the row losses of the last rows job, in row order."""
    cdef Py_ssize_t i
    cdef double total = 0.0
    for i in range(m):
        total += net.row_loss[i]
    return total


cdef double _minibatch(Net* net, const Batch* data, const Py_ssize_t* rows, Py_ssize_t m,
                       const Step* step, const EpochRun* run, floating* params) noexcept nogil:
    """Train on the ``m`` rows ``rows`` of ``data``; return their objective (loss +
    penalty, over the weight sum). With ``run.norms``, add each weight layer's
    gradient norm (objective's gradient, before the optimizer clips it) to it."""
    cdef const floating* swb = <const floating*> net.sw if data.sw != NULL else NULL
    cdef floating* grads = <floating*> step.grads
    cdef bint masked = net.dropped
    cdef double sw_sum, batch_loss
    cdef floating scale
    if masked:
        _draw_masks(<floating**> net.mask, net, data.x, rows, m, run.dropout_rng)
    if net.bn:
        sw_sum = _bn_rows(net, data.x, data.y, data.sw, rows, m, params, grads, MODE_TRAIN,
                          masked, True, run.n_threads)
    else:
        _run_rows(net, data.x, data.y, data.sw, rows, m, params, MODE_TRAIN, masked,
                  run.n_threads)
        sw_sum = _weight_sum(swb, m)
    scale = <floating> (1.0 / sw_sum)
    batch_loss = _loss_sum(net, m)
    _run_grads(net, data.x, rows, m, grads, scale, False,
               params if run.norms != NULL else NULL, masked, run.n_threads)
    if run.norms != NULL:
        _add_layer_norms(net, run.norms)
    batch_loss += _penalty_step(net, step, params, scale, run.n_threads)
    return batch_loss / sw_sum


cdef double _epoch(Net* net, const Batch* data, const Step* step, EpochRun* run,
                   floating* params) noexcept nogil:
    """One pass over ``data``; returns scikit-learn's epoch loss (NaN if diverged).

    With batch normalisation, a last minibatch of one row is folded into the
    one before it (which then has ``batch_size + 1`` rows).

    With ``run.norms`` (``net.n_w`` doubles), it receives each weight layer's
    gradient norm averaged over the minibatches run.
    With ``run.rt``, the learning-rate range test (``fastopt/_range_test.pxd``)
    instead: ``rt.n_steps`` minibatches, continuing into the next epoch
    (reshuffled when ``run.shuffle``) when one ends, step i at base rate
    ``range_rate(rt, i)``, until ``range_record`` stops it; returns 0.
    Between minibatches, pending Python signals are handled every 20 ms; when
    one raises, ``run.interrupted`` is set and the pass stops.
    """
    cdef Py_ssize_t i, b, l, m, n_run = 0
    cdef Py_ssize_t n = data.n, batch_size = run.batch_size
    cdef RangeTest* rt = run.rt
    cdef fo_interrupt_clock clock
    cdef Py_ssize_t n_batches = (n + batch_size - 1) // batch_size
    cdef double batch_loss, total = 0.0
    if net.bn and n_batches > 1 and n % batch_size == 1:
        n_batches -= 1  # batch norm: a last minibatch of one row joins the one before
    if run.norms != NULL:
        memset(run.norms, 0, net.n_w * sizeof(double))
    if rt != NULL:
        range_begin(rt)
        rule_drop_schedule(step.cfg)  # the test owns the rate
    fo_interrupt_start(&clock)
    for i in range(n_batches if rt == NULL else rt.n_steps):
        if fo_interrupt_pending(&clock):
            run.interrupted = True
            return 0.0
        b = i % n_batches
        if b == 0 and run.shuffle:
            fo_rng_shuffle(run.shuffle_rng, data.order, n)
        m = batch_size if b + 1 < n_batches else n - b * batch_size
        if rt != NULL:
            rule_set_lr(step.cfg, range_rate(rt, i))
        batch_loss = _minibatch(net, data, data.order + b * batch_size, m, step, run, params)
        n_run += 1
        if rt != NULL:
            if range_record(rt, i, batch_loss):
                return 0.0
        elif not isfinite(batch_loss):
            total = batch_loss
            break
        else:
            total += batch_loss * m
    if run.norms != NULL:
        for l in range(net.n_w):
            run.norms[l] /= n_run
    return total / n


cdef double _loss_grad(Net* net, const Rows* inp, const floating* Y, const floating* sw,
                       Py_ssize_t* order, Py_ssize_t n, floating* params,
                       floating* grads, int n_threads) noexcept nogil:
    """Full-batch objective and gradient, in chunks of ``net.cap`` rows (with
    batch normalisation: one chunk, the batch of the statistics, which updates
    the running statistics)."""
    cdef Py_ssize_t b, start, m
    cdef Py_ssize_t n_chunks = (n + net.cap - 1) // net.cap
    cdef double sw_sum = _weight_sum(sw, n), loss = 0.0
    cdef floating scale = <floating> (1.0 / sw_sum)
    if net.bn:
        _bn_rows(net, inp, Y, sw, order, n, params, grads, MODE_TRAIN, False, True, n_threads)
        _run_grads(net, inp, order, n, grads, scale, False, NULL, False, n_threads)
        loss = _loss_sum(net, n) + _penalty(net, params, grads, scale, n_threads)
        return loss / sw_sum
    for b in range(n_chunks):
        start = b * net.cap
        m = min(net.cap, n - start)
        _run_rows(net, inp, Y, sw, order + start, m, params, MODE_TRAIN, False, n_threads)
        loss += _loss_sum(net, m)
        _run_grads(net, inp, order + start, m, grads, scale, start > 0, NULL, False, n_threads)
    loss += _penalty(net, params, grads, scale, n_threads)
    return loss / sw_sum


cdef void _bn_inference_scale(Net* net, const floating* params) noexcept nogil:
    """``net.bn_scale = gamma / sqrt(running variance + eps)`` of every hidden
    unit, for inference (nothing without batch normalisation)."""
    cdef int l
    cdef Py_ssize_t j
    cdef floating* scale = <floating*> net.bn_scale
    cdef const floating* rvar = <const floating*> net.running + net.n_hidden
    if not net.bn:
        return
    for l in range(1, net.n_w):
        for j in range(net.units[l]):
            scale[net.r_off[l] + j] = <floating> (params[net.g_off[l] + j]
                                                  / sqrt(rvar[net.r_off[l] + j] + BN_EPS))


cdef void _predict(Net* net, const Rows* inp, Py_ssize_t* order, Py_ssize_t n,
                   const floating* params, floating* out, int n_threads) noexcept nogil:
    """Network output for every row of the input, in chunks of ``net.cap`` rows."""
    cdef Py_ssize_t b, start, m, k = net.units[net.n_w]
    cdef Py_ssize_t n_chunks = (n + net.cap - 1) // net.cap
    _bn_inference_scale(net, params)
    for b in range(n_chunks):
        start = b * net.cap
        m = min(net.cap, n - start)
        _run_rows(net, inp, NULL, NULL, order + start, m, params, MODE_PREDICT, False,
                  n_threads)
        memcpy(out + start * k, net.act[net.n_w], m * k * sizeof(floating))


# ------------------------------------------------------------- Python entry

cdef class MLPCore:
    """Network shape, penalty, dropout and workspaces of one fit (or predict).

    Parameters
    ----------
    layer_units : sequence of int
        Units per layer, input first.
    hidden : str or sequence of str
        Hidden activation name (``HIDDEN_ACTIVATIONS``), or one per hidden layer.
    out : str
        Output activation name (``ACTIVATION_CODES``).
    dtype : numpy dtype
        float32 or float64; every array handed to the methods has this dtype.
    capacity : int
        Maximum rows per minibatch / chunk.
    dense : bool
        Whether the input is dense (a gather buffer is needed) or CSR.
    l2, l1 : float
        Penalty ``l2/2 ||W||^2 + l1 ||W||_1`` on the weights (not intercepts),
        divided by the weight sum of each minibatch as in scikit-learn.
    dropout : float or sequence of float
        Probability of dropping a hidden unit during training, or one per
        hidden layer.
    seed : int
        Seeds the shuffling and dropout generators (two streams).
    loss : {None, 'absolute_error', 'huber'}
        None: the loss of the output activation; otherwise that loss on
        identity outputs (``LOSS_CODES``), averaged over the outputs.
    huber_delta : float
        Threshold of the Huber loss.
    input_dropout : float
        Probability of dropping an input feature during training (CSR input:
        each stored value of the minibatch rows).
    batch_norm : bool
        Batch normalisation between every hidden layer's affine map and its
        activation (``torch.nn.BatchNorm1d(eps=1e-5, momentum=0.1)``). Its
        scales and shifts follow the intercepts in the parameters (all
        hidden layers' scales, then all shifts; ``n_params`` counts them);
        every method then takes ``running``, the running means of all hidden
        units followed by their running variances (``n_running`` values of
        the parameters' dtype), which training updates in place and
        inference reads.
    """

    cdef Net net
    cdef fo_rng shuffle_rng
    cdef fo_rng dropout_rng
    cdef list _buffers
    cdef object _in_values
    cdef readonly object dtype
    cdef readonly Py_ssize_t n_params
    cdef readonly Py_ssize_t n_coef
    cdef readonly Py_ssize_t n_running

    def __init__(self, layer_units, hidden, str out, dtype, Py_ssize_t capacity,
                 bint dense, double l2=0.0, double l1=0.0, dropout=0.0,
                 unsigned long long seed=0, loss=None, double huber_delta=1.0,
                 double input_dropout=0.0, bint batch_norm=False):
        cdef int l, n_w = len(layer_units) - 1
        cdef Py_ssize_t off = 0
        if n_w < 1 or n_w > MAX_LAYERS:
            raise ValueError(f"the network must have 1 to {MAX_LAYERS} weight layers, "
                             f"got {n_w}")
        self.dtype = np.dtype(dtype)
        memset(&self.net, 0, sizeof(Net))
        self.net.n_w = n_w
        for l in range(n_w + 1):
            self.net.units[l] = layer_units[l]
        for l in range(n_w):
            self.net.w_off[l] = off
            off += self.net.units[l] * self.net.units[l + 1]
        self.net.n_coef = off
        for l in range(n_w):
            self.net.b_off[l] = off
            off += self.net.units[l + 1]
        self.net.bn = batch_norm
        if self.net.bn:
            for l in range(1, n_w):
                self.net.r_off[l] = self.net.n_hidden
                self.net.n_hidden += self.net.units[l]
            for l in range(1, n_w):
                self.net.g_off[l] = off + self.net.r_off[l]
                self.net.beta_off[l] = off + self.net.n_hidden + self.net.r_off[l]
            off += 2 * self.net.n_hidden
        self.net.n_params = off
        self.n_params = off
        self.n_running = 2 * self.net.n_hidden
        self.n_coef = self.net.n_coef
        hidden = [hidden] * (n_w - 1) if isinstance(hidden, str) else list(hidden)
        if len(hidden) != n_w - 1 or not set(hidden) <= set(HIDDEN_ACTIVATIONS):
            raise ValueError(f"hidden must be one of {HIDDEN_ACTIVATIONS} or a list of "
                             f"{n_w - 1} of them, got {hidden}")
        for l in range(1, n_w):
            self.net.hidden[l] = ACTIVATION_CODES[hidden[l - 1]]
        if out not in OUTPUT_ACTIVATIONS:
            raise ValueError(f"out must be one of {OUTPUT_ACTIVATIONS}, got {out!r}")
        self.net.out = ACTIVATION_CODES[out]
        if loss is not None and (out != "identity" or loss not in LOSS_CODES):
            raise ValueError(f"loss must be None or one of {sorted(LOSS_CODES)} with the "
                             f"identity output, got {loss!r} with {out!r}")
        self.net.loss = CANONICAL_LOSS[self.net.out] if loss is None else LOSS_CODES[loss]
        self.net.huber_delta = huber_delta
        rates = [input_dropout] + ([dropout] * (n_w - 1) if np.ndim(dropout) == 0
                                   else list(dropout))
        if len(rates) != n_w or not all(0.0 <= r < 1.0 for r in rates):
            raise ValueError(f"dropout must be a rate in [0, 1) or a list of {n_w - 1} "
                             f"of them, got {dropout!r} (input_dropout {input_dropout!r})")
        for l in range(n_w):
            self.net.dropout[l] = rates[l]
        self.net.dropped = any(r > 0.0 for r in rates)
        self.net.l2 = l2
        self.net.l1 = l1
        self.net.cap = capacity
        self.net.is32 = self.dtype == np.float32
        self._buffers = []
        if dense:
            self.net.act[0] = self._buffer(capacity * self.net.units[0])
        if input_dropout > 0.0 and dense:
            self.net.mask[0] = self._buffer(capacity * self.net.units[0])
        elif input_dropout > 0.0:
            in_off = np.empty(capacity + 1, dtype=np.intp)
            self._buffers.append(in_off)
            self.net.in_off = <Py_ssize_t*> cnp.PyArray_DATA(<cnp.ndarray> in_off)
        for l in range(1, n_w + 1):
            self.net.act[l] = self._buffer(capacity * self.net.units[l])
            if l < n_w and rates[l] > 0.0:
                self.net.mask[l] = self._buffer(capacity * self.net.units[l])
            if l < n_w:
                self.net.delta[l] = self._buffer(capacity * self.net.units[l])
            if l < n_w and self.net.hidden[l] in (ACT_GELU, ACT_SILU):
                self.net.pre[l] = self._buffer(capacity * self.net.units[l])
            if l < n_w and self.net.bn:
                self.net.xhat[l] = self._buffer(capacity * self.net.units[l])
                inv_std = np.empty(self.net.units[l])
                self._buffers.append(inv_std)
                self.net.inv_std[l] = <double*> cnp.PyArray_DATA(<cnp.ndarray> inv_std)
        if self.net.bn:
            self.net.bn_scale = self._buffer(self.net.n_hidden)
            zeros = np.zeros(max(layer_units[1:n_w], default=1), dtype=self.dtype)
            self._buffers.append(zeros)
            self.net.zeros = cnp.PyArray_DATA(<cnp.ndarray> zeros)
        self.net.y = self._buffer(capacity * self.net.units[n_w])
        self.net.sw = self._buffer(capacity)
        row_loss = np.empty(max(capacity, 1))
        self._buffers.append(row_loss)
        self.net.row_loss = <double*> cnp.PyArray_DATA(<cnp.ndarray> row_loss)
        # gradient job: GRAD_BLOCK rows of each weight matrix (CSR first layer:
        # GRAD_BLOCK columns), then one intercept block per layer
        for l in range(n_w):
            span = self.net.units[1] if (l == 0 and not dense) else self.net.units[l]
            self.net.gblock[l + 1] = self.net.gblock[l] + (span + GRAD_BLOCK - 1) // GRAD_BLOCK
        block_sumsq = np.empty(max(self.net.gblock[n_w], 1))
        self._buffers.append(block_sumsq)
        self.net.block_sumsq = <double*> cnp.PyArray_DATA(<cnp.ndarray> block_sumsq)
        fo_rng_seed(&self.shuffle_rng, seed, 0)
        fo_rng_seed(&self.dropout_rng, seed, 1)

    cdef _reserve_dropped_values(self, X, Py_ssize_t batch_size):
        """With input dropout on CSR ``X``: room in ``net.in_values`` for the
        stored values of any ``batch_size`` rows (the largest rows' count)."""
        if self.net.dropout[0] == 0.0 or not sp.issparse(X):
            return
        counts = np.diff(X.indptr)
        if batch_size < len(counts):
            counts = np.partition(counts, len(counts) - batch_size)[len(counts) - batch_size:]
        need = max(int(counts.sum()), 1)
        if self._in_values is None or self._in_values.size < need:
            self._in_values = np.empty(need, dtype=self.dtype)
            self.net.in_values = cnp.PyArray_DATA(<cnp.ndarray> self._in_values)

    cdef _set_running(self, running):
        """Point the network at the running statistics ``running`` (batch norm only)."""
        if not self.net.bn:
            if running is not None:
                raise ValueError("running statistics are for a core with batch_norm=True")
            return
        if running is None:
            raise ValueError("a core with batch_norm=True needs its running statistics")
        self.net.running = self._data(running, "running", self.n_running)

    cdef void* _buffer(self, Py_ssize_t size):
        buf = np.empty(max(size, 1), dtype=self.dtype)
        self._buffers.append(buf)
        return cnp.PyArray_DATA(<cnp.ndarray> buf)

    cdef void* _data(self, arr, str name, Py_ssize_t size) except NULL:
        """Pointer into ``arr`` after checking dtype, contiguity and size."""
        cdef cnp.ndarray a = arr
        if a.dtype != self.dtype or not cnp.PyArray_IS_C_CONTIGUOUS(a) or a.size != size:
            raise ValueError(f"{name} must be a C-contiguous {self.dtype} array of size "
                             f"{size}; got {a.dtype}, size {a.size}")
        return cnp.PyArray_DATA(a)

    cdef Rows _input(self, X, list keep) except *:
        """Describe dense or CSR ``X``; ``keep`` holds converted arrays alive."""
        cdef Rows inp = rows_of(X, keep)
        if inp.n_features != self.net.units[0]:
            raise ValueError(f"X has {inp.n_features} features, the network expects "
                             f"{self.net.units[0]}")
        if inp.is32 != (self.dtype == np.float32):
            raise ValueError(f"X must be {self.dtype}, got "
                             f"{np.dtype(np.float32 if inp.is32 else np.float64)}")
        if inp.indptr != NULL and self.net.act[0] != NULL:
            raise ValueError("this core was built for dense input")
        if inp.indptr == NULL and self.net.act[0] == NULL:
            raise ValueError("this core was built for CSR input")
        return inp

    def epoch(self, params, grads, OptimizerState state, X, Y, sample_weight, order,
              Py_ssize_t batch_size, bint shuffle, gradient_norms=None, running=None):
        """Train one epoch in place; return the epoch loss (NaN on divergence).

        ``order`` (intp) holds the row order and is shuffled in place, so
        consecutive epochs continue the permutation as scikit-learn does.
        ``gradient_norms``, a float64 array with one element per weight
        layer, receives the mean over the epoch's minibatches of each weight
        matrix's gradient L2 norm (the objective's, penalty included, before
        clipping).
        """
        cdef double* norms = NULL
        if gradient_norms is not None:
            if (gradient_norms.dtype != np.float64 or gradient_norms.size != self.net.n_w
                    or not gradient_norms.flags.c_contiguous):
                raise ValueError(f"gradient_norms must be a C-contiguous float64 array of "
                                 f"size {self.net.n_w}")
            norms = <double*> cnp.PyArray_DATA(<cnp.ndarray> gradient_norms)
        return self._train(params, grads, state, X, Y, sample_weight, order, batch_size,
                           shuffle, norms, NULL, running)

    def range_test(self, params, grads, OptimizerState state, X, Y, sample_weight, order,
                   Py_ssize_t batch_size, bint shuffle, double min_lr, double max_lr,
                   Py_ssize_t n_steps, double beta, double stop_factor, running=None):
        """Run the learning-rate range test in place (see ``fastopt/_range_test.pxd``).

        Trains from ``params`` with ``state``'s rule for up to ``n_steps``
        minibatches (as :meth:`epoch` cuts them, across epochs), the base rate
        of step i being ``min_lr (max_lr / min_lr)^(i / (n_steps - 1))``;
        ``state``'s own schedule is switched off. Stops after the first step
        whose smoothed loss is not finite or exceeds ``stop_factor`` times its
        minimum. Returns a (3, steps run) float64 array: rates, minibatch
        losses (the objective before the step, as ``loss_curve_``) and
        smoothed losses.
        """
        cdef RangeTest rt
        out = np.empty((3, max(n_steps, 0)))
        range_init(&rt, <double*> cnp.PyArray_DATA(<cnp.ndarray> out), min_lr, max_lr,
                   n_steps, beta, stop_factor)
        self._train(params, grads, state, X, Y, sample_weight, order, batch_size, shuffle,
                    NULL, &rt, running)
        return out[:, :rt.n_run].copy()

    cdef double _train(self, params, grads, OptimizerState state, X, Y, sample_weight, order,
                       Py_ssize_t batch_size, bint shuffle, double* norms,
                       RangeTest* rt, running) except? -1.0:
        """Check the arrays and run ``_epoch`` (an epoch, or the range test ``rt``)."""
        cdef list keep = []
        cdef Rows inp = self._input(X, keep)
        cdef Py_ssize_t n = X.shape[0]
        cdef void* p = self._data(params, "params", self.n_params)
        cdef void* g = self._data(grads, "grads", self.n_params)
        cdef void* y = self._data(Y, "Y", n * self.net.units[self.net.n_w])
        cdef void* w = NULL if sample_weight is None else self._data(
            sample_weight, "sample_weight", n)
        cdef Batch data
        cdef Step step
        cdef EpochRun run
        cdef double loss
        if state.dtype != self.dtype or state.shapes != ((self.n_params,),):
            raise ValueError("the optimizer state does not match the parameters")
        if (batch_size < 1 or batch_size + (self.net.bn and n % batch_size == 1 and n > 1)
                > self.net.cap or len(order) != n):
            raise ValueError("batch_size exceeds the workspace or order has the wrong size")
        if self.net.bn and (n < 2 or batch_size < 2):
            raise ValueError("batch normalisation needs minibatches of at least 2 rows")
        self._set_running(running)
        self._reserve_dropped_values(X, batch_size)
        data = Batch(x=&inp, y=y, sw=w, n=n,
                     order=<Py_ssize_t*> cnp.PyArray_DATA(<cnp.ndarray> order))
        step = Step(grads=g, cfg=&state.cfg, st=&state.st, s0=state.flat_buffer(0),
                    s1=state.flat_buffer(1), s2=state.flat_buffer(2))
        run = EpochRun(batch_size=batch_size, shuffle=shuffle, shuffle_rng=&self.shuffle_rng,
                       dropout_rng=&self.dropout_rng, norms=norms, rt=rt,
                       n_threads=loop_threads(), interrupted=False)
        with one_blas_thread():
            with nogil:
                if self.net.is32:
                    loss = _epoch(&self.net, &data, &step, &run, <float*> p)
                else:
                    loss = _epoch(&self.net, &data, &step, &run, <double*> p)
            # raised inside the BLAS limit, so its exit runs with the error in flight
            if run.interrupted:
                raise_pending_error()
        return loss

    def loss_grad(self, params, grads, X, Y, sample_weight, running=None):
        """Return the full-batch objective; write its gradient into ``grads``.

        With batch normalisation the whole of ``X`` is one batch (at most
        ``capacity`` rows, at least 2) and the running statistics are updated,
        as by one forward pass of a PyTorch model in training mode.
        """
        cdef list keep = []
        cdef Rows inp = self._input(X, keep)
        cdef Py_ssize_t n = X.shape[0]
        cdef void* p = self._data(params, "params", self.n_params)
        cdef void* g = self._data(grads, "grads", self.n_params)
        cdef void* y = self._data(Y, "Y", n * self.net.units[self.net.n_w])
        cdef void* w = NULL if sample_weight is None else self._data(
            sample_weight, "sample_weight", n)
        if self.net.bn and not 2 <= n <= self.net.cap:
            raise ValueError(f"batch normalisation normalises all {n} rows together: they "
                             f"must number 2 to capacity={self.net.cap}")
        self._set_running(running)
        order = np.arange(n, dtype=np.intp)
        cdef Py_ssize_t* o = <Py_ssize_t*> cnp.PyArray_DATA(<cnp.ndarray> order)
        cdef double loss
        cdef int n_threads = loop_threads()
        cdef bint is32 = self.dtype == np.float32
        with one_blas_thread(), nogil:
            if is32:
                loss = _loss_grad(&self.net, &inp, <float*> y, <float*> w, o, n,
                                  <float*> p, <float*> g, n_threads)
            else:
                loss = _loss_grad(&self.net, &inp, <double*> y, <double*> w, o, n,
                                  <double*> p, <double*> g, n_threads)
        return loss

    def predict(self, params, X, running=None):
        """Return the network output (after the output activation) for ``X``
        (batch normalisation with the running statistics)."""
        cdef list keep = []
        cdef Rows inp = self._input(X, keep)
        cdef Py_ssize_t n = X.shape[0]
        cdef void* p = self._data(params, "params", self.n_params)
        self._set_running(running)
        out = np.empty((n, self.net.units[self.net.n_w]), dtype=self.dtype)
        cdef void* o_ptr = cnp.PyArray_DATA(<cnp.ndarray> out)
        order = np.arange(n, dtype=np.intp)
        cdef Py_ssize_t* o = <Py_ssize_t*> cnp.PyArray_DATA(<cnp.ndarray> order)
        cdef int n_threads = loop_threads()
        cdef bint is32 = self.dtype == np.float32
        with one_blas_thread(), nogil:
            if is32:
                _predict(&self.net, &inp, o, n, <float*> p, <float*> o_ptr, n_threads)
            else:
                _predict(&self.net, &inp, o, n, <double*> p, <double*> o_ptr, n_threads)
        return out

    def hidden_activations(self, params, X, bint train, running=None):
        """Hidden-layer outputs for the first ``capacity`` rows of ``X``.

        With ``train=True`` the training forward pass runs, dropout included,
        drawing from the same generator as :meth:`epoch` (used to test that
        dropout masks are applied and back-propagated correctly), and batch
        normalisation uses these rows' statistics (``running`` is left as it
        is); otherwise the running statistics.
        """
        cdef list keep = []
        cdef Rows inp = self._input(X, keep)
        cdef Py_ssize_t m = min(<Py_ssize_t> X.shape[0], self.net.cap)
        cdef void* p = self._data(params, "params", self.n_params)
        self._set_running(running)
        if self.net.bn and train and m < 2:
            raise ValueError("batch normalisation needs at least 2 rows to train on")
        self._reserve_dropped_values(X, m)
        order = np.arange(m, dtype=np.intp)
        cdef Py_ssize_t* o = <Py_ssize_t*> cnp.PyArray_DATA(<cnp.ndarray> order)
        cdef int n_threads = loop_threads()
        cdef bint masked = train and self.net.dropped
        with one_blas_thread(), nogil:
            if masked and self.net.is32:
                _draw_masks(<float**> self.net.mask, &self.net, &inp, o, m, &self.dropout_rng)
            elif masked:
                _draw_masks(<double**> self.net.mask, &self.net, &inp, o, m, &self.dropout_rng)
            if self.net.bn and train:
                _bn_rows(&self.net, &inp, NULL, NULL, o, m, p, NULL, MODE_HIDDEN, masked, False,
                         n_threads)
            else:
                if self.net.is32:
                    _bn_inference_scale(&self.net, <const float*> p)
                else:
                    _bn_inference_scale(&self.net, <const double*> p)
                _run_rows(&self.net, &inp, NULL, NULL, o, m, p, MODE_HIDDEN, masked, n_threads)
        return [self._activation_copy(l, m) for l in range(1, self.net.n_w)]

    cdef object _activation_copy(self, int layer, Py_ssize_t m):
        """Copy of the first ``m`` rows of the activation workspace of ``layer``."""
        cdef Py_ssize_t h = self.net.units[layer]
        out = np.empty((m, h), dtype=self.dtype)
        memcpy(cnp.PyArray_DATA(<cnp.ndarray> out), self.net.act[layer],
               m * h * cnp.PyArray_ITEMSIZE(<cnp.ndarray> out))
        return out


cdef void _row_losses(int kind, floating delta, floating[:, ::1] z, const floating[:, ::1] y,
                      const floating[::1] w, double[::1] out) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(z.shape[0]):
        out[i] = output_loss_delta(kind, delta, &z[i, 0], &y[i, 0], w[i], z.shape[1])


def output_loss(int kind, double huber_delta, y_true, z, sample_weight=None):
    """Loss of each row of output pre-activations ``z``, and its gradient.

    The training loop's own formula (``fo_output_loss_delta`` of
    ``csrc/fo_losses.h``), in the precision of ``z``.

    Parameters
    ----------
    kind : OutputLoss
        The loss (``CANONICAL_LOSS`` gives each output activation's).
    huber_delta : float
        Threshold of the Huber loss (unused by the others).
    y_true : array-like of shape (n_samples, n_outputs)
    z : ndarray of shape (n_samples, n_outputs), float32 or float64
        Pre-activations of the output layer (not modified).
    sample_weight : array-like of shape (n_samples,) or None

    Returns
    -------
    loss : ndarray of shape (n_samples,), float64
        The unweighted loss of each row.
    grad : ndarray like ``z``
        Row i is ``sample_weight[i]`` times the gradient of row i's loss with
        respect to ``z[i]``.
    """
    check_kind(OutputLoss, kind)
    grad = np.array(z, order="C")
    if grad.dtype not in (np.float32, np.float64) or grad.ndim != 2 or grad.shape[1] == 0:
        raise ValueError(f"z must be a float32 or float64 array of shape (n_samples, "
                         f"n_outputs >= 1), got {grad.dtype} of shape {grad.shape}")
    y = np.ascontiguousarray(y_true, dtype=grad.dtype)
    w = (np.ones(grad.shape[0], dtype=grad.dtype) if sample_weight is None
         else np.ascontiguousarray(sample_weight, dtype=grad.dtype))
    if y.shape != grad.shape or w.shape != grad.shape[:1]:
        raise ValueError(f"y_true has shape {y.shape} and sample_weight {w.shape}; z has "
                         f"{grad.shape}")
    loss = np.empty(grad.shape[0])
    if grad.dtype == np.float32:
        _row_losses[float](kind, <float> huber_delta, grad, y, w, loss)
    else:
        _row_losses[double](kind, huber_delta, grad, y, w, loss)
    return loss, grad


def robust_loss(str name, double huber_delta, y_true, y_pred, sample_weight=None):
    """Weighted mean over samples of the mean over outputs of the loss ``name``.

    The training loop's own per-row formula (:func:`output_loss`), in float64;
    it scores the validation set of the robust losses.

    Parameters
    ----------
    name : {'absolute_error', 'huber'}
        ``|r|``, or Huber's ``r^2 / 2`` for ``|r| <= huber_delta`` and
        ``huber_delta (|r| - huber_delta / 2)`` beyond, for ``r = y_pred - y_true``.
    huber_delta : float
        Threshold of the Huber loss (unused by 'absolute_error').
    y_true, y_pred : ndarray of shape (n_samples, n_outputs)
    sample_weight : ndarray of shape (n_samples,) or None

    Returns
    -------
    loss : float
    """
    cdef const double[::1] loss = output_loss(
        LOSS_CODES[name], huber_delta, y_true, np.asarray(y_pred, dtype=np.float64),
        sample_weight)[0]
    cdef const double[::1] w = (None if sample_weight is None else
                                np.ascontiguousarray(sample_weight, dtype=np.float64))
    cdef Py_ssize_t i
    cdef double wi = 1.0, total = 0.0, w_sum = 0.0
    for i in range(loss.shape[0]):
        if w is not None:
            wi = w[i]
        total += wi * loss[i]
        w_sum += wi
    return total / w_sum
