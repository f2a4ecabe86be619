/* fo_losses.h -- the losses of fastopt's two engines, and their one softmax.
 *
 * One output (the linear engine, fo_sgd.h and the minibatch engine of
 * fastopt/linear_model/_sgd_fast.pyx): scikit-learn's SGD losses of a
 * prediction p for a target y, fo_sgd_loss and its derivative fo_sgd_dloss,
 * evaluated in double as scikit-learn does. Their kinds are fo_sgd_loss_kind
 * (SGDLoss in _sgd_fast.pyx, which refuses any other kind when an engine is
 * built; here an unknown kind gives NaN, never a silent 0).
 *
 * A row of k outputs (the MLP's output layer, and the multinomial log-loss of
 * the linear minibatch engine), in the parameter precision:
 * fo_output_loss_delta turns a row of pre-activations into the row's loss and
 * the gradient of the loss with respect to the pre-activations, for the
 * canonical link of each output activation (identity/squared error,
 * exp/Poisson deviance, logistic/binary log-loss, softmax/log-loss, with
 * probabilities clipped to [eps, 1 - eps] inside the log as in scikit-learn's
 * MLP) or a robust loss of identity outputs (absolute error, Huber, as torch's
 * L1Loss and HuberLoss); fo_softmax is the numerically stable softmax (shift
 * by the row's maximum) that both engines and the MLP's inference use. The
 * row kinds are fo_output_loss (OutputLoss in
 * fastopt/neural_network/_mlp_fast.pyx). The row functions are written once
 * for FO_REAL in fo_losses_impl.h and instantiated here for float and double,
 * as fo_rules.h does for the update rules.
 */
#ifndef FO_LOSSES_H
#define FO_LOSSES_H

#include <float.h>
#include <math.h>
#include <stddef.h>
#include "fo_config.h"

typedef enum fo_sgd_loss_kind {
    FO_LOSS_HINGE = 0,          /* param: threshold (1 hinge, 0 perceptron) */
    FO_LOSS_SQUARED_HINGE = 1,  /* param: threshold */
    FO_LOSS_MODIFIED_HUBER = 2,
    FO_LOSS_LOG = 3,            /* half binomial deviance, y in {0, 1} */
    FO_LOSS_SQUARED = 4,        /* half squared error */
    FO_LOSS_HUBER = 5,          /* param: delta */
    FO_LOSS_EPS_INSENSITIVE = 6,        /* param: epsilon */
    FO_LOSS_SQ_EPS_INSENSITIVE = 7      /* param: epsilon */
} fo_sgd_loss_kind;

/* The linear engines clip the loss derivative to [-MAX, MAX] (scikit-learn's MAX_DLOSS). */
#define FO_SGD_MAX_DLOSS 1e12

typedef enum fo_output_loss {
    FO_OUT_SQUARED_ERROR = 0,   /* identity output: sum_j (z_j - y_j)^2 / (2k) */
    FO_OUT_POISSON = 1,         /* exp output: sum_j y_j log(y_j / e^z_j) + e^z_j - y_j */
    FO_OUT_BINARY_LOG_LOSS = 2, /* logistic outputs: -sum_j y_j log p_j + (1 - y_j) log(1 - p_j) */
    FO_OUT_LOG_LOSS = 3,        /* softmax output: -sum_j y_j log p_j */
    FO_OUT_ABSOLUTE_ERROR = 4,  /* identity output: mean_j |z_j - y_j| */
    FO_OUT_HUBER = 5            /* identity output: mean_j huber_delta(z_j - y_j) */
} fo_output_loss;

static inline double fo_sgd_log1pexp(double x)
{
    if (x <= -37.0) return exp(x);
    if (x <= -2.0) return log1p(exp(x));
    if (x <= 18.0) return log(1.0 + exp(x));
    if (x <= 33.3) return x + exp(-x);
    return x;
}

/* Loss of prediction p for target y. */
static inline double fo_sgd_loss(int kind, double param, double y, double p)
{
    double z, r;
    switch (kind) {
    case FO_LOSS_HINGE:
        z = p * y;
        return z <= param ? param - z : 0.0;
    case FO_LOSS_SQUARED_HINGE:
        z = param - p * y;
        return z > 0.0 ? z * z : 0.0;
    case FO_LOSS_MODIFIED_HUBER:
        z = p * y;
        if (z >= 1.0) return 0.0;
        if (z >= -1.0) return (1.0 - z) * (1.0 - z);
        return -4.0 * z;
    case FO_LOSS_LOG:
        return fo_sgd_log1pexp(p) - y * p;
    case FO_LOSS_SQUARED:
        return 0.5 * (p - y) * (p - y);
    case FO_LOSS_HUBER:
        r = fabs(p - y);
        return r <= param ? 0.5 * r * r : param * (r - 0.5 * param);
    case FO_LOSS_EPS_INSENSITIVE:
        r = fabs(y - p) - param;
        return r > 0.0 ? r : 0.0;
    case FO_LOSS_SQ_EPS_INSENSITIVE:
        r = fabs(y - p) - param;
        return r > 0.0 ? r * r : 0.0;
    default:
        return NAN;
    }
}

/* Derivative of the loss with respect to p. */
static inline double fo_sgd_dloss(int kind, double param, double y, double p)
{
    double z, e;
    switch (kind) {
    case FO_LOSS_HINGE:
        return p * y <= param ? -y : 0.0;
    case FO_LOSS_SQUARED_HINGE:
        z = param - p * y;
        return z > 0.0 ? -2.0 * y * z : 0.0;
    case FO_LOSS_MODIFIED_HUBER:
        z = p * y;
        if (z >= 1.0) return 0.0;
        if (z >= -1.0) return 2.0 * (1.0 - z) * -y;
        return -4.0 * y;
    case FO_LOSS_LOG:
        if (p > -37.0) {
            e = exp(-p);
            return ((1.0 - y) - y * e) / (1.0 + e);
        }
        e = exp(p);
        return e - y;
    case FO_LOSS_SQUARED:
        return p - y;
    case FO_LOSS_HUBER:
        z = p - y;
        if (fabs(z) <= param) return z;
        return z > 0.0 ? param : -param;
    case FO_LOSS_EPS_INSENSITIVE:
        if (y - p > param) return -1.0;
        if (p - y > param) return 1.0;
        return 0.0;
    case FO_LOSS_SQ_EPS_INSENSITIVE:
        z = y - p;
        if (z > param) return -2.0 * (z - param);
        if (z < -param) return 2.0 * (-z - param);
        return 0.0;
    default:
        return NAN;
    }
}

#define FO_REAL float
#define FO_SUFFIX _f32
#define FO_EXP expf
#define FO_LOG logf
#define FO_EPS FLT_EPSILON
#include "fo_losses_impl.h"
#undef FO_REAL
#undef FO_SUFFIX
#undef FO_EXP
#undef FO_LOG
#undef FO_EPS

#define FO_REAL double
#define FO_SUFFIX _f64
#define FO_EXP exp
#define FO_LOG log
#define FO_EPS DBL_EPSILON
#include "fo_losses_impl.h"
#undef FO_REAL
#undef FO_SUFFIX
#undef FO_EXP
#undef FO_LOG
#undef FO_EPS

#endif
