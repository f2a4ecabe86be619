/* fo_rng.h -- a small, fast, seedable RNG for shuffles and dropout masks.
 *
 * xoshiro256** (Blackman & Vigna, 2018) seeded through splitmix64. Every
 * compiled loop owns its generator state, so no lock and no global state are
 * involved and a fit is reproducible from random_state alone. Threads that
 * need random numbers derive their own stream with fo_rng_seed(seed, stream).
 */
#ifndef FO_RNG_H
#define FO_RNG_H

#include <stdint.h>
#include <stddef.h>

typedef struct {
    uint64_t s[4];
} fo_rng;

static inline uint64_t fo_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Seed a generator; different `stream` values give independent streams. */
static inline void fo_rng_seed(fo_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ULL);
    int k;
    for (k = 0; k < 4; k++) r->s[k] = fo_splitmix64(&x);
}

static inline uint64_t fo_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t fo_rng_next(fo_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = fo_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = fo_rotl(s[3], 45);
    return result;
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double fo_rng_uniform(fo_rng *r)
{
    return (double)(fo_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, bound) without modulo bias (Lemire's method). */
static inline uint64_t fo_rng_bounded(fo_rng *r, uint64_t bound)
{
    __uint128_t m = (__uint128_t)fo_rng_next(r) * bound;
    uint64_t low = (uint64_t)m;
    if (low < bound) {
        uint64_t threshold = -bound % bound;
        while (low < threshold) {
            m = (__uint128_t)fo_rng_next(r) * bound;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

/* Fisher-Yates shuffle of a[0:n] in place. */
static inline void fo_rng_shuffle(fo_rng *r, ptrdiff_t *a, ptrdiff_t n)
{
    ptrdiff_t i;
    for (i = n - 1; i > 0; i--) {
        ptrdiff_t j = (ptrdiff_t)fo_rng_bounded(r, (uint64_t)i + 1);
        ptrdiff_t tmp = a[i];
        a[i] = a[j];
        a[j] = tmp;
    }
}

#endif
