/* fo_mlp_kernels_impl.h -- the MLP loop's element-wise kernels, written once
 * for FO_REAL (included by fo_mlp_kernels.h for float and double; what each
 * does, and why, is said there). */

/* ||g + c2 p + c1 sign(p)||^2 over g[0:n], nothing written. */
FO_MULTIVERSION
static double FO_NAME(fo_mlp_grad_sumsq)(const FO_REAL *FO_RESTRICT g,
                                         const FO_REAL *FO_RESTRICT p, ptrdiff_t n,
                                         FO_REAL c2, FO_REAL c1)
{
    double s = 0.0;
    ptrdiff_t start, end, i;
    for (start = 0; start < n; start += FO_REDUCE_BLOCK) {
        FO_REAL bs = 0;
        end = n - start < FO_REDUCE_BLOCK ? n : start + FO_REDUCE_BLOCK;
        if (c1 == 0) {
            FO_SIMD_REDUCE(bs)
            for (i = start; i < end; i++) {
                FO_REAL v = g[i] + c2 * p[i];
                bs += v * v;
            }
        } else {
            FO_SIMD_REDUCE(bs)
            for (i = start; i < end; i++) {
                FO_REAL w = p[i];
                FO_REAL sign = (w > 0 ? (FO_REAL)1 : (FO_REAL)0) - (w < 0 ? (FO_REAL)1 : (FO_REAL)0);
                FO_REAL v = g[i] + c2 * w + c1 * sign;
                bs += v * v;
            }
        }
        s += (double)bs;
    }
    return s;
}

/* gb[0:h] += scale * (column sums of the row-major m x h delta d), row by row. */
FO_MULTIVERSION
static void FO_NAME(fo_mlp_bias_grad)(const FO_REAL *FO_RESTRICT d, ptrdiff_t m, ptrdiff_t h,
                                      FO_REAL scale, FO_REAL *FO_RESTRICT gb)
{
    ptrdiff_t i, j;
    for (i = 0; i < m; i++)
        for (j = 0; j < h; j++) gb[j] += scale * d[i * h + j];
}

/* z = max(z + b, 0), row-wise over the m x h z. */
FO_MULTIVERSION
static void FO_NAME(fo_mlp_bias_relu)(FO_REAL *FO_RESTRICT z, const FO_REAL *FO_RESTRICT b,
                                      ptrdiff_t m, ptrdiff_t h)
{
    ptrdiff_t i, j;
    for (i = 0; i < m; i++)
        for (j = 0; j < h; j++) {
            FO_REAL v = z[i * h + j] + b[j];
            z[i * h + j] = v > 0 ? v : 0;
        }
}

/* d = a > 0 ? d : 0 (ReLU's delta through its output a). */
FO_MULTIVERSION
static void FO_NAME(fo_mlp_relu_delta)(FO_REAL *FO_RESTRICT d, const FO_REAL *FO_RESTRICT a,
                                       ptrdiff_t n)
{
    ptrdiff_t i;
    for (i = 0; i < n; i++) d[i] = a[i] > 0 ? d[i] : 0;
}
