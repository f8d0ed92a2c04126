"""The protocol every skvae torch module follows, and the records it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn


class ELBOTerms(NamedTuple):
    """Per-sample terms of a Gaussian-latent VAE's training objective.

    Every field keeps the batch dimension first and is not reduced; the trainer
    takes the means. ``loss`` is what is minimised; the others are logged.

    Examples
    --------
    >>> import torch
    >>> z = torch.zeros(3)
    >>> ELBOTerms(z, z, z, z[:, None], z[:, None], z[:, None]).loss.shape
    torch.Size([3])
    """

    loss: torch.Tensor  # (batch,) recon + beta * (KL with free bits)
    recon: torch.Tensor  # (batch,) -log p(x | z)
    kl: torch.Tensor  # (batch,) KL(q(z|x) || p(z)), summed over dimensions
    kl_per_dim: torch.Tensor  # (batch, n_components)
    mu: torch.Tensor  # (batch, n_components) posterior means, detached
    mu_sq: torch.Tensor  # (batch, n_components) squared posterior means, detached


@dataclass
class StepContext:
    """What a module needs from the training loop at one optimisation step.

    Attributes
    ----------
    beta : float
        Weight of the KL term at this step (after any warm-up schedule).
    free_bits : float
        Minimum KL in nats per latent dimension below which the KL of that
        dimension is not penalised (Kingma et al. 2016).
    generator : torch.Generator
        The private generator that all noise of this step is drawn from.
    warmup : float, default=1.0
        Progress of the warm-up schedule in [0, 1] (1 once it is over, and
        at evaluation); modules may ramp other terms in with it.
    capacity : float or None, default=None
        Target KL in nats of the capacity schedule (Burgess et al. 2018):
        the KL term becomes ``beta * |KL - capacity|``. None: no target.
    n_train : int, default=0
        Number of training rows (estimators of the aggregate posterior,
        e.g. the total correlation, need it); 0 when unknown.
    rows : torch.Tensor or None, default=None
        In distributed training, the positions of this rank's rows in the
        step's global batch of ``global_batch`` rows; :meth:`randn` then
        draws the global batch's noise and keeps these rows, so that every
        row gets the noise it would get in one process.
    global_batch : int, default=0
        Rows of the step's global batch (with ``rows``).

    Examples
    --------
    >>> import torch
    >>> StepContext(beta=0.5, free_bits=0.0, generator=torch.Generator()).beta
    0.5
    """

    beta: float
    free_bits: float
    generator: torch.Generator
    warmup: float = 1.0
    capacity: float | None = None
    n_train: int = 0
    rows: torch.Tensor | None = None
    global_batch: int = 0

    def randn(
        self, shape: tuple[int, ...], like: torch.Tensor, batch_dim: int = 0
    ) -> torch.Tensor:
        """Standard normal noise of ``shape`` (rows along ``batch_dim``).

        Drawn from :attr:`generator` on ``like``'s device and dtype; in
        distributed training, the rows of this rank (see ``rows``).
        """
        kwargs = dict(generator=self.generator, device=like.device, dtype=like.dtype)
        if self.rows is None:
            return torch.randn(shape, **kwargs)
        full = list(shape)
        full[batch_dim] = self.global_batch
        return torch.randn(full, **kwargs).index_select(batch_dim, self.rows)


class LatentModule(nn.Module):
    """Base class of skvae's torch modules (the contract the estimators use).

    Subclasses implement :meth:`forward` (training terms), :meth:`embed`
    (posterior mean), :meth:`decode_mean`, :meth:`log_likelihood`,
    :meth:`reconstruction_log_likelihood` and :meth:`sample`. ``n_latent`` is
    the width of :meth:`embed`'s output and ``noise_dim`` the width of the
    noise that :meth:`log_likelihood` takes.

    Examples
    --------
    >>> import torch
    >>> from skvae.nn.gaussian import GaussianVAEModule
    >>> from skvae.nn import GaussianLikelihood
    >>> module = GaussianVAEModule(3, 2, (8,), "relu", GaussianLikelihood(3))
    >>> isinstance(module, LatentModule), module.n_latent
    (True, 2)
    """

    n_latent: int
    noise_dim: int
    #: Whether the training step is safe under bfloat16 autocast (the
    #: networks' outputs are cast to float32 before the loss's sums).
    supports_autocast: bool = False

    def accept_missing(self) -> None:
        """Let rows with missing entries (NaN) in: the encoder sees them as 0.

        The likelihood, built with ``missing=True``, leaves them out of the
        loss. Modules whose data enters elsewhere than ``encoder`` override
        this.
        """
        from skvae.nn.networks import FillMissing

        self.encoder = nn.Sequential(FillMissing(), self.encoder)

    def forward(self, x: torch.Tensor, ctx: StepContext) -> NamedTuple:
        """Return per-sample training terms with at least a ``loss`` field."""
        raise NotImplementedError

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Return the deterministic latent representation of ``x``."""
        raise NotImplementedError

    def decode_mean(self, z: torch.Tensor) -> torch.Tensor:
        """Return the mean of p(x | z)."""
        raise NotImplementedError

    def log_likelihood(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Return a per-row estimate of log p(x) using the noise draws ``eps``."""
        raise NotImplementedError

    def reconstruction_log_likelihood(
        self, x: torch.Tensor, eps: torch.Tensor
    ) -> torch.Tensor:
        """Return the per-row mean of log p(x | z) over posterior draws."""
        raise NotImplementedError

    def sample(self, n_samples: int, generator: torch.Generator) -> torch.Tensor:
        """Return the decoder means of ``n_samples`` latents drawn from the prior."""
        raise NotImplementedError
