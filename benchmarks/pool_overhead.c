/* pool_overhead.c -- what a job on fastopt's worker pool costs (csrc/fo_pool.h).
 *
 * Times jobs of 2 blocks of `work_ns` nanoseconds of arithmetic each, run on
 * the caller alone and on 2 threads of the pool, with a pause of `gap_us`
 * between jobs (0: back to back, the worker still spinning; 1000: the worker
 * has gone to sleep and must be woken). The break-even work per thread sets
 * MIN_WORK_NS in fastopt/_openmp.pyx (docs/threads.md).
 *
 *   gcc -O2 -pthread -Icsrc benchmarks/pool_overhead.c -o /tmp/pool_overhead
 *   /tmp/pool_overhead [competitors]
 *
 * With an argument n, n busy-loop child processes run during the
 * measurement (killed at the end).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fo_pool.h"

static volatile double sink;

static void spin_work(void *ctx, ptrdiff_t b)
{
    long long ns = *(long long *)ctx, t0 = fo_pool_now();
    double x = (double)b;
    (void)b;
    while (fo_pool_now() - t0 < ns) x = x * 1.0000001 + 1e-9;
    sink = x;
}

static double per_job_us(long long work_ns, int threads, int gap_us, int n_jobs)
{
    long long t0, total = 0;
    int j;
    for (j = 0; j < n_jobs; j++) {
        if (gap_us) usleep(gap_us);
        t0 = fo_pool_now();
        fo_pool_run(spin_work, &work_ns, 2, threads);
        total += fo_pool_now() - t0;
    }
    return total / 1e3 / n_jobs;
}

int main(int argc, char **argv)
{
    static const long long works[] = {1000, 2000, 5000, 10000, 20000, 50000};
    static const int gaps[] = {0, 1000};
    int n_comp = argc > 1 ? atoi(argv[1]) : 0, i, g, c;
    pid_t kids[8];
    for (c = 0; c < n_comp && c < 8; c++)
        if ((kids[c] = fork()) == 0) for (;;) sink = sink + 1.0;
    per_job_us(1000, 2, 0, 1000);  /* start the worker */
    printf("competitors %d: 2 blocks of w us per job; median-free mean of 2000 jobs\n", n_comp);
    printf("%8s %8s %12s %12s %8s %8s\n", "w (us)", "gap(us)", "1 thread", "2 threads",
           "ratio", "stalls");
    for (g = 0; g < 2; g++)
        for (i = 0; i < 6; i++) {
            long long stalls = fo_pool.n_stalls;
            double t1 = per_job_us(works[i], 1, gaps[g], 2000 / (1 + gaps[g] / 100));
            double t2 = per_job_us(works[i], 2, gaps[g], 2000 / (1 + gaps[g] / 100));
            printf("%8.1f %8d %10.2fus %10.2fus %7.2fx %8lld\n", works[i] / 1e3, gaps[g], t1,
                   t2, t1 / t2, fo_pool.n_stalls - stalls);
        }
    for (c = 0; c < n_comp && c < 8; c++) { kill(kids[c], SIGKILL); waitpid(kids[c], NULL, 0); }
    return 0;
}
