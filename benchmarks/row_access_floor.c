/* row_access_floor.c -- what reading training rows costs on this machine.
 *
 * The per-sample SGD epoch (csrc/fo_sgd.h) reads each row of X once, in a
 * new random order every epoch, and does ~100 floating-point operations per
 * value. This probe measures the memory side alone: the time per row to sum
 * 160,000 rows of 100 float64 (800 bytes) or float32 (400 bytes) values,
 *
 *   sequential   rows in storage order (the hardware prefetcher streams);
 *   random       rows in a random permutation, no software prefetch;
 *   prefetched   random order, every cache line of the row 16 rows ahead
 *                requested with __builtin_prefetch(p, 0, 2), as fo_sgd.h does.
 *
 * "prefetched" is the floor for a shuffled epoch: no arithmetic, the loads of
 * independent rows free to overlap. Minimum of 5 passes.
 *
 *     gcc -O3 -march=native benchmarks/row_access_floor.c -o /tmp/floor && /tmp/floor
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N_ROWS 160000
#define N_COLS 100 /* a multiple of 4: four partial sums per row */
#define AHEAD 16

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static void prefetch_row(const char *p, size_t bytes)
{
    const char *line = (const char *)((uintptr_t)p & ~(uintptr_t)63);
    for (; line < p + bytes; line += 64) __builtin_prefetch(line, 0, 2);
}

#define PROBE(T)                                                                        \
    static double probe_##T(const T *x, const long *order, int prefetch)                \
    {                                                                                   \
        double best = 1e30, sink = 0.0;                                                 \
        for (int rep = 0; rep < 5; rep++) {                                             \
            double t0 = now();                                                          \
            for (long s = 0; s < N_ROWS; s++) {                                         \
                if (prefetch && s + AHEAD < N_ROWS)                                     \
                    prefetch_row((const char *)(x + order[s + AHEAD] * N_COLS),         \
                                 N_COLS * sizeof(T));                                   \
                const T *row = x + order[s] * N_COLS;                                   \
                T a[4] = {0, 0, 0, 0};                                                  \
                for (int j = 0; j < N_COLS; j += 4)                                     \
                    for (int k = 0; k < 4; k++) a[k] += row[j + k];                     \
                sink += (a[0] + a[1]) + (a[2] + a[3]);                                  \
            }                                                                           \
            double t = now() - t0;                                                      \
            if (t < best) best = t;                                                     \
        }                                                                               \
        if (sink == 1234.5) puts("");                                                   \
        return best / N_ROWS * 1e9;                                                     \
    }

PROBE(double)
PROBE(float)

int main(void)
{
    double *x64 = malloc(sizeof(double) * N_ROWS * N_COLS);
    float *x32 = malloc(sizeof(float) * N_ROWS * N_COLS);
    long *seq = malloc(sizeof(long) * N_ROWS), *perm = malloc(sizeof(long) * N_ROWS);
    uint64_t state = 42;
    if (!x64 || !x32 || !seq || !perm) return 1;
    for (long i = 0; i < (long)N_ROWS * N_COLS; i++) x64[i] = x32[i] = (float)(i % 7);
    for (long i = 0; i < N_ROWS; i++) seq[i] = perm[i] = i;
    for (long i = N_ROWS - 1; i > 0; i--) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        long j = (long)((state >> 33) % (uint64_t)(i + 1)), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    printf("ns per row of %d values, %d rows\n", N_COLS, N_ROWS);
    printf("float64: sequential %6.1f  random %6.1f  prefetched %6.1f\n",
           probe_double(x64, seq, 0), probe_double(x64, perm, 0), probe_double(x64, perm, 1));
    printf("float32: sequential %6.1f  random %6.1f  prefetched %6.1f\n",
           probe_float(x32, seq, 0), probe_float(x32, perm, 0), probe_float(x32, perm, 1));
    return 0;
}
