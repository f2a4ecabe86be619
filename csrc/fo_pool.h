/* fo_pool.h -- fastopt's worker pool: fixed blocks, claimed by whoever is running.
 *
 * Why not OpenMP regions. The join of a parallel region waits for every team
 * thread to *arrive*; when another process holds a core, a team thread that
 * the kernel has not scheduled yet holds the caller for a scheduler slice
 * (milliseconds), whatever the schedule clause or wait policy. Measured on
 * this project's 2-core machine with busy competitors, that made per-batch
 * regions 5x slower than one thread.
 *
 * This pool never waits for a thread to show up. A job is N fixed blocks (the
 * layout is the caller's, chosen from the data only). The caller publishes
 * the job, wakes the sleeping workers and claims blocks itself through one
 * atomic counter, exactly as the workers do; when no block is left it waits
 * only for blocks that other threads have already claimed (and are running).
 * A worker that arrives late finds no block and goes back to waiting, so a
 * busy machine degrades to the one-thread speed instead of stalling.
 *
 * The claim word packs (generation << 32 | next block). Generations are even
 * while a job is open and odd while the caller rewrites the job description,
 * so a stale worker -- one that read an older job -- can never claim a block:
 * its compare-and-swap names the old generation and fails.
 *
 * Workers spin FO_POOL_SPIN_NS after a job (minibatch loops post the next job
 * within microseconds) and then sleep on a condition variable. On Linux they
 * run under SCHED_BATCH (same share of the CPU, no wake-up preemption), so
 * waking a worker never pushes the caller off its core. A straggler
 * that claimed a block and was then preempted still delays its job; the pool
 * measures that wait and, when it exceeds FO_POOL_STALL_NS and the caller's
 * own time on the job's blocks, runs the next
 * jobs on the caller alone for at least 20 times the stall (so a stall costs
 * at most ~5% of the time), a back-off that doubles while stalls repeat (up
 * to FO_POOL_BACKOFF_MAX_NS) and is forgotten after a clean stretch four
 * times as long. Serial or parallel, the blocks and their order of
 * combination are the same, so results never depend on this choice.
 *
 * One job at a time: a second caller (another Python thread, or a block that
 * itself posts a job) runs its blocks alone, in order. After fork() the child
 * has no workers; a fork handler resets the pool so the child starts its own.
 * Without pthreads (Windows) every job runs on the caller.
 */
#ifndef FO_POOL_H
#define FO_POOL_H

#include <stddef.h>
#include <stdint.h>

typedef void (*fo_block_fn)(void *ctx, ptrdiff_t block);

#define FO_POOL_MAX_THREADS 64
#define FO_POOL_SPIN_NS 50000LL
#define FO_POOL_STALL_NS 200000LL
#define FO_POOL_BACKOFF_MIN_NS 2000000LL
#define FO_POOL_BACKOFF_MAX_NS 256000000LL

#if !defined(_WIN32)
#include <pthread.h>
#include <sched.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FO_POOL_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define FO_POOL_PAUSE() __asm__ __volatile__("yield")
#else
#define FO_POOL_PAUSE() ((void)0)
#endif

typedef struct {
    uint64_t word;            /* generation << 32 | next block to claim */
    ptrdiff_t done;           /* blocks finished in the current job */
    fo_block_fn fn;           /* the job: written while the generation is odd */
    void *ctx;
    ptrdiff_t n_blocks;
    int busy;                 /* a caller owns the pool */
    int n_workers;
    int sleepers;
    long long backoff_ns;     /* current back-off after a stall */
    long long serial_until;   /* monotonic ns before which jobs run on the caller */
    long long last_stall;
    long long n_jobs, n_parallel, n_stalls;   /* statistics (fo_pool_stats) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
} fo_pool_t;

static fo_pool_t fo_pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* 1 on the pool's worker threads, 0 on callers (which may handle signals) */
static __thread int fo_pool_is_worker = 0;

static int fo_pool_on_worker(void) { return fo_pool_is_worker; }

static long long fo_pool_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Claim and run blocks of generation `gen` until none is left. */
static void fo_pool_claim(uint32_t gen, fo_block_fn fn, void *ctx, ptrdiff_t n)
{
    uint64_t w = __atomic_load_n(&fo_pool.word, __ATOMIC_ACQUIRE);
    while ((uint32_t)(w >> 32) == gen && (ptrdiff_t)(uint32_t)w < n) {
        if (__atomic_compare_exchange_n(&fo_pool.word, &w, w + 1, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            fn(ctx, (ptrdiff_t)(uint32_t)w);
            __atomic_fetch_add(&fo_pool.done, 1, __ATOMIC_RELEASE);
            w = __atomic_load_n(&fo_pool.word, __ATOMIC_ACQUIRE);
        }
    }
}

static void *fo_pool_worker(void *arg)
{
    uint32_t seen = (uint32_t)(__atomic_load_n(&fo_pool.word, __ATOMIC_ACQUIRE) >> 32);
    (void)arg;
    fo_pool_is_worker = 1;
#if defined(__linux__) && defined(SCHED_BATCH)
    {
        /* no wake-up preemption: waking a worker must not push the caller
         * (which starts on the blocks at once) off its core */
        struct sched_param sp = {0};
        pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
    }
#endif
    for (;;) {
        uint32_t gen;
        long long until = fo_pool_now() + FO_POOL_SPIN_NS;
        int spins = 0;
        fo_block_fn fn;
        void *ctx;
        ptrdiff_t n;
        /* wait for an open generation other than the last one seen */
        for (;;) {
            gen = (uint32_t)(__atomic_load_n(&fo_pool.word, __ATOMIC_ACQUIRE) >> 32);
            if (gen != seen && !(gen & 1u)) break;
            FO_POOL_PAUSE();
            if (++spins % 64 == 0 && fo_pool_now() > until) {
                pthread_mutex_lock(&fo_pool.mu);
                __atomic_fetch_add(&fo_pool.sleepers, 1, __ATOMIC_SEQ_CST);
                for (;;) {
                    gen = (uint32_t)(__atomic_load_n(&fo_pool.word, __ATOMIC_ACQUIRE) >> 32);
                    if (gen != seen && !(gen & 1u)) break;
                    pthread_cond_wait(&fo_pool.cv, &fo_pool.mu);
                }
                __atomic_fetch_sub(&fo_pool.sleepers, 1, __ATOMIC_SEQ_CST);
                pthread_mutex_unlock(&fo_pool.mu);
                break;
            }
        }
        seen = gen;
        fn = fo_pool.fn;
        ctx = fo_pool.ctx;
        n = fo_pool.n_blocks;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        /* if the job changed meanwhile, the generation did too: no claim succeeds */
        fo_pool_claim(gen, fn, ctx, n);
    }
    return NULL;
}

/* Start workers up to n_threads - 1 (never stopped; they sleep when idle). */
static int fo_pool_grow(int n_threads)
{
    while (fo_pool.n_workers < n_threads - 1 && fo_pool.n_workers < FO_POOL_MAX_THREADS - 1) {
        pthread_t t;
        pthread_attr_t attr;
        int err;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        err = pthread_create(&t, &attr, fo_pool_worker, NULL);
        pthread_attr_destroy(&attr);
        if (err != 0) break;
        fo_pool.n_workers++;
    }
    return fo_pool.n_workers + 1;
}

static void fo_pool_after_fork_child(void)
{
    /* the child has no workers; start afresh (memory is the parent's copy) */
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    fo_pool.n_workers = 0;
    fo_pool.sleepers = 0;
    fo_pool.busy = 0;
    fo_pool.word = 0;
    fo_pool.mu = mu;
    fo_pool.cv = cv;
}

__attribute__((constructor)) static void fo_pool_register_fork(void)
{
    pthread_atfork(NULL, NULL, fo_pool_after_fork_child);
}

/* Run fn(ctx, b) for b in [0, n_blocks) on up to n_threads threads (the
 * caller included). Returns when every block has run. */
static void fo_pool_run(fo_block_fn fn, void *ctx, ptrdiff_t n_blocks, int n_threads)
{
    ptrdiff_t b;
    uint32_t gen;
    long long t_start, t_busy, t_idle = 0, now;
    int zero = 0;
    if (n_threads <= 1 || n_blocks <= 1 ||
            !__atomic_compare_exchange_n(&fo_pool.busy, &zero, 1, 0, __ATOMIC_ACQUIRE,
                                         __ATOMIC_RELAXED)) {
        for (b = 0; b < n_blocks; b++) fn(ctx, b);
        return;
    }
    fo_pool.n_jobs++;
    if (fo_pool.serial_until != 0 && fo_pool_now() < fo_pool.serial_until) {
        /* backing off after a stall */
        __atomic_store_n(&fo_pool.busy, 0, __ATOMIC_RELEASE);
        for (b = 0; b < n_blocks; b++) fn(ctx, b);
        return;
    }
    fo_pool.n_parallel++;
    t_start = fo_pool_now();
    fo_pool_grow(n_threads);
    /* close the old generation (odd), describe the job, open it (even) */
    gen = (uint32_t)(__atomic_load_n(&fo_pool.word, __ATOMIC_RELAXED) >> 32);
    gen = (gen | 1u) + 1u;
    __atomic_store_n(&fo_pool.word, (uint64_t)(gen - 1u) << 32, __ATOMIC_SEQ_CST);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    fo_pool.fn = fn;
    fo_pool.ctx = ctx;
    fo_pool.n_blocks = n_blocks;
    __atomic_store_n(&fo_pool.done, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&fo_pool.word, (uint64_t)gen << 32, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&fo_pool.sleepers, __ATOMIC_SEQ_CST) > 0) {
        pthread_mutex_lock(&fo_pool.mu);
        pthread_cond_broadcast(&fo_pool.cv);
        pthread_mutex_unlock(&fo_pool.mu);
    }
    fo_pool_claim(gen, fn, ctx, n_blocks);
    /* every block is claimed; wait only for those still running elsewhere */
    t_busy = fo_pool_now() - t_start;
    if (__atomic_load_n(&fo_pool.done, __ATOMIC_ACQUIRE) < n_blocks) {
        long long t0 = fo_pool_now();
        int spins = 0;
        while (__atomic_load_n(&fo_pool.done, __ATOMIC_ACQUIRE) < n_blocks) {
            FO_POOL_PAUSE();
            if (++spins % 1024 == 0) sched_yield();
        }
        t_idle = fo_pool_now() - t0;
    }
    now = fo_pool_now();
    /* A stall: a wait longer than FO_POOL_STALL_NS and than the caller's own
     * share of the job (the caller alone would then have finished sooner).
     * A shorter wait is the blocks' natural imbalance: long blocks (a
     * per-sample SGD epoch, tens of ms) end milliseconds apart without any
     * preemption, and backing off for those would serialise the next jobs. */
    if (t_idle > FO_POOL_STALL_NS && t_idle > t_busy) {
        /* serial for long enough that this stall costs at most ~5% of it */
        long long next = fo_pool.backoff_ns * 2;
        if (next < 20 * t_idle) next = 20 * t_idle;
        if (next < FO_POOL_BACKOFF_MIN_NS) next = FO_POOL_BACKOFF_MIN_NS;
        if (next > FO_POOL_BACKOFF_MAX_NS) next = FO_POOL_BACKOFF_MAX_NS;
        fo_pool.n_stalls++;
        fo_pool.backoff_ns = next;
        fo_pool.last_stall = now;
        fo_pool.serial_until = now + next;
    } else if (fo_pool.backoff_ns != 0 && now - fo_pool.last_stall > 4 * fo_pool.backoff_ns) {
        fo_pool.backoff_ns = 0;   /* a long clean stretch: the machine is free again */
        fo_pool.serial_until = 0;
    }
    __atomic_store_n(&fo_pool.busy, 0, __ATOMIC_RELEASE);
}

#else  /* no pthreads: every job runs on the caller */

static int fo_pool_on_worker(void) { return 0; }

static void fo_pool_run(fo_block_fn fn, void *ctx, ptrdiff_t n_blocks, int n_threads)
{
    ptrdiff_t b;
    (void)n_threads;
    for (b = 0; b < n_blocks; b++) fn(ctx, b);
}

#endif

#endif
