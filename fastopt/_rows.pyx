# cython: language_level=3
"""Describe a dense or CSR matrix as ``Rows`` (see ``_rows.pxd``) for the engines."""

import numpy as np
import scipy.sparse as sp

cimport numpy as cnp

cnp.import_array()

cdef Py_ssize_t INT32_MAX = 2**31 - 1


cdef Rows rows_of(X, list keep) except *:
    """The rows of ``X`` (a 2-D float32/float64 array or CSR matrix).

    Arrays converted on the way (a non-contiguous X, CSR indices of another
    integer type) are appended to ``keep``, which the caller holds for as long
    as it uses the returned pointers.
    """
    cdef Rows rows
    cdef cnp.ndarray data, indices, indptr
    rows.n_samples, rows.n_features = X.shape
    if sp.issparse(X):
        if X.format != "csr":
            raise TypeError(f"sparse X must be CSR, got {X.format.upper()}; convert it "
                            f"with X.tocsr()")
        if X.nnz > INT32_MAX or rows.n_features > INT32_MAX:
            raise ValueError(f"CSR X has {X.nnz} stored values and {rows.n_features} "
                             f"columns; the sparse loops index at most 2**31 - 1 of "
                             f"each: split the data and train with partial_fit")
        data = np.ascontiguousarray(X.data)
        indices = np.ascontiguousarray(X.indices, dtype=np.intc)
        indptr = np.ascontiguousarray(X.indptr, dtype=np.intc)
        keep.extend((data, indices, indptr))
        rows.indices = <const int*> cnp.PyArray_DATA(indices)
        rows.indptr = <const int*> cnp.PyArray_DATA(indptr)
        rows.nnz = X.nnz
    else:
        data = np.ascontiguousarray(X)
        keep.append(data)
        rows.indices = NULL
        rows.indptr = NULL
        rows.nnz = rows.n_samples * rows.n_features
    if data.dtype != np.float32 and data.dtype != np.float64:
        raise TypeError(f"X must be float32 or float64, got {data.dtype}")
    rows.is32 = data.dtype == np.float32
    rows.data = cnp.PyArray_DATA(data)
    return rows
