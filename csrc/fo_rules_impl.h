/* fo_rules_impl.h -- the update kernels, written once for FO_REAL.
 *
 * Included by fo_rules.h with FO_REAL = float and double. Each kernel updates
 * p[0:n] and its state in place from the gradient g[0:n]; g is read only.
 * Its state pointers are the rule's buffers in the order of _rule_table.py
 * (NULL for a buffer the configuration does not use). Gradient preprocessing
 * (global-norm scale, value clipping) is fused into the same pass. A NaN
 * gradient stays NaN (no comparison here swallows it), so divergence is
 * visible to the caller.
 */

static inline FO_REAL FO_NAME(fo_prep)(FO_REAL g, FO_REAL scale, FO_REAL clip)
{
    g *= scale;
    g = g > clip ? clip : g;
    return g < -clip ? -clip : g;
}

/* sign(x) in {-1, 0, 1}; NaN stays NaN. */
static inline FO_REAL FO_NAME(fo_sign)(FO_REAL x)
{
    return x > 0 ? (FO_REAL)1 : (x < 0 ? (FO_REAL)-1 : x);
}

/* SGD (PyTorch): g += wd p; b = mu b + (1 - dampening) g (b = g on the first
 * step); g = nesterov ? g + mu b : b; p -= lr g. buf is NULL when mu == 0. */
FO_MULTIVERSION
static void FO_NAME(fo_sgd)(FO_REAL *FO_RESTRICT p, const FO_REAL *FO_RESTRICT g,
                            FO_REAL *FO_RESTRICT buf, ptrdiff_t n, const fo_coef *c)
{
    const FO_REAL lr = (FO_REAL)c->lr, wd = (FO_REAL)c->weight_decay;
    const FO_REAL scale = (FO_REAL)c->gscale, clip = (FO_REAL)c->clip;
    const FO_REAL mu = (FO_REAL)c->momentum;
    const FO_REAL keep = c->first ? (FO_REAL)0 : mu;
    const FO_REAL damp = c->first ? (FO_REAL)1 : (FO_REAL)(1.0 - c->dampening);
    ptrdiff_t i;
    if (buf == NULL) {
        for (i = 0; i < n; i++) {
            FO_REAL gi = FO_NAME(fo_prep)(g[i], scale, clip) + wd * p[i];
            p[i] -= lr * gi;
        }
    } else if (c->nesterov) {
        for (i = 0; i < n; i++) {
            FO_REAL gi = FO_NAME(fo_prep)(g[i], scale, clip) + wd * p[i];
            FO_REAL b = keep * buf[i] + damp * gi;
            buf[i] = b;
            p[i] -= lr * (gi + mu * b);
        }
    } else {
        for (i = 0; i < n; i++) {
            FO_REAL gi = FO_NAME(fo_prep)(g[i], scale, clip) + wd * p[i];
            FO_REAL b = keep * buf[i] + damp * gi;
            buf[i] = b;
            p[i] -= lr * b;
        }
    }
}

/* Adagrad (PyTorch): g += wd p; s += g^2; p -= clr g / (sqrt(s) + eps),
 * with clr = lr / (1 + (t - 1) lr_decay) folded into c->lr by the caller. */
FO_MULTIVERSION
static void FO_NAME(fo_adagrad)(FO_REAL *FO_RESTRICT p, const FO_REAL *FO_RESTRICT g,
                                FO_REAL *FO_RESTRICT sum, ptrdiff_t n, const fo_coef *c)
{
    const FO_REAL lr = (FO_REAL)c->lr, wd = (FO_REAL)c->weight_decay;
    const FO_REAL scale = (FO_REAL)c->gscale, clip = (FO_REAL)c->clip;
    const FO_REAL eps = (FO_REAL)c->eps;
    ptrdiff_t i;
    for (i = 0; i < n; i++) {
        FO_REAL gi = FO_NAME(fo_prep)(g[i], scale, clip) + wd * p[i];
        FO_REAL s = sum[i] + gi * gi;
        sum[i] = s;
        p[i] -= lr * gi / (FO_SQRT(s) + eps);
    }
}

/* RMSprop (PyTorch): g += wd p; v = alpha v + (1 - alpha) g^2;
 * centered: a = alpha a + (1 - alpha) g, v~ = v - a^2, else v~ = v;
 * momentum: b = mu b + g / (sqrt(v~) + eps), p -= lr b;
 * otherwise p -= lr g / (sqrt(v~) + eps). gavg / buf are NULL when unused. */
FO_MULTIVERSION
static void FO_NAME(fo_rmsprop)(FO_REAL *FO_RESTRICT p, const FO_REAL *FO_RESTRICT g,
                                FO_REAL *FO_RESTRICT sq, FO_REAL *FO_RESTRICT gavg,
                                FO_REAL *FO_RESTRICT buf, ptrdiff_t n, const fo_coef *c)
{
    const FO_REAL lr = (FO_REAL)c->lr, wd = (FO_REAL)c->weight_decay;
    const FO_REAL scale = (FO_REAL)c->gscale, clip = (FO_REAL)c->clip;
    const FO_REAL eps = (FO_REAL)c->eps, mu = (FO_REAL)c->momentum;
    const FO_REAL a = (FO_REAL)c->alpha, a1 = (FO_REAL)(1.0 - c->alpha);
    ptrdiff_t i;
    for (i = 0; i < n; i++) {
        FO_REAL gi = FO_NAME(fo_prep)(g[i], scale, clip) + wd * p[i];
        FO_REAL v = a * sq[i] + a1 * gi * gi;
        sq[i] = v;
        if (gavg != NULL) {
            FO_REAL ga = a * gavg[i] + a1 * gi;
            gavg[i] = ga;
            v -= ga * ga;
        }
        FO_REAL d = FO_SQRT(v) + eps;
        if (buf != NULL) {
            FO_REAL b = mu * buf[i] + gi / d;
            buf[i] = b;
            p[i] -= lr * b;
        } else {
            p[i] -= lr * gi / d;
        }
    }
}

/* Adam / AdamW (PyTorch): p *= decay (AdamW: 1 - lr wd); g += wd p (Adam);
 * m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; amsgrad: v^ = max(v^, v);
 * p -= (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps). vmax is NULL unless amsgrad. */
FO_MULTIVERSION
static void FO_NAME(fo_adam)(FO_REAL *FO_RESTRICT p, const FO_REAL *FO_RESTRICT g,
                             FO_REAL *FO_RESTRICT m, FO_REAL *FO_RESTRICT v,
                             FO_REAL *FO_RESTRICT vmax, ptrdiff_t n, const fo_coef *c)
{
    const FO_REAL wd = (FO_REAL)c->weight_decay, decay = (FO_REAL)c->decay;
    const FO_REAL scale = (FO_REAL)c->gscale, clip = (FO_REAL)c->clip;
    const FO_REAL b1 = (FO_REAL)c->beta1, b1c = (FO_REAL)(1.0 - c->beta1);
    const FO_REAL b2 = (FO_REAL)c->beta2, b2c = (FO_REAL)(1.0 - c->beta2);
    const FO_REAL step = (FO_REAL)(c->lr / c->bc1), ibc2s = (FO_REAL)(1.0 / c->bc2_sqrt);
    const FO_REAL eps = (FO_REAL)c->eps;
    ptrdiff_t i;
    if (vmax == NULL) {
        for (i = 0; i < n; i++) {
            FO_REAL pi = p[i];
            FO_REAL gi = FO_NAME(fo_prep)(g[i], scale, clip) + wd * pi;
            FO_REAL mi = b1 * m[i] + b1c * gi;
            FO_REAL vi = b2 * v[i] + b2c * gi * gi;
            m[i] = mi;
            v[i] = vi;
            p[i] = pi * decay - step * mi / (FO_SQRT(vi) * ibc2s + eps);
        }
    } else {
        for (i = 0; i < n; i++) {
            FO_REAL pi = p[i];
            FO_REAL gi = FO_NAME(fo_prep)(g[i], scale, clip) + wd * pi;
            FO_REAL mi = b1 * m[i] + b1c * gi;
            FO_REAL vi = b2 * v[i] + b2c * gi * gi;
            FO_REAL vm = vmax[i] > vi ? vmax[i] : vi;
            m[i] = mi;
            v[i] = vi;
            vmax[i] = vm;
            p[i] = pi * decay - step * mi / (FO_SQRT(vm) * ibc2s + eps);
        }
    }
}

/* NAdam (PyTorch): g += wd p; m, v as Adam; d = sqrt(v / bc2) + eps;
 * p -= (c_grad g + c_m m) / d (momentum-schedule factors from the caller). */
FO_MULTIVERSION
static void FO_NAME(fo_nadam)(FO_REAL *FO_RESTRICT p, const FO_REAL *FO_RESTRICT g,
                              FO_REAL *FO_RESTRICT m, FO_REAL *FO_RESTRICT v,
                              ptrdiff_t n, const fo_coef *c)
{
    const FO_REAL wd = (FO_REAL)c->weight_decay;
    const FO_REAL scale = (FO_REAL)c->gscale, clip = (FO_REAL)c->clip;
    const FO_REAL b1 = (FO_REAL)c->beta1, b1c = (FO_REAL)(1.0 - c->beta1);
    const FO_REAL b2 = (FO_REAL)c->beta2, b2c = (FO_REAL)(1.0 - c->beta2);
    const FO_REAL ibc2 = (FO_REAL)(1.0 / c->bc2), eps = (FO_REAL)c->eps;
    const FO_REAL cg = (FO_REAL)c->c_grad, cm = (FO_REAL)c->c_m;
    ptrdiff_t i;
    for (i = 0; i < n; i++) {
        FO_REAL gi = FO_NAME(fo_prep)(g[i], scale, clip) + wd * p[i];
        FO_REAL mi = b1 * m[i] + b1c * gi;
        FO_REAL vi = b2 * v[i] + b2c * gi * gi;
        FO_REAL d = FO_SQRT(vi * ibc2) + eps;
        m[i] = mi;
        v[i] = vi;
        p[i] -= (cg * gi + cm * mi) / d;
    }
}

/* scikit-learn's MLP 'sgd' solver: u = mu u - lr g; nesterov: p += mu u - lr g,
 * otherwise p += u. The gradient already holds the L2 term. */
FO_MULTIVERSION
static void FO_NAME(fo_sk_sgd)(FO_REAL *FO_RESTRICT p, const FO_REAL *FO_RESTRICT g,
                               FO_REAL *FO_RESTRICT vel, ptrdiff_t n, const fo_coef *c)
{
    const FO_REAL lr = (FO_REAL)c->lr, mu = (FO_REAL)c->momentum;
    const FO_REAL scale = (FO_REAL)c->gscale, clip = (FO_REAL)c->clip;
    ptrdiff_t i;
    for (i = 0; i < n; i++) {
        FO_REAL gi = FO_NAME(fo_prep)(g[i], scale, clip);
        FO_REAL u = mu * vel[i] - lr * gi;
        vel[i] = u;
        p[i] += c->nesterov ? mu * u - lr * gi : u;
    }
}

/* scikit-learn's MLP 'adam' solver: m, v as Adam;
 * p -= lr sqrt(bc2) / bc1 * m / (sqrt(v) + eps) (eps added to the raw sqrt(v)). */
FO_MULTIVERSION
static void FO_NAME(fo_sk_adam)(FO_REAL *FO_RESTRICT p, const FO_REAL *FO_RESTRICT g,
                                FO_REAL *FO_RESTRICT m, FO_REAL *FO_RESTRICT v,
                                ptrdiff_t n, const fo_coef *c)
{
    const FO_REAL scale = (FO_REAL)c->gscale, clip = (FO_REAL)c->clip;
    const FO_REAL b1 = (FO_REAL)c->beta1, b1c = (FO_REAL)(1.0 - c->beta1);
    const FO_REAL b2 = (FO_REAL)c->beta2, b2c = (FO_REAL)(1.0 - c->beta2);
    const FO_REAL step = (FO_REAL)(c->lr * c->bc2_sqrt / c->bc1), eps = (FO_REAL)c->eps;
    ptrdiff_t i;
    for (i = 0; i < n; i++) {
        FO_REAL gi = FO_NAME(fo_prep)(g[i], scale, clip);
        FO_REAL mi = b1 * m[i] + b1c * gi;
        FO_REAL vi = b2 * v[i] + b2c * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= step * mi / (FO_SQRT(vi) + eps);
    }
}

/* Adadelta (PyTorch): g += wd p; v = rho v + (1 - rho) g^2;
 * d = sqrt(u + eps) / sqrt(v + eps) g; u = rho u + (1 - rho) d^2; p -= lr d. */
FO_MULTIVERSION
static void FO_NAME(fo_adadelta)(FO_REAL *FO_RESTRICT p, const FO_REAL *FO_RESTRICT g,
                                 FO_REAL *FO_RESTRICT sq, FO_REAL *FO_RESTRICT acc,
                                 ptrdiff_t n, const fo_coef *c)
{
    const FO_REAL lr = (FO_REAL)c->lr, wd = (FO_REAL)c->weight_decay;
    const FO_REAL scale = (FO_REAL)c->gscale, clip = (FO_REAL)c->clip;
    const FO_REAL rho = (FO_REAL)c->rho, rho1 = (FO_REAL)(1.0 - c->rho);
    const FO_REAL eps = (FO_REAL)c->eps;
    ptrdiff_t i;
    for (i = 0; i < n; i++) {
        FO_REAL gi = FO_NAME(fo_prep)(g[i], scale, clip) + wd * p[i];
        FO_REAL v = rho * sq[i] + rho1 * gi * gi;
        FO_REAL d = FO_SQRT(acc[i] + eps) / FO_SQRT(v + eps) * gi;
        sq[i] = v;
        acc[i] = rho * acc[i] + rho1 * d * d;
        p[i] -= lr * d;
    }
}

/* Adamax (PyTorch): g += wd p; m = b1 m + (1 - b1) g; u = max(b2 u, |g| + eps);
 * p -= (lr / bc1) m / u. */
FO_MULTIVERSION
static void FO_NAME(fo_adamax)(FO_REAL *FO_RESTRICT p, const FO_REAL *FO_RESTRICT g,
                               FO_REAL *FO_RESTRICT m, FO_REAL *FO_RESTRICT u,
                               ptrdiff_t n, const fo_coef *c)
{
    const FO_REAL wd = (FO_REAL)c->weight_decay;
    const FO_REAL scale = (FO_REAL)c->gscale, clip = (FO_REAL)c->clip;
    const FO_REAL b1 = (FO_REAL)c->beta1, b1c = (FO_REAL)(1.0 - c->beta1);
    const FO_REAL b2 = (FO_REAL)c->beta2, eps = (FO_REAL)c->eps;
    const FO_REAL step = (FO_REAL)(c->lr / c->bc1);
    ptrdiff_t i;
    for (i = 0; i < n; i++) {
        FO_REAL gi = FO_NAME(fo_prep)(g[i], scale, clip) + wd * p[i];
        FO_REAL mi = b1 * m[i] + b1c * gi;
        FO_REAL decayed = b2 * u[i], fresh = (gi < 0 ? -gi : gi) + eps;
        FO_REAL ui = decayed > fresh ? decayed : fresh;
        m[i] = mi;
        u[i] = ui;
        p[i] -= step * (mi / ui);
    }
}

/* RAdam (PyTorch): p *= decay (decoupled: 1 - lr wd); g += wd p (otherwise);
 * m, v as Adam; rect > 0: p -= lr rect / bc1 m sqrt(bc2) / (sqrt(v) + eps),
 * rect == 0 (early steps): p -= lr / bc1 m. */
FO_MULTIVERSION
static void FO_NAME(fo_radam)(FO_REAL *FO_RESTRICT p, const FO_REAL *FO_RESTRICT g,
                              FO_REAL *FO_RESTRICT m, FO_REAL *FO_RESTRICT v,
                              ptrdiff_t n, const fo_coef *c)
{
    const FO_REAL wd = (FO_REAL)c->weight_decay, decay = (FO_REAL)c->decay;
    const FO_REAL scale = (FO_REAL)c->gscale, clip = (FO_REAL)c->clip;
    const FO_REAL b1 = (FO_REAL)c->beta1, b1c = (FO_REAL)(1.0 - c->beta1);
    const FO_REAL b2 = (FO_REAL)c->beta2, b2c = (FO_REAL)(1.0 - c->beta2);
    const FO_REAL eps = (FO_REAL)c->eps, bc2s = (FO_REAL)c->bc2_sqrt;
    const int adapt = c->rect > 0.0;
    const FO_REAL step = (FO_REAL)(c->lr * (adapt ? c->rect : 1.0) / c->bc1);
    ptrdiff_t i;
    for (i = 0; i < n; i++) {
        FO_REAL pi = p[i];
        FO_REAL gi = FO_NAME(fo_prep)(g[i], scale, clip) + wd * pi;
        FO_REAL mi = b1 * m[i] + b1c * gi;
        FO_REAL vi = b2 * v[i] + b2c * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = pi * decay - step * mi * (adapt ? bc2s / (FO_SQRT(vi) + eps) : (FO_REAL)1);
    }
}

/* Rprop (PyTorch): f = eta+ if g g_prev > 0, eta- if < 0, else 1;
 * s = clamp(s f, step_size_min, step_size_max); g = 0 where the sign flipped;
 * p -= sign(g) s; g_prev = g. */
FO_MULTIVERSION
static void FO_NAME(fo_rprop)(FO_REAL *FO_RESTRICT p, const FO_REAL *FO_RESTRICT g,
                              FO_REAL *FO_RESTRICT prev, FO_REAL *FO_RESTRICT size,
                              ptrdiff_t n, const fo_coef *c)
{
    const FO_REAL scale = (FO_REAL)c->gscale, clip = (FO_REAL)c->clip;
    const FO_REAL up = (FO_REAL)c->etaplus, down = (FO_REAL)c->etaminus;
    const FO_REAL lo = (FO_REAL)c->step_size_min, hi = (FO_REAL)c->step_size_max;
    ptrdiff_t i;
    for (i = 0; i < n; i++) {
        FO_REAL gi = FO_NAME(fo_prep)(g[i], scale, clip);
        FO_REAL agree = gi * prev[i];
        FO_REAL f = agree > 0 ? up : (agree < 0 ? down : (agree == 0 ? (FO_REAL)1 : agree));
        FO_REAL s = size[i] * f;
        s = s < lo ? lo : (s > hi ? hi : s);
        gi = agree < 0 ? (FO_REAL)0 : gi;
        size[i] = s;
        prev[i] = gi;
        p[i] -= FO_NAME(fo_sign)(gi) * s;
    }
}

/* ASGD (PyTorch): g += wd p; p = p (1 - lambd eta) - eta g;
 * ax = p if mu == 1, else ax + mu (p - ax). */
FO_MULTIVERSION
static void FO_NAME(fo_asgd)(FO_REAL *FO_RESTRICT p, const FO_REAL *FO_RESTRICT g,
                             FO_REAL *FO_RESTRICT ax, ptrdiff_t n, const fo_coef *c)
{
    const FO_REAL wd = (FO_REAL)c->weight_decay, decay = (FO_REAL)c->decay;
    const FO_REAL scale = (FO_REAL)c->gscale, clip = (FO_REAL)c->clip;
    const FO_REAL eta = (FO_REAL)c->eta, mu = (FO_REAL)c->mu;
    ptrdiff_t i;
    if (c->mu == 1.0) {
        for (i = 0; i < n; i++) {
            FO_REAL gi = FO_NAME(fo_prep)(g[i], scale, clip) + wd * p[i];
            FO_REAL pi = p[i] * decay - eta * gi;
            p[i] = pi;
            ax[i] = pi;
        }
    } else {
        for (i = 0; i < n; i++) {
            FO_REAL gi = FO_NAME(fo_prep)(g[i], scale, clip) + wd * p[i];
            FO_REAL pi = p[i] * decay - eta * gi;
            p[i] = pi;
            ax[i] += (pi - ax[i]) * mu;
        }
    }
}

/* Lion (Chen et al., 2023): u = b1 m + (1 - b1) g; p = p (1 - lr wd) - lr sign(u);
 * m = b2 m + (1 - b2) g. */
FO_MULTIVERSION
static void FO_NAME(fo_lion)(FO_REAL *FO_RESTRICT p, const FO_REAL *FO_RESTRICT g,
                             FO_REAL *FO_RESTRICT m, ptrdiff_t n, const fo_coef *c)
{
    const FO_REAL lr = (FO_REAL)c->lr, decay = (FO_REAL)c->decay;
    const FO_REAL scale = (FO_REAL)c->gscale, clip = (FO_REAL)c->clip;
    const FO_REAL b1 = (FO_REAL)c->beta1, b1c = (FO_REAL)(1.0 - c->beta1);
    const FO_REAL b2 = (FO_REAL)c->beta2, b2c = (FO_REAL)(1.0 - c->beta2);
    ptrdiff_t i;
    for (i = 0; i < n; i++) {
        FO_REAL gi = FO_NAME(fo_prep)(g[i], scale, clip);
        FO_REAL u = b1 * m[i] + b1c * gi;
        p[i] = p[i] * decay - lr * FO_NAME(fo_sign)(u);
        m[i] = b2 * m[i] + b2c * gi;
    }
}

/* Sum of squares of g[0:n] in double. Eight explicit accumulators, combined in
 * a fixed order at the end, let the loop vectorise while the result stays the
 * same on every CPU and vector width. */
FO_MULTIVERSION
static double FO_NAME(fo_sumsq)(const FO_REAL *FO_RESTRICT g, ptrdiff_t n)
{
    double acc[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    double s;
    ptrdiff_t i = 0;
    int k;
    for (; i + 8 <= n; i += 8)
        for (k = 0; k < 8; k++) acc[k] += (double)g[i + k] * (double)g[i + k];
    s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; i++) s += (double)g[i] * (double)g[i];
    return s;
}

/* ---- the weight penalty, alone or fused into scikit-learn's Adam ----
 * Both reduce ||p||^2 (and ||p||_1) lane-wise over blocks of FO_REDUCE_BLOCK
 * elements (FO_SIMD_REDUCE, fo_config.h). */

/* g[0:n] += c2 p + c1 sign(p); *sumsq = ||p||^2 and *sumabs = ||p||_1. The
 * pure-L2 case (scikit-learn's) has its own loop without the sign. */
FO_MULTIVERSION
static void FO_NAME(fo_penalty_grad)(const FO_REAL *FO_RESTRICT p, FO_REAL *FO_RESTRICT g,
                                     ptrdiff_t n, FO_REAL c2, FO_REAL c1, double *sumsq,
                                     double *sumabs)
{
    double s = 0.0, a = 0.0;
    ptrdiff_t start, end, i;
    for (start = 0; start < n; start += FO_REDUCE_BLOCK) {
        FO_REAL bs = 0, ba = 0;
        end = n - start < FO_REDUCE_BLOCK ? n : start + FO_REDUCE_BLOCK;
        if (c1 == 0) {
            FO_SIMD_REDUCE(bs)
            for (i = start; i < end; i++) {
                FO_REAL w = p[i];
                bs += w * w;
                g[i] += c2 * w;
            }
        } else {
            FO_SIMD_REDUCE(bs, ba)
            for (i = start; i < end; i++) {
                FO_REAL w = p[i];
                FO_REAL sign = (w > 0 ? (FO_REAL)1 : (FO_REAL)0) - (w < 0 ? (FO_REAL)1 : (FO_REAL)0);
                bs += w * w;
                ba += w * sign;
                g[i] += c2 * w + c1 * sign;
            }
        }
        s += (double)bs;
        a += (double)ba;
    }
    *sumsq = s;
    *sumabs = a;
}

/* fo_sk_adam on the gradient g + c2 p of its first n_pen elements (the rest
 * unpenalised), with the gradient's value clipping and no global-norm scale;
 * returns ||p[0:n_pen]||^2 before the step, reduced as fo_penalty_grad. The
 * same arithmetic in the same order as fo_penalty_grad (c1 = 0) followed by
 * fo_sk_adam, so the same bits, with p and g read once instead of twice. */
FO_MULTIVERSION
static double FO_NAME(fo_sk_adam_l2)(FO_REAL *FO_RESTRICT p, const FO_REAL *FO_RESTRICT g,
                                     FO_REAL *FO_RESTRICT m, FO_REAL *FO_RESTRICT v,
                                     ptrdiff_t n_pen, ptrdiff_t n, FO_REAL c2,
                                     const fo_coef *c)
{
    const FO_REAL clip = (FO_REAL)c->clip;
    const FO_REAL b1 = (FO_REAL)c->beta1, b1c = (FO_REAL)(1.0 - c->beta1);
    const FO_REAL b2 = (FO_REAL)c->beta2, b2c = (FO_REAL)(1.0 - c->beta2);
    const FO_REAL step = (FO_REAL)(c->lr * c->bc2_sqrt / c->bc1), eps = (FO_REAL)c->eps;
    double s = 0.0;
    ptrdiff_t start, end, i;
    for (start = 0; start < n; start = end) {
        /* blocks of penalised elements, then of unpenalised ones */
        const FO_REAL pen = start < n_pen ? c2 : (FO_REAL)0;
        FO_REAL bs = 0;
        end = start + FO_REDUCE_BLOCK;
        if (start < n_pen && end > n_pen) end = n_pen;
        if (end > n) end = n;
        FO_SIMD_REDUCE(bs)
        for (i = start; i < end; i++) {
            FO_REAL w = p[i];
            FO_REAL gi = g[i] + pen * w;
            FO_REAL mi, vi;
            bs += w * w;
            gi = gi > clip ? clip : gi;
            gi = gi < -clip ? -clip : gi;
            mi = b1 * m[i] + b1c * gi;
            vi = b2 * v[i] + b2c * gi * gi;
            m[i] = mi;
            v[i] = vi;
            p[i] = w - step * mi / (FO_SQRT(vi) + eps);
        }
        if (start < n_pen) s += (double)bs;
    }
    return s;
}

#include "fo_rule_dispatch.h"
