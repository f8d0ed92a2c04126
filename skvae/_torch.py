"""Device choice, seeding and the numpy <-> torch converters (one place)."""

from __future__ import annotations

import os

import numpy as np
import torch


def resolve_device(device: str | torch.device) -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` into a device.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` picks CUDA when it is available, else the CPU.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If the name is not a device, or CUDA is asked for but not available.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, str) and device == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        # under torchrun each rank takes the GPU of its local rank
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu' or 'cuda'."
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available; "
            "use device='auto' or 'cpu'."
        )
    if resolved.type not in ("cpu", "cuda", "mps"):
        raise ValueError(
            f"device={device!r} is not supported; use 'auto', 'cpu' or 'cuda'."
        )
    return resolved


def to_tensor(X: np.ndarray, device: torch.device) -> torch.Tensor:
    """Copy an array to a float32 tensor on ``device`` (never shares memory).

    Examples
    --------
    >>> to_tensor(np.zeros((2, 3)), torch.device("cpu")).dtype
    torch.float32
    """
    return torch.tensor(np.asarray(X), dtype=torch.float32, device=device)


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


def make_generator(seed: int, stream: int, device: torch.device) -> torch.Generator:
    """A private torch generator for one purpose (``stream``) of a fit.

    Examples
    --------
    >>> g = make_generator(0, 1, torch.device("cpu"))
    >>> torch.randn(1, generator=g).shape
    torch.Size([1])
    """
    sub = np.random.SeedSequence([seed, stream]).generate_state(1)[0]
    return torch.Generator(device=device).manual_seed(int(sub))


def distributed_world() -> tuple[int, int] | None:
    """(rank, world size) when this process is one of several training ranks.

    A process group already initialised is used as it is; a launch by
    ``torchrun`` (``WORLD_SIZE`` > 1 and ``MASTER_ADDR`` in the environment)
    initialises one, with NCCL on GPUs and gloo on CPUs. ``SKVAE_DISTRIBUTED=0``
    turns the detection off. None for a single process.

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
        if torch.cuda.is_available():  # NCCL: one GPU per rank, set first
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    world = dist.get_world_size()
    return (dist.get_rank(), world) if world > 1 else None


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
