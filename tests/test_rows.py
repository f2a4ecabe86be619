"""fastopt._rows: the dense/CSR input of both engines, through MLPCore.predict."""

import numpy as np
import pytest
import scipy.sparse as sp

from fastopt.neural_network._mlp_fast import MLPCore

RNG = np.random.default_rng(0)


def _core(dense):
    core = MLPCore([6, 5, 3], "tanh", "softmax", np.float64, 16, dense)
    return core, RNG.uniform(-1, 1, core.n_params)


def test_csr_rows_with_int64_indices_predict_as_the_dense_rows():
    X = sp.random(12, 6, density=0.4, format="csr", random_state=0)
    X.indices, X.indptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)
    dense, params = _core(True)
    csr, _ = _core(False)
    np.testing.assert_allclose(csr.predict(params, X), dense.predict(params, X.toarray()),
                               rtol=1e-13)


def test_non_contiguous_dense_rows_are_read_through_a_copy():
    core, params = _core(True)
    X = RNG.standard_normal((12, 12))
    np.testing.assert_array_equal(core.predict(params, X[:, ::2]),
                                  core.predict(params, np.ascontiguousarray(X[:, ::2])))


@pytest.mark.parametrize("X, error, match", [
    (sp.random(12, 6, density=0.4, format="csc", random_state=0), TypeError,
     r"sparse X must be CSR, got CSC; convert it with X.tocsr\(\)"),
    (np.ones((12, 6), dtype=np.int64), TypeError, "X must be float32 or float64, got int64"),
    (np.ones((12, 6), dtype=np.float32), ValueError, "X must be float64, got float32"),
])
def test_unusable_rows_are_refused_with_the_fix(X, error, match):
    core, params = _core(not sp.issparse(X))
    with pytest.raises(error, match=match):
        core.predict(params, X)
