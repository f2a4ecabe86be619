"""fastopt.optim under threads and processes: no deadlock, results independent of concurrency."""

import multiprocessing
import sys
import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from fastopt._openmp import max_threads, openmp_enabled
from fastopt.optim import Adam

LARGE = 300_000  # above the size at which a step runs an OpenMP parallel region


def _train(seed, n=LARGE, steps=10):
    rng = np.random.default_rng(seed)
    p = rng.standard_normal(n).astype(np.float32)
    opt = Adam(lr=1e-2, clip_norm=1.0)
    state = opt.init(p)
    for _ in range(steps):
        opt.step(p, rng.standard_normal(n).astype(np.float32), state)
    return p


def _child_result(seed):
    return _train(seed), max_threads()


@pytest.mark.skipif(sys.platform == "win32", reason="fork start method is POSIX only")
def test_forked_children_after_parent_used_openmp_do_not_deadlock():
    expected = [_train(seed) for seed in range(3)]  # the parent runs parallel regions first
    parent_threads = max_threads()
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        results = pool.map_async(_child_result, range(3)).get(timeout=120)
    for (got, child_threads), want in zip(results, expected):
        np.testing.assert_array_equal(got, want)
        # fastopt's pool restarts its workers in a forked child: all threads stay usable
        assert child_threads == max_threads()
    assert max_threads() == parent_threads  # the parent keeps its threads


@pytest.mark.parametrize("limit", [1, 2])
def test_max_threads_follows_threadpoolctl_limits(limit):
    with threadpool_limits(limits=limit, user_api="openmp"):
        assert max_threads() == (limit if openmp_enabled() else 1)


def test_concurrent_python_threads_give_the_results_of_sequential_runs():
    sequential = [_train(seed) for seed in range(4)]
    results = [None] * 4

    def run(i):
        results[i] = _train(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for got, want in zip(results, sequential):
        np.testing.assert_array_equal(got, want)



def _blas_threads():
    from threadpoolctl import threadpool_info
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_one_blas_thread_holds_every_blas_to_one_thread_and_restores_the_limits():
    from fastopt._openmp import one_blas_thread
    with threadpool_limits(2, user_api="blas"):
        outside = _blas_threads()
        assert outside and all(n == 2 for n in outside)
        with one_blas_thread():
            assert all(n == 1 for n in _blas_threads())
        assert _blas_threads() == outside
        with pytest.raises(RuntimeError), one_blas_thread():
            raise RuntimeError("a failing fit")
        assert _blas_threads() == outside
