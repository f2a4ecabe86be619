/* fo_losses_impl.h -- the losses of a row of outputs, written once for FO_REAL.
 *
 * Included by fo_losses.h with FO_REAL = float and double (FO_EXP, FO_LOG and
 * FO_EPS of that precision). The arithmetic is in FO_REAL, like the layer
 * that produced the row, except where a double constant keeps the rounding of
 * the Cython loop this code replaced (the logistic's 1.0 / (1.0 + e^-z)); a
 * row's loss is accumulated in double. NaN inputs
 * stay NaN (the clipping comparisons are written so that they pass NaN
 * through), so divergence is visible to the caller.
 */

/* z[0:k] <- softmax(z), shifted by the row's maximum; returns the
 * log-sum-exp of the input row, log(sum_j e^(z_j - max)) + max. */
static inline FO_REAL FO_NAME(fo_softmax)(FO_REAL *z, ptrdiff_t k)
{
    FO_REAL mx = z[0], s = 0;
    ptrdiff_t j;
    for (j = 1; j < k; j++)
        if (z[j] > mx) mx = z[j];
    for (j = 0; j < k; j++) {
        z[j] = FO_EXP(z[j] - mx);
        s += z[j];
    }
    for (j = 0; j < k; j++) z[j] = z[j] / s;
    return FO_LOG(s) + mx;
}

/* min(max(p, eps), 1 - eps), NaN passing through. */
static inline FO_REAL FO_NAME(fo_clip_prob)(FO_REAL p)
{
    const FO_REAL eps = FO_EPS, hi = 1 - FO_EPS;
    p = eps > p ? eps : p;
    return hi < p ? hi : p;
}

/* The loss of one row of k outputs with pre-activations z[0:k] and targets
 * y[0:k] (kind: fo_output_loss; delta: the Huber threshold), returned
 * unweighted; z becomes w times the loss's gradient with respect to z, which
 * for the canonical links is w (p - y), p the activated output. The robust
 * losses are the mean over the k outputs (gradient included), the others the
 * sum except the squared error's 1/(2k). Returns NaN for an unknown kind. */
static inline double FO_NAME(fo_output_loss_delta)(int kind, FO_REAL delta, FO_REAL *z,
                                                   const FO_REAL *y, FO_REAL w, ptrdiff_t k)
{
    double row_loss = 0.0;
    FO_REAL p, s, r, a, g;
    ptrdiff_t j;
    switch (kind) {
    case FO_OUT_SQUARED_ERROR:
        for (j = 0; j < k; j++) {
            p = z[j] - y[j];
            row_loss += 0.5 * p * p / k;
            z[j] = p * w;
        }
        return row_loss;
    case FO_OUT_POISSON:
        for (j = 0; j < k; j++) {
            p = FO_EXP(z[j]);
            if (y[j] > 0) row_loss += y[j] * FO_LOG(y[j] / p);
            row_loss += p - y[j];
            z[j] = (p - y[j]) * w;
        }
        return row_loss;
    case FO_OUT_BINARY_LOG_LOSS:
        for (j = 0; j < k; j++) {
            p = (FO_REAL)(1.0 / (1.0 + FO_EXP(-z[j])));
            s = FO_NAME(fo_clip_prob)(p);
            if (y[j] != 0) row_loss -= y[j] * FO_LOG(s);
            if (y[j] != 1) row_loss -= (1.0 - y[j]) * FO_LOG(1 - s);
            z[j] = (p - y[j]) * w;
        }
        return row_loss;
    case FO_OUT_LOG_LOSS:
        FO_NAME(fo_softmax)(z, k);
        for (j = 0; j < k; j++) {
            p = z[j];
            if (y[j] != 0) row_loss -= y[j] * FO_LOG(FO_NAME(fo_clip_prob)(p));
            z[j] = (p - y[j]) * w;
        }
        return row_loss;
    case FO_OUT_ABSOLUTE_ERROR:
    case FO_OUT_HUBER:
        for (j = 0; j < k; j++) {
            r = z[j] - y[j];
            a = r >= 0 ? r : -r;
            g = r > 0 ? (FO_REAL)1 : (r < 0 ? (FO_REAL)-1 : r); /* sign; NaN stays */
            if (kind == FO_OUT_ABSOLUTE_ERROR) {
                row_loss += a;
            } else if (a <= delta) {
                row_loss += 0.5 * r * r;
                g = r;
            } else {
                row_loss += delta * (a - 0.5 * delta);
                g *= delta;
            }
            z[j] = g * w / k;
        }
        return row_loss / k;
    default:
        return NAN;
    }
}
