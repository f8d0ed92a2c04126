"""Device choice, seeding and the numpy <-> torch converters (one place)."""

from __future__ import annotations

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
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
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
