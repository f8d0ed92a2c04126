"""Observation models p(x | z): each turns decoder outputs into log-densities."""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

_LOG_2PI = math.log(2.0 * math.pi)


def _distributed() -> bool:
    """Whether this process trains as one of several ranks.

    The same rule as the training loop's (``skvae._torch.distributed_world``):
    an initialised process group of several ranks, unless
    ``SKVAE_DISTRIBUTED=0`` turns distributed training off.
    """
    dist = torch.distributed
    if os.environ.get("SKVAE_DISTRIBUTED") == "0" or not dist.is_available():
        return False
    return dist.is_initialized() and dist.get_world_size() > 1


#: The generator that :meth:`Likelihood.output` draws from (None: it gives
#: the mean). A context variable, so threads that sample never mix.
_DRAW: contextvars.ContextVar[torch.Generator | None] = contextvars.ContextVar(
    "skvae_likelihood_draw", default=None
)


@contextlib.contextmanager
def drawing(generator: torch.Generator | None) -> Iterator[None]:
    """Within the block, decoders draw from p(x | z) instead of giving its mean.

    Every :meth:`Likelihood.output` call in the block (the decoders'
    ``decode_mean``, hence the modules' ``sample``) returns
    :meth:`Likelihood.sample` drawn from ``generator``; ``None`` leaves
    the means.

    Parameters
    ----------
    generator : torch.Generator or None
        Source of the draws.

    Examples
    --------
    >>> import torch
    >>> lik = BernoulliLikelihood(3)
    >>> logits = torch.zeros(2, 3)
    >>> lik.output(logits)
    tensor([[0.5000, 0.5000, 0.5000],
            [0.5000, 0.5000, 0.5000]])
    >>> with drawing(torch.Generator().manual_seed(0)):
    ...     draws = lik.output(logits)
    >>> sorted(set(draws.flatten().tolist())) <= [0.0, 1.0]
    True
    """
    token = _DRAW.set(generator)
    try:
        yield
    finally:
        _DRAW.reset(token)


#: The weights of the training batch's rows (None: each weighs 1), for the
#: statistics that modules learn from batches outside the gradient (the
#: Gaussian variance, batch normalisation). A context variable, as _DRAW.
_ROW_WEIGHTS: contextvars.ContextVar[torch.Tensor | None] = contextvars.ContextVar(
    "skvae_row_weights", default=None
)


@contextlib.contextmanager
def weighting(
    weight: torch.Tensor | None, *, equal_as_none: bool = True
) -> Iterator[None]:
    """Weigh the rows of the training batch in statistics learnt from it.

    The loss is a weighted mean over rows, so a row of weight 0 must count as
    no row everywhere, also in what modules learn from a batch in closed form:
    :class:`GaussianLikelihood`'s variance and
    :class:`~skvae.nn.networks.FeatureBatchNorm`'s statistics. Within this
    context they weigh the batch's rows by ``weight`` (one per row, along the
    axis before the features). Equal weights change nothing, and are taken
    as none: the statistics are then exactly the unweighted ones.

    Parameters
    ----------
    weight : torch.Tensor of shape (batch,) or None
        Non-negative weights of the batch's rows; None: every row weighs 1.
    equal_as_none : bool, default=True
        Take equal weights as none (a check that syncs with the device).
        The trainer decides once a fit and passes False.

    Examples
    --------
    >>> import torch
    >>> lik = GaussianLikelihood(1).train()
    >>> x, mean = torch.tensor([[1.0], [100.0]]), torch.zeros(2, 1)
    >>> with weighting(torch.tensor([1.0, 0.0])):
    ...     _ = lik.log_prob(x, mean)
    >>> lik.variance
    tensor([1.])
    """
    if equal_as_none and weight is not None and bool((weight == weight[0]).all()):
        weight = None
    token = _ROW_WEIGHTS.set(weight)
    try:
        yield
    finally:
        _ROW_WEIGHTS.reset(token)


def row_weights(shape: torch.Size) -> torch.Tensor | None:
    """The weights of :func:`weighting` shaped to broadcast over ``shape``.

    ``shape`` is ``(..., batch, width)``: the weights are ``(batch, 1)``.
    None outside :func:`weighting`, with equal weights, or when ``shape``'s
    rows are not the batch's (a module's subset of the rows, whose weights
    it does not pass): such statistics stay unweighted.

    Examples
    --------
    >>> import torch
    >>> row_weights(torch.Size([4, 3])) is None
    True
    >>> with weighting(torch.tensor([1.0, 2.0])):
    ...     row_weights(torch.Size([5, 2, 3])).shape
    torch.Size([2, 1])
    """
    weight = _ROW_WEIGHTS.get()
    if weight is None or len(shape) < 2 or shape[-2] != weight.shape[0]:
        return None
    return weight[:, None]


class Likelihood(nn.Module):
    """Base class: a distribution over a row of features given decoder outputs.

    ``n_params`` is the width the decoder must output for ``n_features``.
    With ``missing`` true, NaN entries of ``x`` are missing: they are left
    out of :meth:`log_prob` (the likelihood of the observed entries, as in
    MIWAE, Mattei & Frellsen 2019).

    Examples
    --------
    >>> isinstance(BernoulliLikelihood(4), Likelihood)
    True
    """

    n_params: int
    missing: bool = False

    def log_prob(
        self, x: torch.Tensor, params: torch.Tensor, update: bool = True
    ) -> torch.Tensor:
        """Log-likelihood of rows ``x`` summed over features, ``x.shape[:-1]``.

        Likelihoods with statistics learnt in training mode update them unless
        ``update`` is false. Missing entries (NaN, with ``missing``) count 0.
        """
        observed = None
        if self.missing:
            observed = ~torch.isnan(x)
            x = torch.nan_to_num(x, nan=0.0)
        if self.training and update:
            self._update(x, params.detach(), observed)
        elements = self.log_prob_elements(x, params)
        if observed is not None:
            elements = elements * observed
        return elements.sum(-1)

    def log_prob_elements(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Log-likelihood of each entry, ``broadcast(x, mean).shape``."""
        raise NotImplementedError

    def _update(
        self, x: torch.Tensor, params: torch.Tensor, observed: torch.Tensor | None
    ) -> None:
        """Update statistics learnt in closed form (none by default)."""

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        """The mean of the distribution, shape ``(..., n_features)``."""
        raise NotImplementedError

    def expectation(self, params: torch.Tensor) -> torch.Tensor:
        """The expected value of each feature (what imputation averages)."""
        return self.mean(params)

    def point(self, params: torch.Tensor) -> torch.Tensor:
        """A value of each feature's own type (0/1, one-hot, counts): the mode."""
        return self.mean(params)

    def sample(self, params: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Draw one value of every feature from p(x | params)."""
        raise NotImplementedError

    def given(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """``params`` of p(x_missing | x_observed, z): what imputation reads.

        The same as ``params`` where features are independent given the
        decoder's output; a one-hot group with some columns observed rules
        categories out (:meth:`CategoricalLikelihood.given`).
        """
        return params

    def output(self, params: torch.Tensor) -> torch.Tensor:
        """What a decoder returns: :meth:`mean`, or a draw within :func:`drawing`."""
        generator = _DRAW.get()
        if generator is None:
            return self.mean(params)
        return self.sample(params, generator)


class GaussianLikelihood(Likelihood):
    """Gaussian with a mean from the decoder and a learned per-feature variance.

    The variance of each feature is learned in closed form: in training mode
    every call moves it towards the batch's mean squared residual (its
    maximum-likelihood value given the decoder) by an exponential moving
    average, as the calibrated decoders of Rybkin et al. (2021) do. Learned by
    gradient steps it moves too slowly: a variance stuck near its initial value
    down-weights the reconstruction and lets the posterior collapse.

    Parameters
    ----------
    n_features : int
        Number of features.
    min_variance : float, default=1e-4
        Floor on the variance, so that constant features cannot drive the
        log-likelihood to infinity.
    momentum : float, default=0.1
        Weight of the newest batch in the moving average.
    missing : bool, default=False
        Treat NaN entries as missing.

    Examples
    --------
    >>> import torch
    >>> lik = GaussianLikelihood(3)
    >>> lik.log_prob(torch.zeros(2, 3), torch.zeros(2, 3)).shape
    torch.Size([2])
    """

    def __init__(
        self,
        n_features: int,
        min_variance: float = 1e-4,
        momentum: float = 0.1,
        missing: bool = False,
    ) -> None:
        super().__init__()
        self.n_params = n_features
        self.min_variance = min_variance
        self.momentum = momentum
        self.missing = missing
        self.register_buffer("variance", torch.ones(n_features))
        self.register_buffer("n_updates", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def _update(
        self, x: torch.Tensor, params: torch.Tensor, observed: torch.Tensor | None
    ) -> None:
        residual = (x - params).square()
        rows = row_weights(residual.shape)
        if rows is not None:  # rows of weight w count w times (0: not at all)
            rows = rows.to(residual.dtype)
            observed = rows if observed is None else observed * rows
        shape = residual.shape
        residual = residual.reshape(-1, self.n_params)
        if observed is None:
            total = residual.sum(0)
            seen = torch.full_like(total, residual.shape[0])
        else:
            weight = observed.expand(*shape).reshape(-1, self.n_params)
            total, seen = (residual * weight).sum(0), weight.sum(0).to(residual.dtype)
        if _distributed():  # every rank's rows: the variance of the global batch
            both = torch.stack([total, seen])
            torch.distributed.all_reduce(both)
            total, seen = both[0], both[1]
        mse = torch.where(seen > 0, total / seen.clamp_min(1), self.variance)
        # The first batch sets the variance; later ones are averaged in.
        weight = torch.where(self.n_updates > 0, self.momentum, 1.0)
        self.variance.lerp_(mse.clamp_min(self.min_variance), weight)
        self.n_updates += 1

    def log_prob(
        self, x: torch.Tensor, params: torch.Tensor, update: bool = True
    ) -> torch.Tensor:
        """Log-likelihood of rows ``x``, summed over (observed) features.

        In training mode the variance moves towards this batch's residuals
        unless ``update`` is false (for decodings of hypothetical labels).
        """
        if self.missing:
            return super().log_prob(x, params, update)
        if self.training and update:
            self._update(x, params.detach(), None)
        var = self.variance
        if not torch.is_grad_enabled() or not (x.requires_grad or params.requires_grad):
            return self._scored(x, params)
        return -0.5 * ((x - params).square() / var + var.log() + _LOG_2PI).sum(-1)

    def _scored(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """:meth:`log_prob` without gradients, in one temporary.

        The residuals are squared in place and weighted by ``1 / variance``
        in one matrix-vector product, and the constant ``sum(log variance) +
        d log(2 pi)`` is added once per row rather than once per entry: the
        same value to float rounding, with one temporary of ``x``'s
        broadcast shape instead of five (scoring many draws of wide rows
        spent most of its time writing them).
        """
        var = self.variance
        shape = torch.broadcast_shapes(params.shape, x.shape)
        if params.dtype != var.dtype or x.dtype != var.dtype or shape[-1] != len(var):
            return -0.5 * ((x - params).square() / var + var.log() + _LOG_2PI).sum(-1)
        # the rows broadcast explicitly: torch's implicit broadcast of the
        # second operand took over twice as long on wide rows
        diff = torch.sub(*torch.broadcast_tensors(params, x))
        diff.square_()
        constant = var.log().sum() + var.shape[0] * _LOG_2PI
        return -0.5 * (diff @ var.reciprocal() + constant)

    def log_prob_elements(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Per-entry Gaussian log-density."""
        var = self.variance
        return -0.5 * ((x - params).square() / var + var.log() + _LOG_2PI)

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        """The decoder output is the mean."""
        return params

    def sample(self, params: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Mean plus Gaussian noise of the learned variance."""
        noise = torch.randn(
            params.shape, generator=generator, device=params.device, dtype=params.dtype
        )
        return params + self.variance.sqrt() * noise


class BernoulliLikelihood(Likelihood):
    """Bernoulli for data in [0, 1] (binary, or pixel intensities); logits in.

    Parameters
    ----------
    n_features : int
        Number of features.
    missing : bool, default=False
        Treat NaN entries as missing.

    Examples
    --------
    >>> import torch
    >>> lik = BernoulliLikelihood(3)
    >>> lik.mean(torch.zeros(2, 3))
    tensor([[0.5000, 0.5000, 0.5000],
            [0.5000, 0.5000, 0.5000]])
    """

    def __init__(self, n_features: int, missing: bool = False) -> None:
        super().__init__()
        self.n_params = n_features
        self.missing = missing

    def log_prob(
        self, x: torch.Tensor, params: torch.Tensor, update: bool = True
    ) -> torch.Tensor:
        """Negative binary cross-entropy with logits, summed over features."""
        if self.missing:
            return super().log_prob(x, params, update)
        return self.log_prob_elements(x, params).sum(-1)

    def log_prob_elements(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Per-entry negative binary cross-entropy."""
        x = x.expand_as(params)
        return -F.binary_cross_entropy_with_logits(params, x, reduction="none")

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        """Success probabilities."""
        return torch.sigmoid(params)

    def point(self, params: torch.Tensor) -> torch.Tensor:
        """0 or 1, whichever is more probable."""
        return (params > 0).to(params.dtype)

    def sample(self, params: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Bernoulli draws."""
        return torch.bernoulli(torch.sigmoid(params), generator=generator)


def _clamp_log_rate(params: torch.Tensor) -> torch.Tensor:
    """A log-rate within [-20, 20] whose gradient passes the bounds.

    The value is ``params.clamp(-20, 20)``; its gradient is that of the
    clamped value, also where ``params`` lies past a bound, so that a
    decoder whose output overshoots is pulled back (a plain clamp's gradient
    there is 0, and the column stayed decoded as 0 or e**20 for good).

    Examples
    --------
    >>> p = torch.tensor([25.0, 3.0], requires_grad=True)
    >>> v = _clamp_log_rate(p)
    >>> v.detach().tolist(), torch.autograd.grad(v.sum(), p)[0].tolist()
    ([20.0, 3.0], [1.0, 1.0])
    """
    return params + (params.clamp(-20.0, 20.0) - params).detach()


class PoissonLikelihood(Likelihood):
    """Poisson for counts; the decoder outputs the log-rate.

    Parameters
    ----------
    n_features : int
        Number of features.
    missing : bool, default=False
        Treat NaN entries as missing.

    Examples
    --------
    >>> import torch
    >>> lik = PoissonLikelihood(2)
    >>> lik.log_prob(torch.tensor([[0.0, 3.0]]), torch.zeros(1, 2)).shape
    torch.Size([1])
    >>> lik.point(torch.log(torch.tensor([[2.5, 0.2]])))
    tensor([[2., 0.]])
    """

    def __init__(self, n_features: int, missing: bool = False) -> None:
        super().__init__()
        self.n_params = n_features
        self.missing = missing

    def log_prob_elements(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Per-entry Poisson log-probability."""
        log_rate = _clamp_log_rate(params)
        return x * log_rate - log_rate.exp() - torch.lgamma(x + 1.0)

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        """The rate."""
        return params.clamp(-20.0, 20.0).exp()

    def point(self, params: torch.Tensor) -> torch.Tensor:
        """The mode, floor(rate): a non-negative integer."""
        return torch.floor(self.mean(params))

    def sample(self, params: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Poisson draws."""
        return torch.poisson(self.mean(params), generator=generator)


class NegativeBinomialLikelihood(Likelihood):
    """Negative binomial for overdispersed counts: a log-mean from the decoder.

    Each feature has a learned dispersion r (its inverse controls the extra
    variance: Var = mu + mu^2 / r); as r grows it tends to the Poisson.

    Parameters
    ----------
    n_features : int
        Number of features.
    missing : bool, default=False
        Treat NaN entries as missing.

    Examples
    --------
    >>> import torch
    >>> lik = NegativeBinomialLikelihood(2)
    >>> lik.log_prob(torch.tensor([[0.0, 7.0]]), torch.zeros(1, 2)).shape
    torch.Size([1])
    """

    def __init__(self, n_features: int, missing: bool = False) -> None:
        super().__init__()
        self.n_params = n_features
        self.missing = missing
        self.log_dispersion = nn.Parameter(torch.zeros(n_features))

    def log_prob_elements(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Per-entry negative binomial log-probability."""
        log_mu = _clamp_log_rate(params)
        r = self.log_dispersion.clamp(-10.0, 10.0).exp()
        log_r_mu = torch.logaddexp(r.log(), log_mu)  # log(r + mu)
        return (
            torch.lgamma(x + r)
            - torch.lgamma(r)
            - torch.lgamma(x + 1.0)
            + r * (r.log() - log_r_mu)
            + x * (log_mu - log_r_mu)
        )

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        """The mean mu."""
        return params.clamp(-20.0, 20.0).exp()

    def point(self, params: torch.Tensor) -> torch.Tensor:
        """The mode, floor(mu (r - 1) / r) for r > 1, else 0."""
        r = self.log_dispersion.clamp(-10.0, 10.0).exp()
        return torch.floor((self.mean(params) * (r - 1.0) / r).clamp_min(0.0))

    def sample(self, params: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Gamma-Poisson draws, all from ``generator``."""
        mu = self.mean(params.detach())
        r = self.log_dispersion.detach().clamp(-10.0, 10.0).exp().expand_as(mu)
        rate = standard_gamma(r, generator) * (mu / r)
        return torch.poisson(rate, generator=generator)


def standard_gamma(shape: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Gamma(shape, 1) draws from a private generator (Marsaglia and Tsang, 2000).

    torch's own gamma sampler takes no generator and draws from the global
    one, which threads share; this one draws only from ``generator`` (on
    ``shape``'s device), so the same generator gives the same draws
    whatever other threads do. Shapes below 1 use Gamma(a) = Gamma(a + 1)
    U^(1/a). The arithmetic is in float64 where the device has it.

    Parameters
    ----------
    shape : Tensor
        Positive shape parameters, any size.
    generator : torch.Generator
        The generator to draw from, on ``shape``'s device.

    Returns
    -------
    Tensor
        One draw per entry of ``shape``, in its dtype.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> draws = standard_gamma(torch.full((20000,), 3.0), g)
    >>> round(float(draws.mean()), 1), bool((draws > 0).all())
    (3.0, True)
    """
    dtype = torch.float32 if shape.device.type == "mps" else torch.float64
    a = shape.detach().reshape(-1).to(dtype)
    small = a < 1.0
    d = torch.where(small, a + 1.0, a) - 1.0 / 3.0
    c = torch.rsqrt(9.0 * d)
    out = torch.empty_like(a)
    pending = torch.arange(a.numel(), device=a.device)
    options = dict(generator=generator, device=a.device, dtype=dtype)
    while pending.numel():  # each round accepts over 95% of the rest
        dd, cc = d[pending], c[pending]
        x = torch.randn(pending.shape, **options)
        u = torch.rand(pending.shape, **options)
        v = (1.0 + cc * x) ** 3
        log_v = torch.log(v.clamp_min(torch.finfo(dtype).tiny))
        ok = (v > 0) & (torch.log(u) < 0.5 * x * x + dd - dd * v + dd * log_v)
        out[pending[ok]] = (dd * v)[ok]
        pending = pending[~ok]
    if bool(small.any()):
        u = torch.rand(a.shape, **options)
        boost = torch.exp(torch.log(u) / a)  # U^(1/a), for shapes below 1
        out = torch.where(small, out * boost, out)
    return out.reshape(shape.shape).to(shape.dtype)


class CategoricalLikelihood(Likelihood):
    """One categorical variable over a group of one-hot columns; logits in.

    The group's columns share one softmax, as ``OneHotEncoder`` output does.
    With ``missing``, a row whose group is partly observed is scored by what
    its observed columns say: a column observed 1 is the category; columns
    observed 0 rule their categories out, so the category is one of the
    missing columns' (the log of their probabilities' sum); a group wholly
    missing counts 0.

    Parameters
    ----------
    n_categories : int
        Columns of the group.
    missing : bool, default=False
        Treat NaN entries as missing.

    Examples
    --------
    >>> import torch
    >>> lik = CategoricalLikelihood(3)
    >>> lik.point(torch.tensor([[0.1, 2.0, -1.0]]))
    tensor([[0., 1., 0.]])
    """

    def __init__(self, n_categories: int, missing: bool = False) -> None:
        super().__init__()
        self.n_params = n_categories
        self.missing = missing

    def log_prob(
        self, x: torch.Tensor, params: torch.Tensor, update: bool = True
    ) -> torch.Tensor:
        """Log-probability of each row's category (0 where it is missing)."""
        log_p = torch.log_softmax(params, dim=-1)
        if not self.missing:
            return (x * log_p).sum(-1)
        holes = torch.isnan(x)
        cpu = x.device.type == "cpu"
        if cpu and not bool(holes.any()):  # (no device synchronisation there)
            return (x * log_p).sum(-1)
        x = torch.nan_to_num(x, nan=0.0)
        known = (x * log_p).sum(-1)  # the category, where a column says it
        said = (x > 0).any(-1) | ~holes.any(-1)
        partly = ~said & ~holes.all(-1)  # columns observed 0, others missing
        if cpu and partly.dim() == 1:
            # (on the CPU, where finding the rows costs no device
            # synchronisation: the sum over the missing columns of those rows
            # only, in a training batch usually none)
            out = torch.where(said, known, 0.0)  # (0, not 0 * -inf)
            rows = partly.nonzero().flatten()
            if len(rows):
                kept = log_p[..., rows, :].masked_fill(~holes[rows], -torch.inf)
                out[..., rows] = torch.logsumexp(kept, dim=-1)
            return out
        # else one of the missing columns' (every column's where none is
        # missing: a finite sum, whose gradient is not NaN where unused)
        among = holes | ~holes.any(-1, keepdim=True)
        either = torch.logsumexp(log_p.masked_fill(~among, -torch.inf), dim=-1)
        return torch.where(said, known, either * partly)

    def given(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Logits with the categories the observed columns rule out at -inf.

        A row with a column observed 1 keeps that category alone; a row with
        columns observed 0 and others missing keeps the missing columns'.
        Rows wholly observed or wholly missing are left as they are. For
        :meth:`mean`, :meth:`expectation` and :meth:`sample` (what
        imputation reads), not :meth:`log_prob`, which reads the
        observed columns itself (0 times -inf is NaN).

        Examples
        --------
        >>> import torch
        >>> lik = CategoricalLikelihood(3, missing=True)
        >>> x = torch.tensor([[0.0, float("nan"), float("nan")]])
        >>> lik.mean(lik.given(x, torch.zeros(1, 3)))
        tensor([[0.0000, 0.5000, 0.5000]])
        """
        if not self.missing:
            return params
        holes = torch.isnan(x)
        partly = holes.any(-1, keepdim=True) & ~holes.all(-1, keepdim=True)
        if not bool(partly.any()):
            return params
        one = torch.nan_to_num(x, nan=0.0) > 0
        allowed = torch.where(one.any(-1, keepdim=True), one, holes)
        return params.masked_fill(partly & ~allowed, -torch.inf)

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        """Probabilities of the categories."""
        return torch.softmax(params, dim=-1)

    def point(self, params: torch.Tensor) -> torch.Tensor:
        """The most probable category, one-hot."""
        index = params.argmax(-1)
        return F.one_hot(index, self.n_params).to(params.dtype)

    def sample(self, params: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """One-hot draws."""
        probs = self.mean(params)
        flat = probs.reshape(-1, self.n_params)
        index = torch.multinomial(flat, 1, generator=generator)[:, 0]
        return F.one_hot(index, self.n_params).to(probs.dtype).reshape(probs.shape)


class MixedLikelihood(Likelihood):
    """A row of columns of several types: one likelihood per block of columns.

    Parameters
    ----------
    blocks : sequence of (Likelihood, sequence of int)
        Each block's likelihood and the column indices it models (for a
        categorical block, the group's one-hot columns in order). Together
        the blocks cover every column once.
    n_features : int
        Number of columns.

    Notes
    -----
    The decoder outputs the blocks' parameters one block after the other.
    :meth:`mean` (what ``inverse_transform`` and ``sample`` return) gives
    each column a value of its own type: Gaussian means, 0/1, one-hot rows
    and counts; :meth:`expectation` gives expected values (probabilities,
    rates) instead.

    Examples
    --------
    >>> import torch
    >>> lik = MixedLikelihood(
    ...     [(GaussianLikelihood(1), [0]), (CategoricalLikelihood(2), [1, 2])], 3)
    >>> lik.n_params
    3
    >>> lik.mean(torch.tensor([[0.5, 1.0, -1.0]]))
    tensor([[0.5000, 1.0000, 0.0000]])
    """

    def __init__(
        self, blocks: list[tuple[Likelihood, list[int]]], n_features: int
    ) -> None:
        super().__init__()
        columns = sorted(c for _, cols in blocks for c in cols)
        if columns != list(range(n_features)):
            raise ValueError("The blocks must cover every column exactly once.")
        self.blocks = nn.ModuleList(lik for lik, _ in blocks)
        self.columns = [list(cols) for _, cols in blocks]
        self.kinds = [
            _KIND_NAMES.get(type(lik), type(lik).__name__) for lik, _ in blocks
        ]
        self.n_features = n_features
        self.n_params = sum(lik.n_params for lik, _ in blocks)
        self.missing = any(lik.missing for lik, _ in blocks)
        self._starts = []
        start = 0
        for lik, _ in blocks:
            self._starts.append(start)
            start += lik.n_params
        for i, cols in enumerate(self.columns):
            self.register_buffer(f"_index{i}", torch.tensor(cols), persistent=False)

    def _parts(self, params: torch.Tensor):
        for i, lik in enumerate(self.blocks):
            start = self._starts[i]
            index = getattr(self, f"_index{i}")
            yield lik, index, params[..., start : start + lik.n_params]

    def log_prob(
        self, x: torch.Tensor, params: torch.Tensor, update: bool = True
    ) -> torch.Tensor:
        """Sum of the blocks' log-likelihoods."""
        total = 0.0
        for lik, index, part in self._parts(params):
            total = total + lik.log_prob(x.index_select(-1, index), part, update)
        return total

    def given(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Each block's :meth:`Likelihood.given` (categorical groups restrict)."""
        out = params
        for i, (lik, index, part) in enumerate(self._parts(params)):
            restricted = lik.given(x.index_select(-1, index), part)
            if restricted is not part:  # (a copy of params at the first)
                out = out.clone() if out is params else out
                start = self._starts[i]
                out[..., start : start + lik.n_params] = restricted
        return out

    def _assemble(self, params: torch.Tensor, method: str) -> torch.Tensor:
        out = params.new_empty(*params.shape[:-1], self.n_features)
        for lik, index, part in self._parts(params):
            out[..., index] = getattr(lik, method)(part)
        return out

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        """Typed values of every column (see Notes)."""
        return self._assemble(params, "point")

    def expectation(self, params: torch.Tensor) -> torch.Tensor:
        """Expected values of every column."""
        return self._assemble(params, "expectation")

    def point(self, params: torch.Tensor) -> torch.Tensor:
        """Typed values of every column."""
        return self._assemble(params, "point")

    def typed(self, expected: torch.Tensor) -> torch.Tensor:
        """Expected values of every column (:meth:`expectation`'s) made typed.

        For a mixture of such rows (a labelled model's rows averaged over
        the classes): a 0/1 column is 1 where its probability is above
        one half, a categorical group one-hot at its most probable category,
        a count the mode :meth:`point` takes of its mean; real columns keep
        the mean.
        """
        out = expected.clone()
        for i, lik in enumerate(self.blocks):
            index = getattr(self, f"_index{i}")
            part = expected.index_select(-1, index)
            if isinstance(lik, BernoulliLikelihood):  # as point: p > 1/2
                part = (part > 0.5).to(part.dtype)
            elif isinstance(lik, CategoricalLikelihood):
                part = F.one_hot(part.argmax(-1), part.shape[-1]).to(part.dtype)
            elif isinstance(lik, PoissonLikelihood):
                part = torch.floor(part)
            elif isinstance(lik, NegativeBinomialLikelihood):
                r = lik.log_dispersion.clamp(-10.0, 10.0).exp()
                part = torch.floor((part * (r - 1.0) / r).clamp_min(0.0))
            out[..., index] = part
        return out

    def sample(self, params: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Draws of every column."""
        out = params.new_empty(*params.shape[:-1], self.n_features)
        for lik, index, part in self._parts(params):
            out[..., index] = lik.sample(part, generator)
        return out


_KIND_NAMES = {
    GaussianLikelihood: "gaussian",
    BernoulliLikelihood: "bernoulli",
    CategoricalLikelihood: "categorical",
    PoissonLikelihood: "poisson",
    NegativeBinomialLikelihood: "negbin",
}
LIKELIHOODS = frozenset({"gaussian", "bernoulli"})
#: Column types of a mixed likelihood (``likelihood={type: columns}``).
COLUMN_TYPES = frozenset({"gaussian", "bernoulli", "categorical", "poisson", "negbin"})


def make_likelihood(
    name: str, n_features: int, min_variance: float = 1e-4, missing: bool = False
) -> Likelihood:
    """Build a likelihood from its name.

    Parameters
    ----------
    name : {"gaussian", "bernoulli", "poisson", "negbin", "categorical"}
        The observation model ("categorical": one group of one-hot columns).
    n_features : int
        Number of features.
    min_variance : float, default=1e-4
        Variance floor of the Gaussian likelihood.
    missing : bool, default=False
        Treat NaN entries as missing.

    Returns
    -------
    Likelihood

    Examples
    --------
    >>> make_likelihood("bernoulli", 4).n_params
    4
    """
    if name == "gaussian":
        return GaussianLikelihood(
            n_features, min_variance=min_variance, missing=missing
        )
    if name == "bernoulli":
        return BernoulliLikelihood(n_features, missing=missing)
    if name == "poisson":
        return PoissonLikelihood(n_features, missing=missing)
    if name == "negbin":
        return NegativeBinomialLikelihood(n_features, missing=missing)
    if name == "categorical":
        return CategoricalLikelihood(n_features, missing=missing)
    raise ValueError(
        f"Unknown likelihood {name!r}; expected one of {sorted(COLUMN_TYPES)}."
    )
