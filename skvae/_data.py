"""Reading the data: float dtypes, out-of-core blocks, counts and step budgets."""

from __future__ import annotations

import math
from numbers import Integral
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

#: The float dtypes estimators keep (others are converted to float64).
FLOATS = [np.float64, np.float32]


def is_out_of_core(X: Any) -> bool:
    """Whether X is a 2-D array read in blocks (memmap, HDF5, zarr, dask...).

    In-memory arrays, lists, DataFrames and sparse matrices are not.

    Examples
    --------
    >>> is_out_of_core(np.zeros((2, 2)))
    False
    """
    if isinstance(X, np.memmap):
        return True
    if isinstance(X, (np.ndarray, list, tuple, torch.Tensor)) or sp.issparse(X):
        return False
    if hasattr(X, "iloc") or hasattr(X, "columns") or hasattr(X, "__dataframe__"):
        return False  # data frames (pandas, polars...) keep their feature names
    if not hasattr(X, "__getitem__"):
        return False
    shape = getattr(X, "shape", None)
    return shape is not None and len(shape) == 2


def blocks(X: Any, rows: int):
    """In-memory row blocks of ``rows`` rows (the last may be shorter).

    Sparse matrices give dense blocks, each densified on its own.

    Examples
    --------
    >>> [b.shape[0] for b in blocks(np.zeros((5, 2)), 2)]
    [2, 2, 1]
    """
    n_rows = _known_rows(X)
    if n_rows == 0:
        raise ValueError("Found array with 0 sample(s) (shape=(0, ...)).")
    for start in range(0, n_rows, rows):
        block = X[start : start + rows]
        if hasattr(block, "compute"):  # dask
            block = block.compute()
        yield to_dense(block)


def _known_rows(X: Any) -> int:
    """The number of rows of X, or a clear error when it is not known.

    A dask array filtered by a condition has chunks of unknown size (its
    shape holds NaN) until they are computed.

    Examples
    --------
    >>> _known_rows(np.zeros((3, 2)))
    3
    """
    n_rows = X.shape[0]
    if n_rows is None or (isinstance(n_rows, float) and math.isnan(n_rows)):
        raise ValueError(
            "X has an unknown number of rows (a dask array whose chunk sizes "
            "are not known, e.g. after a boolean selection); call "
            "X.compute_chunk_sizes() first."
        )
    return int(n_rows)


def to_dense(block: Any) -> np.ndarray:
    """A block of rows as a dense array (sparse ones through ``toarray``).

    The one place where skvae densifies sparse rows: callers hand it one
    batch or block at a time, never a whole sparse matrix, but for the rows
    of a model fitted on a table (its encoder reads them as a DataFrame).

    Examples
    --------
    >>> to_dense(sp.csr_matrix(np.eye(2))).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    if sp.issparse(block):
        return block.toarray()
    return np.asarray(block)


def check_sparse(X: Any) -> Any:
    """Refuse a sparse matrix with a broken structure or non-finite values.

    ``X`` has been through ``check_array(accept_sparse="csr")``, which does
    not look at the index arrays; a negative or out-of-range column index,
    or row pointers that do not add up, would otherwise index memory
    wrongly. NaN (which skvae's dense inputs may use for a missing entry)
    is refused: in a sparse matrix an entry left out is a zero, never a
    missing value.

    Returns ``X``, or a canonical copy of it where an entry is stored more
    than once (or the indices are unsorted): scipy reads such an entry as
    the sum of its parts, while statistics and neighbour searches that read
    the stored values (scikit-learn's ``mean_variance_axis``,
    ``NearestNeighbors``) would see the parts. The caller's matrix is left
    as it is.

    Examples
    --------
    >>> twice = sp.csr_matrix((np.ones(2), np.array([0, 0]), np.array([0, 2])),
    ...                       shape=(1, 2))
    >>> check_sparse(twice).toarray().tolist(), twice.nnz
    ([[2.0, 0.0]], 2)
    >>> bad = sp.csr_matrix((np.ones(1), np.array([-1]), np.array([0, 1])),
    ...                     shape=(1, 2))
    >>> check_sparse(bad)
    Traceback (most recent call last):
    ...
    ValueError: Sparse input X has a broken structure (indices must be >= 0); ...
    """
    try:
        X.check_format(full_check=True)
    except ValueError as exc:
        raise ValueError(
            f"Sparse input X has a broken structure ({exc}); build it with "
            "scipy.sparse's constructors or call X.check_format() to find out."
        ) from None
    if X.data.size and not np.isfinite(X.data).all():
        what = "NaN" if np.isnan(X.data).any() else "infinity"
        raise ValueError(
            f"Sparse input X contains {what}. In a sparse matrix an entry left "
            "out is 0, so NaN cannot mark a missing entry there; pass a dense "
            "array to have NaN treated as missing (missing='mask')."
        )
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()  # (sorts the indices too)
    return X


class SparseRows:
    """Rows of a CSR matrix for training, densified one batch at a time.

    Stands in for the training tensor of dense data: ``shape``, ``device``,
    and indexing by a tensor of row indices or a slice, which returns those
    rows as a dense float32 tensor on ``device``. :meth:`take` keeps a subset
    of rows sparse. The matrix stays on the host: on a GPU each batch's row
    indices are read back and its dense rows copied over (one transfer per
    batch, where dense data on the device needs none).

    Parameters
    ----------
    matrix : scipy.sparse CSR matrix of shape (n_samples, n_features)
        The rows (kept on the host).
    device : torch.device
        Where batches go.

    Examples
    --------
    >>> rows = SparseRows(sp.csr_matrix(np.eye(3)), torch.device("cpu"))
    >>> rows[torch.tensor([2, 0])].tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    >>> rows.shape
    (3, 3)
    """

    def __init__(self, matrix: Any, device: torch.device) -> None:
        self.matrix = sp.csr_matrix(matrix)
        self.device = torch.device(device)

    @property
    def shape(self) -> tuple[int, int]:
        """The matrix's shape."""
        return self.matrix.shape

    def __len__(self) -> int:
        return self.matrix.shape[0]

    def _rows(self, key: Any) -> Any:
        if isinstance(key, torch.Tensor):
            key = key.detach().cpu().numpy()
        return self.matrix[key]

    def __getitem__(self, key: Any) -> torch.Tensor:
        dense = to_dense(self._rows(key))
        return torch.tensor(dense, dtype=torch.float32, device=self.device)

    def take(self, key: Any) -> SparseRows:
        """The rows ``key`` (indices or a slice), still sparse."""
        return SparseRows(self._rows(key), self.device)


#: Weights under this share of the largest count as none in :func:`row_counts`
#: (their ratio to it would overflow, and they weigh nothing beside it).
NEGLIGIBLE_WEIGHT = 1e-12


def row_counts(weight: np.ndarray) -> np.ndarray:
    """Rows' weights as counts of copies: each over the least positive one.

    A row of weight 2 beside rows of weight 1 counts as two rows, of weight
    0 as none; equal weights are all 1, exactly (whatever their scale).
    Weights under ``NEGLIGIBLE_WEIGHT`` of the largest count as 0.

    Examples
    --------
    >>> row_counts(np.array([0.5, 1.0, 0.0, 1e-300])).tolist()
    [1.0, 2.0, 0.0, 0.0]
    """
    weight = np.asarray(weight, dtype=np.float64)
    top = weight.max() if weight.size else 0.0
    kept = weight > top * NEGLIGIBLE_WEIGHT if top > 0 else weight > 0
    counts = np.zeros(weight.shape)
    if kept.any():
        counts[kept] = weight[kept] / weight[kept].min()
    return counts


def take_rows(data: Any, index: Any) -> Any:
    """Rows ``index`` of a training tensor, or of :class:`SparseRows` (sparse).

    Examples
    --------
    >>> take_rows(torch.arange(4), torch.tensor([3, 1])).tolist()
    [3, 1]
    """
    if isinstance(data, SparseRows):
        return data.take(index)
    return data[index]


def epochs_for_steps(
    steps: int,
    n_samples: int,
    batch_size: int,
    min_epochs: int = 1,
    max_epochs: int | None = None,
) -> int:
    """Epochs that give about ``steps`` optimisation steps, within the bounds.

    Examples
    --------
    >>> epochs_for_steps(1000, 1797, 100, min_epochs=50)
    56
    """
    steps_per_epoch = max(1, math.ceil(n_samples / batch_size))
    epochs = max(min_epochs, math.ceil(steps / steps_per_epoch))
    return epochs if max_epochs is None else min(epochs, max_epochs)


def check_n_samples(n_samples: Any) -> int:
    """A positive integer count of samples, or a clear error.

    Examples
    --------
    >>> check_n_samples(3)
    3
    """
    if not isinstance(n_samples, Integral) or isinstance(n_samples, bool):
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
    if n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
    return int(n_samples)
