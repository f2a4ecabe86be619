/* fo_mlp_act_impl.h -- the activations after ReLU, written once for FO_REAL
 * (included by fo_mlp_act.c for float and double, with FO_EXP, FO_EXPM1 and
 * FO_ERF of that precision). */

/* f and f' of each activation; f' of leaky ReLU and ELU takes the output */
static inline FO_REAL FO_NAME(fo_leaky_relu)(FO_REAL x)
{ return x > 0 ? x : (FO_REAL)FO_MLP_LEAKY_SLOPE * x; }
static inline FO_REAL FO_NAME(fo_leaky_relu_grad)(FO_REAL a)
{ return a > 0 ? (FO_REAL)1 : (FO_REAL)FO_MLP_LEAKY_SLOPE; }
static inline FO_REAL FO_NAME(fo_elu)(FO_REAL x) { return x > 0 ? x : FO_EXPM1(x); }
static inline FO_REAL FO_NAME(fo_elu_grad)(FO_REAL a) { return a > 0 ? (FO_REAL)1 : a + 1; }
static inline FO_REAL FO_NAME(fo_gelu)(FO_REAL x)
{ return (FO_REAL)0.5 * x * (1 + FO_ERF(x * (FO_REAL)FO_MLP_SQRT1_2)); }
static inline FO_REAL FO_NAME(fo_gelu_grad)(FO_REAL x)
{
    return (FO_REAL)0.5 * (1 + FO_ERF(x * (FO_REAL)FO_MLP_SQRT1_2))
           + x * (FO_REAL)FO_MLP_INV_SQRT_2PI * FO_EXP((FO_REAL)-0.5 * x * x);
}
static inline FO_REAL FO_NAME(fo_silu)(FO_REAL x) { return x / (1 + FO_EXP(-x)); }
static inline FO_REAL FO_NAME(fo_silu_grad)(FO_REAL x)
{
    FO_REAL s = 1 / (1 + FO_EXP(-x));
    return s * (1 + x * (1 - s));
}

/* The forward loop (Z = f(Z + b) row-wise, Z + b also to `pre` when given)
 * and the delta loop (D *= f'(X), X the output when FROM_OUTPUT, else the
 * pre-activation; with `mask`, D *= s f'(X / s) or 0, see fo_mlp_kernels.h) of
 * one activation: the same two loops for every activation, so they are
 * stamped out per activation by this macro (the precision is FO_REAL's). */
#define FO_MLP_ACT_LOOPS(ACT, FROM_OUTPUT)                                              \
static inline void FO_NAME(fo_mlp_bias_##ACT)(FO_REAL *FO_RESTRICT z,                   \
                                              const FO_REAL *FO_RESTRICT b, ptrdiff_t m,\
                                              ptrdiff_t h, FO_REAL *FO_RESTRICT pre)    \
{                                                                                       \
    ptrdiff_t i, j;                                                                     \
    for (i = 0; i < m; i++) {                                                           \
        FO_REAL *FO_RESTRICT zi = z + i * h;                                            \
        if (pre != NULL) {                                                              \
            FO_REAL *FO_RESTRICT pi = pre + i * h;                                      \
            for (j = 0; j < h; j++) {                                                   \
                pi[j] = zi[j] + b[j];                                                   \
                zi[j] = FO_NAME(fo_##ACT)(pi[j]);                                       \
            }                                                                           \
        } else {                                                                        \
            for (j = 0; j < h; j++) zi[j] = FO_NAME(fo_##ACT)(zi[j] + b[j]);            \
        }                                                                               \
    }                                                                                   \
}                                                                                       \
static inline void FO_NAME(fo_mlp_##ACT##_delta)(FO_REAL *FO_RESTRICT d,                \
                                                 const FO_REAL *FO_RESTRICT x,          \
                                                 const FO_REAL *FO_RESTRICT mask,       \
                                                 ptrdiff_t n)                           \
{                                                                                       \
    ptrdiff_t i;                                                                        \
    if (mask == NULL) {                                                                 \
        for (i = 0; i < n; i++) d[i] *= FO_NAME(fo_##ACT##_grad)(x[i]);                 \
        return;                                                                         \
    }                                                                                   \
    for (i = 0; i < n; i++) {                                                           \
        FO_REAL s = mask[i];                                                            \
        FO_REAL xi = FROM_OUTPUT ? x[i] / s : x[i];                                     \
        d[i] = s == 0 ? (FO_REAL)0 : d[i] * s * FO_NAME(fo_##ACT##_grad)(xi);           \
    }                                                                                   \
}

FO_MLP_ACT_LOOPS(leaky_relu, 1)
FO_MLP_ACT_LOOPS(elu, 1)
FO_MLP_ACT_LOOPS(gelu, 0)
FO_MLP_ACT_LOOPS(silu, 0)

#undef FO_MLP_ACT_LOOPS

FO_MULTIVERSION
void FO_NAME(fo_mlp_bias_act)(int kind, FO_REAL *z, const FO_REAL *b, ptrdiff_t m,
                              ptrdiff_t h, FO_REAL *pre)
{
    switch (kind) {
    case FO_ACT_LEAKY_RELU: FO_NAME(fo_mlp_bias_leaky_relu)(z, b, m, h, pre); break;
    case FO_ACT_ELU: FO_NAME(fo_mlp_bias_elu)(z, b, m, h, pre); break;
    case FO_ACT_GELU: FO_NAME(fo_mlp_bias_gelu)(z, b, m, h, pre); break;
    case FO_ACT_SILU: FO_NAME(fo_mlp_bias_silu)(z, b, m, h, pre); break;
    default: break; /* none: MLPCore refuses codes outside its Activation enum */
    }
}

FO_MULTIVERSION
void FO_NAME(fo_mlp_act_delta)(int kind, FO_REAL *d, const FO_REAL *x, const FO_REAL *mask,
                               ptrdiff_t n)
{
    switch (kind) {
    case FO_ACT_LEAKY_RELU: FO_NAME(fo_mlp_leaky_relu_delta)(d, x, mask, n); break;
    case FO_ACT_ELU: FO_NAME(fo_mlp_elu_delta)(d, x, mask, n); break;
    case FO_ACT_GELU: FO_NAME(fo_mlp_gelu_delta)(d, x, mask, n); break;
    case FO_ACT_SILU: FO_NAME(fo_mlp_silu_delta)(d, x, mask, n); break;
    default: break; /* none: MLPCore refuses codes outside its Activation enum */
    }
}
