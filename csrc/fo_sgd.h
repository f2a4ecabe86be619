/* fo_sgd.h -- scikit-learn's per-sample SGD for linear models, as one C epoch.
 *
 * The algorithm is the one of sklearn.linear_model.SGDClassifier/SGDRegressor
 * (Bottou's SGD with Shalev-Shwartz's wscale trick): per sample, the
 * prediction p = wscale * <w, x> + b, the loss derivative, L2 shrinkage as a
 * multiplication of the scalar wscale, an axpy of x into w, the intercept
 * update, optional averaging (ASGD, Xu 2011, with the a/b scalars so that the
 * average also costs O(nnz(x))) and the lazy cumulative L1 penalty of
 * Tsuruoka, Tsujii & Ananiadou (2009). The learning rates are sklearn's
 * 'constant', 'optimal', 'invscaling', 'adaptive', 'pa1' and 'pa2'.
 *
 * Why C and not Cython: the per-sample body is a handful of short loops over
 * one row; written here they inline into one function per dtype that GCC
 * compiles twice (AVX2+FMA and baseline, FO_MULTIVERSION). Dense rows use
 * GCC/Clang vector extensions (FO_SGD_VECTORS): four 4-lane double
 * accumulators for the dot product and the norm sums of the axpy, reduced by
 * a fixed tree, so they vectorise without -ffast-math, keep the per-sample
 * dependency chain short, and both clones round identically; other compilers
 * and CSR rows use plain loops. Shuffled epochs read rows in random order, so
 * rows a few samples ahead are prefetched (every cache line they touch).
 * The random row read and the arithmetic of a sample overlap only partly
 * (measurements: benchmarks/README.md, "What limits the dense per-sample
 * epoch").
 * Rows are either dense (indices == NULL: row i is data + i * n_features) or
 * CSR; the layout test is one predictable branch per sample.
 *
 * A "problem" (one binary one-vs-rest classifier or one regressor) owns a
 * fo_sgd_state; fo_sgd_epoch runs one pass over the given sample order for a
 * group of problems (each row fetched once for the group), so the caller can
 * run groups in parallel threads and keep the stopping rule, validation
 * scores and verbosity in Python-facing code between epochs.
 * Sparse rows touch scattered coefficients, a cache line each, so with
 * problem-major coefficients (K x d) a row costs K line fetches per pass.
 * CSR one-vs-rest therefore keeps them feature-major (d x K: a feature's K
 * coefficients adjacent) and steps the problems of a group together in
 * blocks of up to seven, four per vector and the rest in scalars of the same
 * pass (fo_sgd_run_lanes): one pass over the row's indices per block, one or
 * two line fetches for all of its problems. Same arithmetic per problem, so
 * the same results as stepping them one by one.
 * The losses (fo_losses.h) are evaluated in double, as scikit-learn does.
 */
#ifndef FO_SGD_H
#define FO_SGD_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "fo_config.h"
#include "fo_losses.h"
#include "fo_schedule.h"

/* The kinds of penalty and learning rate (the losses are in fo_losses.h):
 * SGDPenalty and SGDLearningRate in fastopt/linear_model/_sgd_fast.pyx, which
 * refuses any other value when an engine is built. */
typedef enum fo_sgd_penalty_kind {
    FO_PENALTY_NONE = 0, FO_PENALTY_L1 = 1, FO_PENALTY_L2 = 2, FO_PENALTY_ELASTICNET = 3
} fo_sgd_penalty_kind;

typedef enum fo_sgd_lr_kind {
    FO_LR_SOLVER = 0,  /* minibatch engine: the optimizer object's own rate and schedule */
    FO_LR_CONSTANT = 1, FO_LR_OPTIMAL = 2, FO_LR_INVSCALING = 3, FO_LR_ADAPTIVE = 4,
    FO_LR_PA1 = 5, FO_LR_PA2 = 6
} fo_sgd_lr_kind;

/* Settings shared by every problem of one fit. */
typedef struct {
    int loss;
    double loss_param;
    int penalty;
    double alpha;
    double l1_ratio;          /* already 0 for 'l2' and 1 for 'l1' */
    int learning_rate;
    double eta0;
    double power_t;
    double optimal_init;      /* t offset of the 'optimal' rate */
    int fit_intercept;
    double intercept_decay;   /* 1 dense, 0.01 sparse (as scikit-learn) */
    double average;           /* start averaging at this t; 0: no averaging */
    int track_objective;      /* accumulate loss + penalty (stopping rule, verbose) */
    ptrdiff_t n_features;
    double wscale_min;        /* fold wscale into w below this */
    /* Layout of the coefficients (and of the averaged and L1 arrays) of the
     * problems: problem k's coefficient j is w[k * problem_stride + j *
     * feature_stride]. Problem-major (K x d: n_features, 1) or, for CSR
     * rows only, feature-major (d x K: 1, K), where a feature's K
     * coefficients share a cache line and a group fetches each once. */
    ptrdiff_t problem_stride;
    ptrdiff_t feature_stride;
} fo_sgd_config;

/* The samples an epoch visits: the rows of X (dense when indices == NULL:
 * row i is data + i * n_features; CSR otherwise), the targets y
 * (n_samples x n_targets, row-major: a sample's targets share a cache line),
 * the sample weights sw (NULL: unit weights) and the order order[0:n_order].
 * data, y and sw are of the coefficients' precision. */
typedef struct {
    const void *data;
    const int *indices;
    const int *indptr;
    ptrdiff_t n_targets;
    const void *y;
    const void *sw;
    const ptrdiff_t *order;
    ptrdiff_t n_order;
} fo_sgd_samples;

/* State of one problem; carried from epoch to epoch. */
typedef struct {
    double t;                 /* sample counter of the learning rate */
    double eta;               /* current rate ('constant'/'adaptive') */
    double wscale;
    double sq_norm, l1_norm;  /* penalty bookkeeping of the objective */
    double u;                 /* cumulative L1 penalty */
    double average_a, average_b;
    double intercept, average_intercept;
    double weight_pos, weight_neg;
    double objective;         /* sum of loss + penalty over the last epoch */
    double loss_sum;          /* sum of the loss alone over the last epoch (verbose) */
} fo_sgd_state;

/* Norms of w tracked by the axpy for the objective. */
enum { FO_SGD_TRACK_SQ = 1, FO_SGD_TRACK_L1 = 2 };

/* Shuffled epochs visit rows in random order, so the hardware prefetcher
 * cannot follow: the row FO_SGD_AHEAD samples ahead (its first
 * FO_SGD_PREFETCH_BYTES) and its target/weight are prefetched explicitly,
 * into L2 (locality 2: the many lines in flight do not exhaust the L1 miss
 * buffers, measured ~10% faster than L1 prefetches on Zen 3).
 * FO_SGD_LANES is the number of partial sums of the dense dot product. */
#define FO_SGD_AHEAD 16
#define FO_SGD_LANES 16
#define FO_SGD_PREFETCH_BYTES 2048
#if defined(__GNUC__) || defined(__clang__)
#define FO_PREFETCH(p) __builtin_prefetch((const void *)(p), 0, 2)
/* Row kernels must be inlined into each clone of fo_sgd_epoch to get its ISA. */
#define FO_SGD_INLINE static inline __attribute__((always_inline))
#else
#define FO_PREFETCH(p) ((void)0)
#define FO_SGD_INLINE static inline
#endif

/* Prefetch every cache line that bytes [p, p + bytes) touch: rows are not
 * line-aligned in general (numpy aligns to 16 bytes), and a row's last,
 * partial line missed this way costs a full memory latency per sample. */
FO_SGD_INLINE void fo_sgd_prefetch(const char *p, size_t bytes)
{
    const char *line = (const char *)((uintptr_t)p & ~(uintptr_t)63);
    const char *end;
    if (bytes > FO_SGD_PREFETCH_BYTES) bytes = FO_SGD_PREFETCH_BYTES;
    end = p + bytes;
    for (; line < end; line += 64) FO_PREFETCH(line);
}

/* Prefetch row i: its values (dense: row i of `data`, d entries of `item`
 * bytes) and, for CSR (`indices` not NULL), its column indices. */
FO_SGD_INLINE void fo_sgd_prefetch_row(const char *data, const int *indices,
                                       const int *indptr, ptrdiff_t d, size_t item,
                                       ptrdiff_t i)
{
    if (indices == NULL) {
        fo_sgd_prefetch(data + i * d * item, d * item);
        return;
    }
    fo_sgd_prefetch(data + indptr[i] * item, (indptr[i + 1] - indptr[i]) * item);
    fo_sgd_prefetch((const char *)(indices + indptr[i]), (indptr[i + 1] - indptr[i]) * sizeof(int));
}

/* Prefetch what a minibatch step reads of sample i: its row, its n_y targets
 * (y + (k * y_stride + i) * item: the minibatch engine's targets are output
 * major) and its weight; and the row offsets of sample `i_ahead` (CSR;
 * negative: none), needed to prefetch that row later.
 * These helpers must be inlined into the loop that uses them (FO_SGD_INLINE):
 * GCC deems a function that only prefetches free of side effects and deletes
 * the calls to it. */
FO_SGD_INLINE void fo_sgd_prefetch_sample(const char *data, const int *indices,
                                          const int *indptr, ptrdiff_t d, size_t item,
                                          ptrdiff_t i, const char *y, ptrdiff_t n_y,
                                          ptrdiff_t y_stride, const char *sw,
                                          ptrdiff_t i_ahead)
{
    ptrdiff_t k;
    fo_sgd_prefetch_row(data, indices, indptr, d, item, i);
    if (indices != NULL && i_ahead >= 0) FO_PREFETCH(indptr + i_ahead);
    FO_PREFETCH(sw + i * item);
    for (k = 0; k < n_y; k++) FO_PREFETCH(y + (k * y_stride + i) * item);
}


/* Learning rate before the update at sample counter st->t. */
static inline double fo_sgd_eta(const fo_sgd_config *cfg, const fo_sgd_state *st)
{
    if (cfg->learning_rate == FO_LR_OPTIMAL)
        return fo_lr_optimal(1.0, cfg->alpha, cfg->optimal_init, st->t);
    if (cfg->learning_rate == FO_LR_INVSCALING)
        return fo_lr_invscaling(cfg->eta0, st->t, cfg->power_t);
    return st->eta;
}

/* The norms of w the axpy tracks for the objective (FO_SGD_TRACK_* bits):
 * scikit-learn keeps its norm bookkeeping without a penalty too (its verbose
 * output prints it), so they are tracked whenever the objective is. */
static inline int fo_sgd_track_norms(const fo_sgd_config *cfg)
{
    return cfg->track_objective
           ? FO_SGD_TRACK_SQ | (cfg->l1_ratio > 0.0 ? FO_SGD_TRACK_L1 : 0) : 0;
}

#if defined(__GNUC__) && ((!defined(__clang__) && __GNUC__ >= 9) || \
                          (defined(__clang__) && __clang_major__ >= 9))
#define FO_SGD_VECTORS 1
/* The vector helpers are inlined into each clone: their by-value vector
 * arguments never cross a call, so GCC's ABI note does not apply. */
#pragma GCC diagnostic ignored "-Wpsabi"
#include <stdint.h>
#include <string.h>
typedef double fo_sgd_v4d __attribute__((vector_size(32)));
typedef int64_t fo_sgd_v4i __attribute__((vector_size(32)));

static inline double fo_sgd_hsum(fo_sgd_v4d v) { return (v[0] + v[2]) + (v[1] + v[3]); }

static inline fo_sgd_v4d fo_sgd_vabs(fo_sgd_v4d v)
{
    const fo_sgd_v4i mask = {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX};
    return (fo_sgd_v4d)((fo_sgd_v4i)v & mask);
}
#else
#define FO_SGD_VECTORS 0
#endif

/* Whether fo_sgd_axpy computes the next row's dot product (dense rows, vector extensions). */
#define FO_SGD_FUSED_DOT(ind) (FO_SGD_VECTORS && (ind) == NULL)

/* The loops' typed views of an epoch's samples (fo_sgd_samples *smp): data,
 * y, sw in the precision FO_REAL of the instantiation, the CSR arrays, the
 * number of targets and the order. */
#define FO_SGD_SAMPLE_LOCALS(smp)                                                       \
    const FO_REAL *data = (const FO_REAL *)(smp)->data;                                 \
    const FO_REAL *y = (const FO_REAL *)(smp)->y;                                       \
    const FO_REAL *sw = (const FO_REAL *)(smp)->sw;                                     \
    const int *indices = (smp)->indices, *indptr = (smp)->indptr;                       \
    const ptrdiff_t n_targets = (smp)->n_targets, n_order = (smp)->n_order;             \
    const ptrdiff_t *order = (smp)->order;

#define FO_REAL float
#define FO_SUFFIX _f32
#include "fo_sgd_impl.h"
#undef FO_REAL
#undef FO_SUFFIX

#define FO_REAL double
#define FO_SUFFIX _f64
#include "fo_sgd_impl.h"
#undef FO_REAL
#undef FO_SUFFIX

#endif
