# The learning-rate range test (L. Smith 2017, "Cyclical Learning Rates for
# Training Neural Networks", section 3.3), step by step, shared by the
# minibatch loops of fastopt.neural_network._mlp_fast (MLPCore.range_test)
# and fastopt.linear_model._sgd_fast (MinibatchSGD.range_test); driven from
# Python by fastopt.lr_find, one compiled call per test.
#
# The caller fills a RangeTest with range_init; a loop calls range_begin once
# (and switches the rule's schedule off: the test owns the rate), then for
# every minibatch i: sets the rule's base rate to range_rate(r, i), trains the
# minibatch, and hands its loss
# (measured in the forward pass, before the step) to range_record, which
# stores rate, raw loss and smoothed loss and says whether to stop. The rate
# grows geometrically, lr_i = min_lr (max_lr / min_lr)^(i / (n_steps - 1));
# the smoothed loss is the bias-corrected exponential moving average
#     a_i = beta a_{i-1} + (1 - beta) loss_i,   s_i = a_i / (1 - beta^(i+1));
# the test stops after the first step whose s_i is not finite or exceeds
# stop_factor times the smallest s so far. Nothing here allocates or needs
# the GIL; the output arrays belong to the caller.

from libc.math cimport isfinite, pow


cdef struct RangeTest:
    double min_lr
    double max_lr
    Py_ssize_t n_steps
    double beta              # moving-average factor of the smoothed loss
    double stop_factor       # stop once smoothed > stop_factor * its minimum
    double avg               # running moving average (before bias correction)
    double best              # smallest smoothed loss so far
    Py_ssize_t n_run         # steps recorded
    double* lrs              # n_steps each: rate, raw loss, smoothed loss of every step
    double* raw
    double* smooth


cdef inline int range_init(RangeTest* r, double* out, double min_lr, double max_lr,
                           Py_ssize_t n_steps, double beta, double stop_factor) except -1:
    """Check the settings and fill ``r``; ``out`` holds 3 x ``n_steps`` doubles (the
    rows of rates, raw and smoothed losses)."""
    if n_steps < 2 or not 0 < min_lr < max_lr:
        raise ValueError("need n_steps >= 2 and 0 < min_lr < max_lr")
    r.min_lr = min_lr
    r.max_lr = max_lr
    r.n_steps = n_steps
    r.beta = beta
    r.stop_factor = stop_factor
    r.lrs = out
    r.raw = out + n_steps
    r.smooth = out + 2 * n_steps
    r.avg = 0.0
    r.best = 0.0
    r.n_run = 0
    return 0


cdef inline void range_begin(RangeTest* r) noexcept nogil:
    """Reset the running figures."""
    r.avg = 0.0
    r.best = 0.0
    r.n_run = 0


cdef inline double range_rate(const RangeTest* r, Py_ssize_t i) noexcept nogil:
    """Rate of step ``i`` (0-based): geometric from min_lr (i = 0) to max_lr."""
    return r.min_lr * pow(r.max_lr / r.min_lr, <double> i / <double> (r.n_steps - 1))


cdef inline bint range_record(RangeTest* r, Py_ssize_t i, double loss) noexcept nogil:
    """Record step ``i``'s minibatch loss; return True when the test stops here."""
    cdef double s
    r.avg = r.beta * r.avg + (1.0 - r.beta) * loss
    s = r.avg / (1.0 - pow(r.beta, <double> (i + 1)))
    r.lrs[i] = range_rate(r, i)
    r.raw[i] = loss
    r.smooth[i] = s
    r.n_run = i + 1
    if not isfinite(s):
        return True
    if i == 0 or s < r.best:
        r.best = s
    return s > r.stop_factor * r.best
