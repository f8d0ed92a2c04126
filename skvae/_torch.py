"""Device choice, seeding, threads and the numpy <-> torch converters (one place)."""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
import warnings
from enum import IntEnum
from typing import Any

import numpy as np
import torch


def resolve_device(device: str | torch.device) -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"`` into a device.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` picks CUDA when it is available (under ``torchrun``, the
        GPU of the process's local rank), else Apple's MPS when it is
        available, else the CPU.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If the name is not a device, or CUDA or MPS is asked for but not
        available.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, str) and device == "auto":
        if torch.cuda.is_available():
            # under torchrun each rank takes the GPU of its local rank
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu', 'cuda' "
            "or 'mps'."
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available; "
            "use device='auto' or 'cpu'."
        )
    if resolved.type == "mps" and not _mps_available():
        raise ValueError(
            f"device={device!r} was requested but MPS (Apple GPUs) is not "
            "available; use device='auto' or 'cpu'."
        )
    if resolved.type not in ("cpu", "cuda", "mps"):
        raise ValueError(
            f"device={device!r} is not supported; use 'auto', 'cpu', 'cuda' or 'mps'."
        )
    return resolved


def _mps_available() -> bool:
    """Whether Apple's Metal backend (MPS) can run tensors here."""
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def device_name(device: torch.device) -> str:
    """The name of a device as a fitted model reports it (``device_``).

    A CUDA device without an index is named by the GPU torch uses for it.

    Examples
    --------
    >>> device_name(torch.device("cpu"))
    'cpu'
    """
    if device.type == "cuda" and device.index is None:
        return f"cuda:{torch.cuda.current_device()}"
    return str(device)


def to_tensor(X: np.ndarray, device: torch.device) -> torch.Tensor:
    """Copy an array to a float32 tensor on ``device`` (never shares memory).

    Examples
    --------
    >>> to_tensor(np.zeros((2, 3)), torch.device("cpu")).dtype
    torch.float32
    """
    return torch.tensor(np.ascontiguousarray(X), dtype=torch.float32, device=device)


def to_numpy(t: torch.Tensor, dtype: np.dtype | type = np.float64) -> np.ndarray:
    """Copy a tensor to a numpy array of ``dtype`` on the host.

    Examples
    --------
    >>> to_numpy(torch.zeros(2), np.float32).dtype
    dtype('float32')
    """
    return t.detach().to("cpu", torch.float32).numpy().astype(dtype, copy=False)


def draw_seed(random_state: int | np.random.RandomState | None) -> int:
    """Draw the base seed of a fit from ``random_state``.

    ``None`` takes fresh entropy from the operating system, so the global numpy
    state is left untouched; an int or a ``RandomState`` gives a reproducible
    seed.

    Examples
    --------
    >>> draw_seed(0) == draw_seed(0)
    True
    """
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(np.iinfo(np.int32).max))
    return int(np.random.SeedSequence(int(random_state)).generate_state(1)[0])


class Stream(IntEnum):
    """The named random streams of a fit, each derived from its base seed.

    Every random number a fit, a scoring or an imputation draws comes from one
    of these streams, through :func:`spawn`; two streams (or two ``ids`` of
    one stream) never share their draws.

    Examples
    --------
    >>> int(Stream.TRAIN), int(Stream.SCORE)
    (0, 2)
    """

    TRAIN = 0  # batch order and noise of each training epoch (id: the epoch)
    VALID = 1  # noise of the validation loss (the same at every epoch)
    SCORE = 2  # fixed draws of score_samples and the reconstruction score
    IMPUTE = 3  # draws of multiple imputation
    SPLIT = 4  # the early-stopping validation split
    INIT = 5  # data-dependent initialisation (pseudo-inputs, mixture starts)
    PRETRAIN = 6  # a pretraining phase's epochs (VaDE's autoencoder)
    PRETRAIN_VALID = 7  # its validation noise
    PRIOR = 8  # a learnt prior's epochs (VQ models' PixelCNN; id: its level)
    PRIOR_VALID = 9  # its validation noise
    SAMPLE = 10  # sample(): latents drawn from the prior
    NOISE = 11  # other noise of a model's own (e.g. a bandwidth estimate)
    USER = 12  # user networks' own draws in training (dropout; id: first epoch)


def spawn(seed: int, stream: Stream, *ids: int) -> int:
    """The seed of one random stream of a fit: one derivation for all streams.

    Parameters
    ----------
    seed : int
        The fit's base seed (:func:`draw_seed`).
    stream : Stream
        The purpose of the draws.
    *ids : int
        Sub-stream numbers (an epoch, a level).

    Returns
    -------
    int
        A seed in ``[0, 2**32)``, usable by numpy, torch and scikit-learn.

    Examples
    --------
    >>> spawn(0, Stream.TRAIN, 3) == spawn(0, Stream.TRAIN, 3)
    True
    >>> spawn(0, Stream.TRAIN, 3) != spawn(0, Stream.VALID, 3)
    True
    """
    entropy = [int(seed), int(stream), *(int(i) for i in ids)]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def make_generator(
    seed: int, stream: Stream, *ids: int, device: torch.device | str = "cpu"
) -> torch.Generator:
    """A private torch generator for one stream of a fit (see :func:`spawn`).

    Examples
    --------
    >>> g = make_generator(0, Stream.VALID, device=torch.device("cpu"))
    >>> torch.randn(1, generator=g).shape
    torch.Size([1])
    """
    return torch.Generator(device=device).manual_seed(spawn(seed, stream, *ids))


#: Held while a module is built: weight initialisation (torch's own, and any
#: user network's) draws from torch's global generator, which threads share.
BUILD_LOCK = threading.RLock()


@contextlib.contextmanager
def seeded_global_generator(seed: int, device: torch.device | None = None):
    """Run with torch's global CPU generator seeded, under :data:`BUILD_LOCK`.

    With a CUDA ``device``, that device's global generator too.

    The generator's state is restored before the lock is released, so code
    outside the block (another thread's fit, the caller's own draws) never
    sees the seeded state, and concurrent builds cannot interleave their
    draws. Everything else in skvae draws from private generators.

    Examples
    --------
    >>> before = torch.get_rng_state()
    >>> with seeded_global_generator(0):
    ...     a = torch.rand(2)
    >>> with seeded_global_generator(0):
    ...     b = torch.rand(2)
    >>> bool(torch.equal(a, b)), bool(torch.equal(before, torch.get_rng_state()))
    (True, True)
    """
    with BUILD_LOCK:
        state = torch.default_generator.get_state()
        torch.default_generator.manual_seed(int(seed))
        cuda = device is not None and device.type == "cuda"
        if cuda:  # a user network's dropout on the GPU draws from its generator
            cuda_state = torch.cuda.get_rng_state(device)
            with torch.cuda.device(device):
                torch.cuda.manual_seed(int(seed))
        try:
            yield
        finally:
            torch.default_generator.set_state(state)
            if cuda:
                torch.cuda.set_rng_state(cuda_state, device)


def make_rng(seed: int, stream: Stream, *ids: int) -> np.random.Generator:
    """A private numpy generator for one stream of a fit (see :func:`spawn`).

    Examples
    --------
    >>> a, b = make_rng(0, Stream.INIT), make_rng(0, Stream.INIT)
    >>> bool(a.integers(10) == b.integers(10))
    True
    """
    return np.random.default_rng(spawn(seed, stream, *ids))


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser (Steele et al. 2014) on uint64 arrays, wrapping."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _column_multipliers(width: int) -> np.ndarray:
    """Fixed odd 64-bit multipliers, one a column, for :func:`_value_keys`."""
    with np.errstate(over="ignore"):
        columns = _GOLDEN * np.arange(1, width + 1, dtype=np.uint64)
        return _mix64(columns) | np.uint64(1)


def _value_keys(values: np.ndarray) -> np.ndarray:
    """A 64-bit key of each row of the float array ``values``, from its bits.

    Equal rows (-0.0 as 0.0, every NaN as one) have equal keys; other rows,
    keys equal only by chance. A sum over the columns of each value's bits
    (the high halves folded onto the low ones) times the column's odd
    multiplier, modulo 2**64: exact in any order, and in blocks of rows
    (temporaries of about 8 MB).
    """
    n, width = values.shape
    keys = np.zeros(n, dtype=np.uint64)
    multipliers = _column_multipliers(width)
    unsigned = np.uint32 if values.dtype == np.float32 else np.uint64
    step = max(1, 2**20 // max(width, 1))
    with np.errstate(over="ignore"):
        for start in range(0, n, step):
            block = values[start : start + step] + values.dtype.type(0.0)  # -0.0
            nan = np.isnan(block)
            if nan.any():
                block[nan] = np.nan
            bits = block.view(unsigned).astype(np.uint64)
            if unsigned is np.uint64:
                bits ^= bits >> np.uint64(32)
            # round numbers' bits end in zeros, which a product keeps: fold
            # the exponent and the mantissa's top onto them
            bits ^= bits >> np.uint64(16)
            bits *= multipliers
            keys[start : start + step] = bits.sum(axis=1, dtype=np.uint64)
    return keys


def tensor_row_keys(x: torch.Tensor) -> np.ndarray:
    """:func:`_value_keys` of the rows of a tensor (any device; integers as floats).

    Examples
    --------
    >>> keys = tensor_row_keys(torch.tensor([[1, 2], [1, 2], [2, 1]]))
    >>> bool(keys[0] == keys[1]), bool(keys[0] == keys[2])
    (True, False)
    """
    flat = x.detach().reshape(x.shape[0], -1)
    if flat.dtype not in (torch.float32, torch.float64):
        flat = flat.to(torch.float64)
    return _value_keys(flat.cpu().numpy())


def row_noise(x: torch.Tensor, k: int, d: int, seed: int) -> torch.Tensor:
    """``k`` standard normal draws of width ``d`` for each row, from its values.

    The draws of a row are a function of the row's values (as the module
    reads them) and ``seed`` alone, so a row's score does not depend on the
    other rows or on how they are batched, while different rows get
    independent draws: the errors of single-draw estimates average out over
    rows, where draws shared by every row would move all the scores together.
    Rows that are equal (NaN at the same places) get the same draws.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, ...)
        The rows.
    k : int
        Draws per row.
    d : int
        Width of each draw.
    seed : int
        Seed of the draws (:func:`spawn` of the scoring stream).

    Returns
    -------
    torch.Tensor of shape (k, batch, d)
        On ``x``'s device, in its dtype.

    Examples
    --------
    >>> x = torch.tensor([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0]])
    >>> eps = row_noise(x, k=2, d=3, seed=0)
    >>> eps.shape
    torch.Size([2, 3, 3])
    >>> bool(torch.equal(eps[:, 0], eps[:, 2])), bool(torch.equal(eps[:, 0], eps[:, 1]))
    (True, False)
    >>> bool(torch.equal(row_noise(x[1:2], 2, 3, 0)[:, 0], eps[:, 1]))
    True
    >>> row_noise(x, 2, 0, 0).shape
    torch.Size([2, 3, 0])
    """
    if k * d == 0 or x.shape[0] == 0:
        return x.new_zeros((k, x.shape[0], d))
    key = tensor_row_keys(x)
    from scipy.special import ndtri

    with np.errstate(over="ignore"):
        key = _mix64(key ^ _mix64(np.uint64(seed) + _GOLDEN))
        counters = key[:, None] + _GOLDEN * np.arange(1, k * d + 1, dtype=np.uint64)
        top = (_mix64(counters) >> np.uint64(11)).astype(np.float64)
    draws = ndtri((top + 0.5) * 2.0**-53).reshape(-1, k, d).transpose(1, 0, 2)
    return torch.from_numpy(np.ascontiguousarray(draws)).to(x.device, x.dtype)


def distributed_world() -> tuple[int, int] | None:
    """(rank, world size) when this process is one of several training ranks.

    A process group already initialised is used as it is; a launch by
    ``torchrun`` (``WORLD_SIZE`` > 1 and ``MASTER_ADDR`` in the environment)
    initialises one, with NCCL on GPUs and gloo on CPUs, except in a joblib
    or Dask worker (a parallel search's fits are single processes).
    ``SKVAE_DISTRIBUTED=0`` turns the detection off. None for a single
    process.

    Examples
    --------
    >>> distributed_world() is None
    True
    """
    import torch.distributed as dist

    if not dist.is_available() or os.environ.get("SKVAE_DISTRIBUTED") == "0":
        return None
    if not dist.is_initialized():
        if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or (
            "MASTER_ADDR" not in os.environ
        ):
            return None
        if in_worker():
            # a joblib or Dask worker of a torchrun rank inherits its
            # environment, but is no rank: workers of different ranks would
            # join one group and train their unrelated fits as one
            return None
        if torch.cuda.is_available():  # NCCL: one GPU per rank, set first
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        # The group is ours: tear it down before the interpreter exits, or
        # the backend's threads can abort the process at exit ("terminate
        # called without an active exception").
        atexit.register(_destroy_process_group)
    world = dist.get_world_size()
    return (dist.get_rank(), world) if world > 1 else None


def _destroy_process_group() -> None:
    """Destroy the default process group if it is still up (at exit).

    Ranks leave together, through a barrier: rank 0 hosts the rendezvous
    store, and closing it under a rank still connected (or a rank leaving
    while rank 0 closes it) could abort the process at exit. A rank that is
    exiting on an unhandled exception skips the barrier, so that the others
    see it gone rather than wait for it.
    """
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return
    if getattr(sys, "last_value", None) is None:
        with contextlib.suppress(RuntimeError):
            dist.barrier()
    dist.destroy_process_group()


def broadcast_seed(seed: int) -> int:
    """Rank 0's seed on every rank (a no-op for a single process).

    Examples
    --------
    >>> broadcast_seed(7)
    7
    """
    if distributed_world() is None:
        return seed
    import torch.distributed as dist

    box = [seed]
    dist.broadcast_object_list(box, src=0)
    return int(box[0])


def resolve_load_device(device: Any) -> torch.device:
    """Device for a loaded or unpickled model: the requested one, else the CPU.

    Examples
    --------
    >>> resolve_load_device("cpu")
    device(type='cpu')
    """
    try:
        return resolve_device(device)
    except ValueError:
        warnings.warn(
            f"device={device!r} is not available here; the model is loaded on the CPU.",
            UserWarning,
            stacklevel=3,
        )
        return torch.device("cpu")


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """bfloat16 when asked, or on "auto" for CUDA devices that support it.

    Examples
    --------
    >>> autocast_dtype("auto", torch.device("cpu")) is None
    True
    """
    if precision == "bfloat16":
        return torch.bfloat16
    if precision == "auto" and device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None


def adam(
    params: list[torch.nn.Parameter],
    lr: float,
    betas: tuple[float, float] = (0.9, 0.999),
) -> torch.optim.Optimizer:
    """Adam, fused where the device supports it (one kernel for all tensors).

    Examples
    --------
    >>> adam([torch.nn.Parameter(torch.zeros(2))], 1e-3).defaults["lr"]
    0.001
    """
    try:
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
    except (RuntimeError, TypeError, ValueError):  # fused unsupported here
        return torch.optim.Adam(params, lr=lr, betas=betas)


def to_cpu(obj: Any) -> Any:
    """Tensors in nested dicts and lists copied to the CPU (e.g. optimiser state).

    Examples
    --------
    >>> to_cpu({"a": [torch.zeros(1)]})["a"][0].device
    device(type='cpu')
    """
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu")
    if isinstance(obj, dict):
        return {k: to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_cpu(v) for v in obj]
    return obj


def in_worker() -> bool:
    """Whether this process is a joblib (loky) or Dask worker.

    Examples
    --------
    >>> in_worker()
    False
    """
    import multiprocessing

    name = multiprocessing.current_process().name
    if name.startswith("LokyProcess") or name.startswith("Dask Worker"):
        return True
    if "distributed" not in sys.modules:  # a Dask worker has imported it
        return False
    try:
        from distributed import get_worker

        get_worker()
        return True
    except (ImportError, ValueError):
        return False


def worker_threads(in_worker: bool) -> int | None:
    """Torch threads for a fit: ``SKVAE_NUM_THREADS``, else 1 in a worker.

    Parallel searches run one fit per worker: with every worker using every
    core, the workers oversubscribe the machine and PyTorch slows down many
    times. None: leave torch's setting alone.

    Examples
    --------
    >>> worker_threads(in_worker=True) >= 1
    True
    """
    value = os.environ.get("SKVAE_NUM_THREADS")
    if value:
        try:
            n = int(value)
        except ValueError:
            raise ValueError(
                f"SKVAE_NUM_THREADS must be a positive integer, got {value!r}."
            ) from None
        if n < 1:
            raise ValueError(f"SKVAE_NUM_THREADS must be >= 1, got {n}.")
        return n
    return 1 if in_worker else None


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Run with ``n`` torch threads (None: unchanged), restoring them after.

    Examples
    --------
    >>> with torch_threads(None):
    ...     pass
    """
    if n is None or n == torch.get_num_threads():
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
