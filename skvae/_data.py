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

    Examples
    --------
    >>> [b.shape[0] for b in blocks(np.zeros((5, 2)), 2)]
    [2, 2, 1]
    """
    n_rows = int(X.shape[0])
    if n_rows == 0:
        raise ValueError("Found array with 0 sample(s) (shape=(0, ...)).")
    for start in range(0, n_rows, rows):
        block = X[start : start + rows]
        if hasattr(block, "compute"):  # dask
            block = block.compute()
        yield np.asarray(block)


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
