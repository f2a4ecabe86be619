/* fo_sgd_impl.h -- the per-sample SGD epoch, written once for FO_REAL.
 *
 * Included by fo_sgd.h with FO_REAL = float and double. The weight vector is
 * wscale * w; `aw` (averaging) and `q` (cumulative L1) are NULL when unused.
 * Row access: dense rows when `indices` is NULL, CSR rows otherwise.
 */
#if FO_SGD_VECTORS
/* Dense rows with GCC/Clang vector extensions: four 4-lane double
 * accumulators (the FMA-free multiply-add chains of the dot product and the
 * norm sums stay short) reduced by a fixed tree, so the AVX2 and baseline
 * clones give identical results. */
typedef FO_REAL FO_NAME(fo_sgd_vr) __attribute__((vector_size(4 * sizeof(FO_REAL))));

FO_SGD_INLINE FO_NAME(fo_sgd_vr) FO_NAME(fo_sgd_load)(const FO_REAL *p)
{
    FO_NAME(fo_sgd_vr) v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* The four lanes as doubles, element by element: GCC 12 lowers
 * __builtin_convertvector from float lanes to two 128-bit halves through the
 * stack (the float32 epoch ran 1.5x slower); this form is one vcvtps2pd. */
FO_SGD_INLINE fo_sgd_v4d FO_NAME(fo_sgd_widen)(FO_NAME(fo_sgd_vr) v)
{
    fo_sgd_v4d d = {v[0], v[1], v[2], v[3]};
    return d;
}

FO_SGD_INLINE fo_sgd_v4d FO_NAME(fo_sgd_wload)(const FO_REAL *p)
{
    return FO_NAME(fo_sgd_widen)(FO_NAME(fo_sgd_load)(p));
}

FO_SGD_INLINE double FO_NAME(fo_sgd_dense_dot)(const FO_REAL *FO_RESTRICT x, ptrdiff_t n,
                                               const FO_REAL *FO_RESTRICT w)
{
    fo_sgd_v4d a0 = {0.0}, a1 = {0.0}, a2 = {0.0}, a3 = {0.0};
    double t = 0.0;
    ptrdiff_t j = 0;
    for (; j + 16 <= n; j += 16) {
        a0 += FO_NAME(fo_sgd_wload)(w + j) * FO_NAME(fo_sgd_wload)(x + j);
        a1 += FO_NAME(fo_sgd_wload)(w + j + 4) * FO_NAME(fo_sgd_wload)(x + j + 4);
        a2 += FO_NAME(fo_sgd_wload)(w + j + 8) * FO_NAME(fo_sgd_wload)(x + j + 8);
        a3 += FO_NAME(fo_sgd_wload)(w + j + 12) * FO_NAME(fo_sgd_wload)(x + j + 12);
    }
    for (; j + 4 <= n; j += 4)
        a0 += FO_NAME(fo_sgd_wload)(w + j) * FO_NAME(fo_sgd_wload)(x + j);
    for (; j < n; j++) t += (double)w[j] * (double)x[j];
    return fo_sgd_hsum((a0 + a1) + (a2 + a3)) + t;
}

/* w[0:4] += c x[0:4]; add the new values' squares and absolute values to s2,
 * s1 and, when xn is not NULL, their products with xn[0:4] to *dot. */
FO_SGD_INLINE void FO_NAME(fo_sgd_axpy4)(const FO_REAL *FO_RESTRICT x, FO_REAL *FO_RESTRICT w,
                                         FO_NAME(fo_sgd_vr) c, int track, fo_sgd_v4d *s2,
                                         fo_sgd_v4d *s1, const FO_REAL *FO_RESTRICT xn,
                                         fo_sgd_v4d *dot)
{
    FO_NAME(fo_sgd_vr) v = FO_NAME(fo_sgd_load)(w) + FO_NAME(fo_sgd_load)(x) * c;
    memcpy(w, &v, sizeof v);
    if (xn != NULL) *dot += FO_NAME(fo_sgd_widen)(v) * FO_NAME(fo_sgd_wload)(xn);
    if (track) {
        fo_sgd_v4d d = FO_NAME(fo_sgd_widen)(v);
        *s2 += d * d;
        if (track & FO_SGD_TRACK_L1) *s1 += fo_sgd_vabs(d);
    }
}

/* w += c x, fused with the dot product of the updated w with the next row xn
 * (when not NULL): one pass over w per sample instead of two. The dot
 * product's partial sums and reduction tree are fo_sgd_dense_dot's, so the
 * result is the same as calling it after the update. */
FO_SGD_INLINE double FO_NAME(fo_sgd_dense_axpy)(const FO_REAL *FO_RESTRICT x, ptrdiff_t n,
                                                FO_REAL *FO_RESTRICT w, FO_REAL c, int track,
                                                double *sq, double *l1,
                                                const FO_REAL *FO_RESTRICT xn)
{
    const FO_NAME(fo_sgd_vr) cv = {c, c, c, c};
    fo_sgd_v4d q0 = {0.0}, q1 = {0.0}, q2 = {0.0}, q3 = {0.0};
    fo_sgd_v4d b0 = {0.0}, b1 = {0.0}, b2 = {0.0}, b3 = {0.0};
    fo_sgd_v4d a0 = {0.0}, a1 = {0.0}, a2 = {0.0}, a3 = {0.0};
    double t2 = 0.0, t1 = 0.0, t = 0.0;
    ptrdiff_t j = 0;
    for (; j + 16 <= n; j += 16) {
        FO_NAME(fo_sgd_axpy4)(x + j, w + j, cv, track, &q0, &b0, xn ? xn + j : NULL, &a0);
        FO_NAME(fo_sgd_axpy4)(x + j + 4, w + j + 4, cv, track, &q1, &b1,
                              xn ? xn + j + 4 : NULL, &a1);
        FO_NAME(fo_sgd_axpy4)(x + j + 8, w + j + 8, cv, track, &q2, &b2,
                              xn ? xn + j + 8 : NULL, &a2);
        FO_NAME(fo_sgd_axpy4)(x + j + 12, w + j + 12, cv, track, &q3, &b3,
                              xn ? xn + j + 12 : NULL, &a3);
    }
    for (; j + 4 <= n; j += 4)
        FO_NAME(fo_sgd_axpy4)(x + j, w + j, cv, track, &q0, &b0, xn ? xn + j : NULL, &a0);
    for (; j < n; j++) {
        FO_REAL v = w[j] + x[j] * c;
        w[j] = v;
        t2 += (double)v * (double)v;
        t1 += fabs((double)v);
        if (xn != NULL) t += (double)v * (double)xn[j];
    }
    *sq = fo_sgd_hsum((q0 + q1) + (q2 + q3)) + t2;
    *l1 = fo_sgd_hsum((b0 + b1) + (b2 + b3)) + t1;
    return fo_sgd_hsum((a0 + a1) + (a2 + a3)) + t;
}
#endif

/* <w, x>; CSR rows read w[ind[j] * fs] (fo_sgd_config.feature_stride). */
FO_SGD_INLINE double FO_NAME(fo_sgd_dot)(const FO_REAL *FO_RESTRICT x, const int *ind,
                                         ptrdiff_t nnz, const FO_REAL *FO_RESTRICT w,
                                         ptrdiff_t fs)
{
    double s = 0.0, acc[FO_SGD_LANES] = {0.0};
    ptrdiff_t j = 0, k;
#if FO_SGD_VECTORS
    if (ind == NULL) return FO_NAME(fo_sgd_dense_dot)(x, nnz, w);
#endif
    if (ind == NULL) {
        for (; j + FO_SGD_LANES <= nnz; j += FO_SGD_LANES)
            for (k = 0; k < FO_SGD_LANES; k++) acc[k] += (double)w[j + k] * (double)x[j + k];
        for (k = 0; k < FO_SGD_LANES; k++) s += acc[k];
        for (; j < nnz; j++) s += (double)w[j] * (double)x[j];
    } else {
        for (; j < nnz; j++) s += (double)w[ind[j] * fs] * (double)x[j];
    }
    return s;
}

FO_SGD_INLINE double FO_NAME(fo_sgd_sqnorm)(const FO_REAL *x, ptrdiff_t nnz)
{
    double s = 0.0;
    ptrdiff_t j;
#pragma omp simd reduction(+:s)
    for (j = 0; j < nnz; j++) s += (double)x[j] * (double)x[j];
    return s;
}

/* w += c x (c already divided by wscale; CSR rows update w[ind[j] * fs]);
 * when `track` (FO_SGD_TRACK_* bits),
 * return the squared and absolute sums of the touched entries of w
 * (scikit-learn's norm bookkeeping; dense rows skip the absolute sum unless
 * FO_SGD_TRACK_L1 asks for it: an L2 objective does not use it).
 * Without vector extensions, the dense dot product uses FO_SGD_LANES
 * independent partial sums added in a fixed order and the norm sums of the
 * axpy run four interleaved `omp simd` reductions, so that neither is bound
 * by the add latency.
 * Dense rows with vector extensions also return <w, xn> after the update
 * (fo_sgd_dense_axpy; FO_SGD_FUSED_DOT says when); otherwise 0. */
FO_SGD_INLINE double FO_NAME(fo_sgd_axpy)(const FO_REAL *FO_RESTRICT x, const int *ind,
                                          ptrdiff_t nnz, FO_REAL *FO_RESTRICT w,
                                          ptrdiff_t fs, FO_REAL c, int track, double *sq,
                                          double *l1, const FO_REAL *FO_RESTRICT xn)
{
    double s2 = 0.0, s1 = 0.0;
    ptrdiff_t j;
#if FO_SGD_VECTORS
    if (ind == NULL) return FO_NAME(fo_sgd_dense_axpy)(x, nnz, w, c, track, sq, l1, xn);
#else
    (void)xn;
#endif
    if (ind == NULL) {
        if (track) {
            /* four interleaved quarters: four independent reduction chains */
            const ptrdiff_t q = nnz / 4;
            double s2b = 0.0, s2c = 0.0, s2d = 0.0, s1b = 0.0, s1c = 0.0, s1d = 0.0;
#pragma omp simd reduction(+:s2, s2b, s2c, s2d, s1, s1b, s1c, s1d)
            for (j = 0; j < q; j++) {
                FO_REAL va = w[j] + x[j] * c, vb = w[j + q] + x[j + q] * c;
                FO_REAL vc = w[j + 2 * q] + x[j + 2 * q] * c;
                FO_REAL vd = w[j + 3 * q] + x[j + 3 * q] * c;
                w[j] = va;
                w[j + q] = vb;
                w[j + 2 * q] = vc;
                w[j + 3 * q] = vd;
                s2 += (double)va * (double)va;
                s2b += (double)vb * (double)vb;
                s2c += (double)vc * (double)vc;
                s2d += (double)vd * (double)vd;
                s1 += fabs((double)va);
                s1b += fabs((double)vb);
                s1c += fabs((double)vc);
                s1d += fabs((double)vd);
            }
            for (j = 4 * q; j < nnz; j++) {
                FO_REAL v = w[j] + x[j] * c;
                w[j] = v;
                s2 += (double)v * (double)v;
                s1 += fabs((double)v);
            }
            s2 = (s2 + s2b) + (s2c + s2d);
            s1 = (s1 + s1b) + (s1c + s1d);
        } else {
#pragma omp simd
            for (j = 0; j < nnz; j++) w[j] += x[j] * c;
        }
    } else {
        for (j = 0; j < nnz; j++) {
            FO_REAL v = w[ind[j] * fs] + x[j] * c;
            w[ind[j] * fs] = v;
            s2 += (double)v * (double)v;
            s1 += fabs((double)v);
        }
    }
    *sq = s2;
    *l1 = s1;
    return 0.0;
}

/* A problem's scale factors as the arrays' type: w's (f[0]) and, for the
 * averaged coefficients, a and 1 / b (f[1], f[2]). */
FO_SGD_INLINE void FO_NAME(fo_sgd_scales)(const fo_sgd_state *st, FO_REAL *f)
{
    f[0] = (FO_REAL)st->wscale;
    f[1] = (FO_REAL)st->average_a;
    f[2] = (FO_REAL)(1.0 / st->average_b);
}

/* The scale factors f (fo_sgd_scales) folded into a coefficient w and its
 * average aw (NULL: none), written to ow and oaw (which may be w and aw). */
FO_SGD_INLINE void FO_NAME(fo_sgd_fold)(const FO_REAL *w, const FO_REAL *aw, const FO_REAL *f,
                                        FO_REAL *ow, FO_REAL *oaw)
{
    const FO_REAL v = *w;
    if (aw != NULL) *oaw = (*aw + f[1] * v) * f[2];
    *ow = v * f[0];
}

/* The state after its scale factors were folded into the arrays. */
FO_SGD_INLINE void FO_NAME(fo_sgd_folded)(fo_sgd_state *st, int averaged)
{
    if (averaged) {
        st->average_a = 0.0;
        st->average_b = 1.0;
    }
    st->wscale = 1.0;
}

/* Fold wscale (and the averaging scalars) into the arrays. */
FO_SGD_INLINE void FO_NAME(fo_sgd_reset_wscale)(const fo_sgd_config *cfg, fo_sgd_state *st,
                                         FO_REAL *FO_RESTRICT w, FO_REAL *FO_RESTRICT aw)
{
    const ptrdiff_t fs = cfg->feature_stride, n = cfg->n_features * fs;
    FO_REAL f[3];
    ptrdiff_t j;
    FO_NAME(fo_sgd_scales)(st, f);
    for (j = 0; j < n; j += fs)
        FO_NAME(fo_sgd_fold)(w + j, aw == NULL ? NULL : aw + j, f, w + j,
                             aw == NULL ? NULL : aw + j);
    FO_NAME(fo_sgd_folded)(st, aw != NULL);
}

/* Whether w[0:n] are all finite: x - x is 0 for a finite x and NaN for an
 * infinite or NaN one, and the comparisons OR into one flag without a branch
 * per value, which the compiler vectorises (a check after every epoch reads
 * all the coefficients: the one-vs-rest text fit has megabytes of them). */
FO_MULTIVERSION
static int FO_NAME(fo_sgd_all_finite)(const FO_REAL *w, ptrdiff_t n)
{
    int bad = 0;
    ptrdiff_t j;
    for (j = 0; j < n; j++) bad |= (w[j] - w[j]) != 0;
    return !bad;
}

/* The coefficients of problems 0..n_probs-1 (and their averages) with their
 * scale factors folded in. Problem-major arrays (feature_stride 1) are folded
 * in place and the states reset. Feature-major ones are read feature by
 * feature, eight problems at a time (their factors on the stack), and the
 * folded values written into the problem-major (n_probs, n_features) arrays
 * out_w and out_aw, leaving the engine's arrays and states as they were: one
 * pass where folding in place and then copying out took two. */
static void FO_NAME(fo_sgd_store)(const fo_sgd_config *cfg, fo_sgd_state *st,
                                  ptrdiff_t n_probs, FO_REAL *w, FO_REAL *aw,
                                  FO_REAL *out_w, FO_REAL *out_aw)
{
    const ptrdiff_t fs = cfg->feature_stride, d = cfg->n_features;
    FO_REAL f[3 * 8];
    ptrdiff_t j, k, k0, m;
    if (fs == 1) {
        for (k = 0; k < n_probs; k++)
            FO_NAME(fo_sgd_reset_wscale)(cfg, &st[k], w + k * cfg->problem_stride,
                                         aw == NULL ? NULL : aw + k * cfg->problem_stride);
        return;
    }
    for (k0 = 0; k0 < n_probs; k0 += 8) {
        m = n_probs - k0 < 8 ? n_probs - k0 : 8;
        for (k = 0; k < m; k++) FO_NAME(fo_sgd_scales)(&st[k0 + k], f + 3 * k);
        for (j = 0; j < d; j++)
            for (k = 0; k < m; k++) {
                const ptrdiff_t src = j * fs + k0 + k, dst = (k0 + k) * d + j;
                FO_NAME(fo_sgd_fold)(w + src, aw == NULL ? NULL : aw + src, f + 3 * k,
                                     out_w + dst, out_aw == NULL ? NULL : out_aw + dst);
            }
    }
}

/* Truncated-gradient L1 step on the features of the current row. */
FO_SGD_INLINE void FO_NAME(fo_sgd_l1)(const int *ind, ptrdiff_t nnz, FO_REAL *FO_RESTRICT w,
                                      ptrdiff_t fs, FO_REAL *FO_RESTRICT q, double u,
                                      double wscale)
{
    ptrdiff_t j;
    for (j = 0; j < nnz; j++) {
        ptrdiff_t k = ind == NULL ? j : ind[j] * fs;
        double z = w[k];
        double v = z;
        if (wscale * z > 0.0) {
            v = z - (u + q[k]) / wscale;
            v = v > 0.0 ? v : 0.0;
        } else if (wscale * z < 0.0) {
            v = z + (u - q[k]) / wscale;
            v = v < 0.0 ? v : 0.0;
        }
        w[k] = (FO_REAL)v;
        q[k] += (FO_REAL)(wscale * ((double)w[k] - z));
    }
}

/* The scalar part of one sample's step, before its row update: adds the
 * sample's loss + penalty to st->objective and its loss to st->loss_sum
 * (cfg->track_objective), returns the update (-eta * dloss, or the
 * passive-aggressive step, times the class and sample weights) and applies
 * the L2 shrinkage to st->wscale (folding it into w and aw when tiny). *eta
 * is the sample's rate; *skip is set for a passive-aggressive sample with
 * x = 0, which scikit-learn skips without counting it. */
FO_SGD_INLINE double FO_NAME(fo_sgd_update)(const fo_sgd_config *cfg, fo_sgd_state *st,
                                            const FO_REAL *x, ptrdiff_t nnz, double p,
                                            double yi, double swi, FO_REAL *FO_RESTRICT w,
                                            FO_REAL *FO_RESTRICT aw, double *eta, int *skip)
{
    const double alpha = cfg->alpha, l1_ratio = cfg->l1_ratio, param = cfg->loss_param;
    const int lr = cfg->learning_rate, loss = cfg->loss;
    double update;

    *eta = fo_sgd_eta(cfg, st);
    *skip = 0;
    if (cfg->track_objective) {
        const double sample_loss = fo_sgd_loss(loss, param, yi, p);
        st->loss_sum += sample_loss;
        st->objective += sample_loss;
        if (cfg->penalty != FO_PENALTY_NONE && lr < FO_LR_PA1)
            st->objective += alpha * ((1.0 - l1_ratio) * 0.5 * st->sq_norm
                                      + l1_ratio * st->l1_norm);
    }
    if (lr >= FO_LR_PA1) {
        double xsq = FO_NAME(fo_sgd_sqnorm)(x, nnz);
        if (lr == FO_LR_PA1) {
            if (xsq == 0.0) {
                *skip = 1;
                return 0.0;
            }
            update = fo_sgd_loss(loss, param, yi, p) / xsq;
            update = update < cfg->eta0 ? update : cfg->eta0;
        } else {
            update = fo_sgd_loss(loss, param, yi, p) / (xsq + 0.5 / cfg->eta0);
        }
        if (loss == FO_LOSS_HINGE) update *= yi;
        else if (yi - p < 0.0) update = -update;
    } else {
        double d = fo_sgd_dloss(loss, param, yi, p);
        d = d < -FO_SGD_MAX_DLOSS ? -FO_SGD_MAX_DLOSS : d;
        d = d > FO_SGD_MAX_DLOSS ? FO_SGD_MAX_DLOSS : d;
        update = -*eta * d;
    }
    {
        /* the class weight by indexing, not by a branch on the label, which
         * the branch predictor misses on about every other shuffled sample */
        const double class_weight[2] = {st->weight_neg, st->weight_pos};
        update *= class_weight[yi > 0.0] * swi;
    }
    if (cfg->penalty >= FO_PENALTY_L2) {
        double c = 1.0 - (1.0 - l1_ratio) * *eta * alpha;
        c = c > 0.0 ? c : 0.0;
        st->wscale *= c;
        st->sq_norm *= c * c;
        st->l1_norm *= c;
        if (st->wscale < cfg->wscale_min)
            FO_NAME(fo_sgd_reset_wscale)(cfg, st, w, aw);
    }
    return update;
}

/* After the row update of a sample with a non-zero update: scikit-learn's
 * norm bookkeeping (sq, l1: the sums over the touched entries of w) and the
 * intercept. */
FO_SGD_INLINE void FO_NAME(fo_sgd_updated)(const fo_sgd_config *cfg, fo_sgd_state *st,
                                           int track_norms, double update, double sq,
                                           double l1)
{
    if (track_norms) {
        st->sq_norm = sq * st->wscale * st->wscale;
        if (track_norms & FO_SGD_TRACK_L1) st->l1_norm = l1 * st->wscale;
    }
    if (cfg->fit_intercept) st->intercept += update * cfg->intercept_decay;
}

/* One sample of one problem (scikit-learn's per-sample update).
 * `dot` is <w, x> (the stored w, without wscale). Returns <w, xn> after the
 * update -- the next sample's `dot` -- or 0 when xn is NULL: on dense rows
 * the axpy computes it in the same pass over w (FO_SGD_FUSED_DOT). */
FO_SGD_INLINE double FO_NAME(fo_sgd_step)(const fo_sgd_config *cfg, fo_sgd_state *st,
                                          const FO_REAL *x, const int *ind, ptrdiff_t nnz,
                                          double dot, const FO_REAL *xn, const int *indn,
                                          ptrdiff_t nnzn, double yi, double swi,
                                          FO_REAL *FO_RESTRICT w, FO_REAL *FO_RESTRICT aw,
                                          FO_REAL *FO_RESTRICT q)
{
    const double alpha = cfg->alpha, l1_ratio = cfg->l1_ratio;
    const int track_norms = fo_sgd_track_norms(cfg);
    const ptrdiff_t fs = cfg->feature_stride;
    /* the L1 step changes w after the axpy: the next dot product comes after it */
    const FO_REAL *fuse = FO_SGD_FUSED_DOT(ind) && q == NULL ? xn : NULL;
    double eta, update, next = 0.0;
    int have_next = 0, skip;

    update = FO_NAME(fo_sgd_update)(cfg, st, x, nnz, dot * st->wscale + st->intercept, yi, swi,
                                    w, aw, &eta, &skip);
    if (skip) goto done;
    if (update != 0.0) {
        double sq, a1;
        next = FO_NAME(fo_sgd_axpy)(x, ind, nnz, w, fs, (FO_REAL)(update / st->wscale),
                                    track_norms, &sq, &a1, fuse);
        have_next = fuse != NULL;
        FO_NAME(fo_sgd_updated)(cfg, st, track_norms, update, sq, a1);
    }
    if (cfg->average > 0.0 && cfg->average <= st->t) {
        const double n_avg = st->t - cfg->average + 1.0;
        const double mu = 1.0 / n_avg;
        if (update != 0.0) {
            const FO_REAL c = (FO_REAL)(-st->average_a * update / st->wscale);
            ptrdiff_t j;
            if (ind == NULL) {
#pragma omp simd
                for (j = 0; j < nnz; j++) aw[j] += x[j] * c;
            } else {
                for (j = 0; j < nnz; j++) aw[ind[j] * fs] += x[j] * c;
            }
        }
        if (n_avg > 1.0) st->average_b /= (1.0 - mu);
        st->average_a += mu * st->average_b * st->wscale;
        st->average_intercept += (st->intercept - st->average_intercept) * mu;
    }
    if (cfg->penalty == FO_PENALTY_L1 || cfg->penalty == FO_PENALTY_ELASTICNET) {
        st->u += l1_ratio * eta * alpha;
        FO_NAME(fo_sgd_l1)(ind, nnz, w, fs, q, st->u, st->wscale);
    }
    st->t += 1.0;
done:
    if (xn != NULL && !have_next) next = FO_NAME(fo_sgd_dot)(xn, indn, nnzn, w, fs);
    return next;
}

/* Row i: its values, its column indices (NULL: dense) and their number. */
FO_SGD_INLINE const FO_REAL *FO_NAME(fo_sgd_row)(const FO_REAL *data, const int *indices,
                                                 const int *indptr, ptrdiff_t d, ptrdiff_t i,
                                                 const int **ind, ptrdiff_t *nnz)
{
    if (indices == NULL) {
        *ind = NULL;
        *nnz = d;
        return data + i * d;
    }
    *ind = indices + indptr[i];
    *nnz = indptr[i + 1] - indptr[i];
    return data + indptr[i];
}

/* Prefetch what the step of sample ia reads: its row, targets and weight. */
FO_SGD_INLINE void FO_NAME(fo_sgd_prefetch_ahead)(const FO_REAL *data, const int *indices,
                                                  const int *indptr, ptrdiff_t d,
                                                  ptrdiff_t n_targets, const FO_REAL *y,
                                                  const FO_REAL *sw, ptrdiff_t ia)
{
    if (sw != NULL) FO_PREFETCH(sw + ia);
    fo_sgd_prefetch((const char *)(y + ia * n_targets), n_targets * sizeof(FO_REAL));
    fo_sgd_prefetch_row((const char *)data, indices, indptr, d, sizeof(FO_REAL), ia);
}

/* The loop of fo_sgd_epoch over the states st[0:n_probs] of the problems
 * probs[0:n_probs]; dots[a] carries problem a's dot product with the current
 * row from one step to the next. Always inlined: fo_sgd_epoch calls it with
 * n_probs == 1 on a state in local variables (so that the compiler keeps it
 * in registers and drops the loop over problems) and for groups. */
FO_SGD_INLINE void FO_NAME(fo_sgd_run)(const fo_sgd_config *cfg, fo_sgd_state *st,
                                       double *dots, const ptrdiff_t *probs, ptrdiff_t n_probs,
                                       const fo_sgd_samples *smp, FO_REAL *w, FO_REAL *aw,
                                       FO_REAL *q)
{
    FO_SGD_SAMPLE_LOCALS(smp)
    const ptrdiff_t d = cfg->n_features, ps = cfg->problem_stride;
    const int *ind, *indn = NULL;
    ptrdiff_t s, a, nnz, nnzn = 0;
    const FO_REAL *x, *xn = NULL;

    if (n_order == 0) return;
    x = FO_NAME(fo_sgd_row)(data, indices, indptr, d, order[0], &ind, &nnz);
    for (a = 0; a < n_probs; a++)
        dots[a] = FO_NAME(fo_sgd_dot)(x, ind, nnz, w + probs[a] * ps, cfg->feature_stride);
    for (s = 0; s < n_order; s++) {
        const ptrdiff_t i = order[s];
        if (s + 1 < n_order)
            xn = FO_NAME(fo_sgd_row)(data, indices, indptr, d, order[s + 1], &indn, &nnzn);
        else
            xn = NULL;
        if (s + FO_SGD_AHEAD < n_order)
            FO_NAME(fo_sgd_prefetch_ahead)(data, indices, indptr, d, n_targets, y, sw,
                                           order[s + FO_SGD_AHEAD]);
        for (a = 0; a < n_probs; a++) {
            const ptrdiff_t k = probs[a];
            dots[a] = FO_NAME(fo_sgd_step)(cfg, &st[a], x, ind, nnz, dots[a], xn, indn, nnzn,
                                           y[i * n_targets + k], sw == NULL ? 1.0 : sw[i],
                                           w + k * ps, aw == NULL ? NULL : aw + k * ps,
                                           q == NULL ? NULL : q + k * ps);
        }
        x = xn;
        ind = indn;
        nnz = nnzn;
    }
}

/* Feature-major CSR groups: the problems probs[a:a+m] form a block when they
 * are m consecutive problems, whose coefficients of a feature are then m
 * adjacent values. A block of 4 to 7 is a quad stepped in the lanes of a
 * 4-lane vector (FO_SGD_VECTORS) plus a tail of m - 4 stepped with scalars
 * in the same pass over the row; a block of 1 to 3 is a tail alone. Runs of
 * 8 or more are cut into quads, so every tail but the last is empty. */
FO_SGD_INLINE ptrdiff_t FO_NAME(fo_sgd_block)(const ptrdiff_t *probs, ptrdiff_t n_probs,
                                              ptrdiff_t a)
{
    const ptrdiff_t most = FO_SGD_VECTORS ? 7 : 3;
    ptrdiff_t m = 1;
    while (a + m < n_probs && m < 8 && probs[a + m] - probs[a] == m) m++;
    if (FO_SGD_VECTORS && m == 8) return 4;
    return m < most ? m : most;
}

/* The dot products of the CSR row (x, ind) with the coefficients of a block
 * (quad: 1 when its first four problems are a quad, tail: the number of
 * scalar problems after them), w[ind[j] * fs + 0..4 * quad + tail - 1], each
 * summed over the row in index order with fo_sgd_dot's arithmetic. Always
 * inlined with constant quad and tail (fo_sgd_dot_block). */
FO_SGD_INLINE void FO_NAME(fo_sgd_dot_block_k)(const FO_REAL *FO_RESTRICT x, const int *ind,
                                               ptrdiff_t nnz, const FO_REAL *FO_RESTRICT w,
                                               ptrdiff_t fs, double *dots, const int quad,
                                               const int tail)
{
    double t[3] = {0.0, 0.0, 0.0};
    const ptrdiff_t o = quad ? 4 : 0;
    ptrdiff_t j;
    int b;
#if FO_SGD_VECTORS
    fo_sgd_v4d acc = {0.0, 0.0, 0.0, 0.0};
#endif
    for (j = 0; j < nnz; j++) {
        const double xj = (double)x[j];
        const FO_REAL *base = w + ind[j] * fs;
#if FO_SGD_VECTORS
        if (quad) acc += FO_NAME(fo_sgd_wload)(base) * xj;
#endif
        for (b = 0; b < tail; b++) t[b] += (double)base[o + b] * xj;
    }
#if FO_SGD_VECTORS
    if (quad) memcpy(dots, &acc, sizeof acc);
#endif
    for (b = 0; b < tail; b++) dots[o + b] = t[b];
}

/* The axpy of the CSR row into a block's coefficients, problem b with its
 * own factor c[b] (fo_sgd_axpy's arithmetic: a zero factor adds x * 0, which
 * leaves w as it is), and each problem's sum of the squares of its new
 * values into sq[b] (no absolute sums: blocks serve objectives without an L1
 * term). */
FO_SGD_INLINE void FO_NAME(fo_sgd_axpy_block_k)(const FO_REAL *FO_RESTRICT x, const int *ind,
                                                ptrdiff_t nnz, FO_REAL *FO_RESTRICT w,
                                                ptrdiff_t fs, const FO_REAL *c, double *sq,
                                                const int quad, const int tail)
{
    double t[3] = {0.0, 0.0, 0.0};
    const ptrdiff_t o = quad ? 4 : 0;
    ptrdiff_t j;
    int b;
#if FO_SGD_VECTORS
    const FO_NAME(fo_sgd_vr) cv = FO_NAME(fo_sgd_load)(c);
    fo_sgd_v4d s2 = {0.0, 0.0, 0.0, 0.0};
#endif
    for (j = 0; j < nnz; j++) {
        FO_REAL *base = w + ind[j] * fs;
#if FO_SGD_VECTORS
        if (quad) {
            const FO_NAME(fo_sgd_vr) v = FO_NAME(fo_sgd_load)(base) + x[j] * cv;
            const fo_sgd_v4d vd = FO_NAME(fo_sgd_widen)(v);
            memcpy(base, &v, sizeof v);
            s2 += vd * vd;
        }
#endif
        for (b = 0; b < tail; b++) {
            const FO_REAL v = base[o + b] + x[j] * c[o + b];
            base[o + b] = v;
            t[b] += (double)v * (double)v;
        }
    }
#if FO_SGD_VECTORS
    if (quad) memcpy(sq, &s2, sizeof s2);
#endif
    for (b = 0; b < tail; b++) sq[o + b] = t[b];
}

#ifndef FO_SGD_BLOCK_CASES
/* kernel(args..., quad, tail) for a block of m problems, with the quad and
 * the tail as constants in each case so that the compiler unrolls the tail. */
#define FO_SGD_BLOCK_CASES(m, kernel, ...)                               \
    switch (m) {                                                        \
    case 1: kernel(__VA_ARGS__, 0, 1); break;                           \
    case 2: kernel(__VA_ARGS__, 0, 2); break;                           \
    case 3: kernel(__VA_ARGS__, 0, 3); break;                           \
    case 4: kernel(__VA_ARGS__, 1, 0); break;                           \
    case 5: kernel(__VA_ARGS__, 1, 1); break;                           \
    case 6: kernel(__VA_ARGS__, 1, 2); break;                           \
    case 7: kernel(__VA_ARGS__, 1, 3); break;                           \
    default: abort();                                                   \
    }
#endif

FO_SGD_INLINE void FO_NAME(fo_sgd_dot_block)(const FO_REAL *FO_RESTRICT x, const int *ind,
                                             ptrdiff_t nnz, const FO_REAL *FO_RESTRICT w,
                                             ptrdiff_t fs, ptrdiff_t m, double *dots)
{
    FO_SGD_BLOCK_CASES(m, FO_NAME(fo_sgd_dot_block_k), x, ind, nnz, w, fs, dots)
}

FO_SGD_INLINE void FO_NAME(fo_sgd_axpy_block)(const FO_REAL *FO_RESTRICT x, const int *ind,
                                              ptrdiff_t nnz, FO_REAL *FO_RESTRICT w,
                                              ptrdiff_t fs, ptrdiff_t m, const FO_REAL *c,
                                              double *sq)
{
    FO_SGD_BLOCK_CASES(m, FO_NAME(fo_sgd_axpy_block_k), x, ind, nnz, w, fs, c, sq)
}

/* dots[a] = <x, w of problem probs[a]> for all the problems of the group. */
FO_SGD_INLINE void FO_NAME(fo_sgd_lane_dots)(const FO_REAL *FO_RESTRICT x, const int *ind,
                                             ptrdiff_t nnz, const FO_REAL *FO_RESTRICT w,
                                             ptrdiff_t fs, const ptrdiff_t *probs,
                                             ptrdiff_t n_probs, double *dots)
{
    ptrdiff_t a, m;
    for (a = 0; a < n_probs; a += m) {
        m = FO_NAME(fo_sgd_block)(probs, n_probs, a);
        FO_NAME(fo_sgd_dot_block)(x, ind, nnz, w + probs[a], fs, m, dots + a);
    }
}

/* fo_sgd_run for a feature-major w and CSR rows, without averaging or an L1
 * term (fo_sgd_epoch decides): the problems step together on each row, a
 * block of up to seven consecutive problems at a time (fo_sgd_block), so a
 * row's indices and values are read once per block and the block's
 * coefficients of a feature come in one or two cache lines. Each problem's arithmetic is
 * fo_sgd_step's, in the same order (a zero update adds x * 0, which leaves
 * w as it is), so the results are the same. `scratch` holds 3 * n_probs
 * doubles and n_probs FO_REALs. */
FO_SGD_INLINE void FO_NAME(fo_sgd_run_lanes)(const fo_sgd_config *cfg, fo_sgd_state *st,
                                             double *scratch, const ptrdiff_t *probs,
                                             ptrdiff_t n_probs, const fo_sgd_samples *smp,
                                             FO_REAL *w)
{
    FO_SGD_SAMPLE_LOCALS(smp)
    const ptrdiff_t d = cfg->n_features, fs = cfg->feature_stride;
    const int track_norms = fo_sgd_track_norms(cfg);
    double *dots = scratch, *upd = scratch + n_probs, *s2 = scratch + 2 * n_probs;
    FO_REAL *cv = (FO_REAL *)(scratch + 3 * n_probs);
    const int *ind;
    ptrdiff_t s, a, m, nnz;
    const FO_REAL *x;

    if (n_order == 0) return;
    x = FO_NAME(fo_sgd_row)(data, indices, indptr, d, order[0], &ind, &nnz);
    FO_NAME(fo_sgd_lane_dots)(x, ind, nnz, w, fs, probs, n_probs, dots);
    for (s = 0; s < n_order; s++) {
        const ptrdiff_t i = order[s];
        const double swi = sw == NULL ? 1.0 : sw[i];
        int skip = 0;
        if (s + FO_SGD_AHEAD < n_order)
            FO_NAME(fo_sgd_prefetch_ahead)(data, indices, indptr, d, n_targets, y, sw,
                                           order[s + FO_SGD_AHEAD]);
        for (a = 0; a < n_probs; a++) {
            const ptrdiff_t k = probs[a];
            double eta;
            upd[a] = FO_NAME(fo_sgd_update)(cfg, &st[a], x, nnz,
                                            dots[a] * st[a].wscale + st[a].intercept,
                                            y[i * n_targets + k], swi, w + k, NULL, &eta,
                                            &skip);
            cv[a] = (FO_REAL)(upd[a] / st[a].wscale);
        }
        for (a = 0; a < n_probs; a += m) {
            m = FO_NAME(fo_sgd_block)(probs, n_probs, a);
            FO_NAME(fo_sgd_axpy_block)(x, ind, nnz, w + probs[a], fs, m, cv + a, s2 + a);
        }
        for (a = 0; a < n_probs; a++) {
            if (upd[a] != 0.0)
                FO_NAME(fo_sgd_updated)(cfg, &st[a], track_norms, upd[a], s2[a], 0.0);
            if (!skip) st[a].t += 1.0;
        }
        if (s + 1 < n_order) {
            x = FO_NAME(fo_sgd_row)(data, indices, indptr, d, order[s + 1], &ind, &nnz);
            FO_NAME(fo_sgd_lane_dots)(x, ind, nnz, w, fs, probs, n_probs, dots);
        }
    }
}

/* Steps over the samples smp->order[0:n_order] (fo_sgd_samples) for the
 * problems probs[0:n_probs] (indices into states, into the columns of y and
 * the rows of w, aw, q). The problems share the sample order, so each row is
 * fetched once for all of them (one-vs-rest classes cost memory traffic
 * once, not once per class). When cfg->track_objective, problem
 * k's loss + penalty is added to states[k].objective (the loss alone to
 * states[k].loss_sum), which the caller zeroes
 * at the start of an epoch: an epoch may be run as consecutive slices of its
 * order (so that a long epoch can be interrupted between slices). */
FO_MULTIVERSION
static void FO_NAME(fo_sgd_epoch)(const fo_sgd_config *cfg, fo_sgd_state *states,
                                  const ptrdiff_t *probs, ptrdiff_t n_probs,
                                  const fo_sgd_samples *smp, FO_REAL *w, FO_REAL *aw,
                                  FO_REAL *q)
{
    /* A group works on a private copy of its states: neighbouring states are
     * updated by other threads every sample and would share cache lines.
     * Without memory for the copy and the scratch, the problems run one after
     * the other (same result: they are independent; each row is fetched once
     * per problem). */
    const int lanes = smp->indices != NULL && cfg->feature_stride > 1 && aw == NULL && q == NULL
                      && !(fo_sgd_track_norms(cfg) & FO_SGD_TRACK_L1);
    fo_sgd_state *local = NULL;
    ptrdiff_t a;

    if (n_probs > 1)
        local = (fo_sgd_state *)malloc((size_t)n_probs * (sizeof(fo_sgd_state)
                                                          + 4 * sizeof(double)));
    if (local != NULL) {
        double *scratch = (double *)(local + n_probs);
        for (a = 0; a < n_probs; a++) local[a] = states[probs[a]];
        if (lanes)
            FO_NAME(fo_sgd_run_lanes)(cfg, local, scratch, probs, n_probs, smp, w);
        else
            FO_NAME(fo_sgd_run)(cfg, local, scratch, probs, n_probs, smp, w, aw, q);
        for (a = 0; a < n_probs; a++) states[probs[a]] = local[a];
        free(local);
        return;
    }
    for (a = 0; a < n_probs; a++) {
        fo_sgd_state one = states[probs[a]];
        double dot;
        FO_NAME(fo_sgd_run)(cfg, &one, &dot, probs + a, 1, smp, w, aw, q);
        states[probs[a]] = one;
    }
}
