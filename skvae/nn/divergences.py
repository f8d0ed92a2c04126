"""Divergences and log-densities: Gaussian KLs, the total correlation, the MMD."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from skvae.nn.base import StepContext

_LOG_2PI = math.log(2.0 * math.pi)

#: Multiples of the base kernel width ``2 * d * sigma^2`` summed by :func:`mmd`
#: (those of the WAE authors' code).
MMD_SCALES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)

KERNELS = frozenset({"imq", "rbf"})


def gaussian_kl(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(log_var)) || N(0, 1)) for each dimension, not summed.

    Parameters
    ----------
    mu, log_var : torch.Tensor
        Means and log-variances of the posterior, shape ``(batch, d)``.

    Returns
    -------
    torch.Tensor
        Shape ``(batch, d)``; every entry is >= 0.

    Examples
    --------
    >>> import torch
    >>> gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 3)).shape
    torch.Size([2, 3])
    """
    # expm1 keeps exp(v) - 1 - v >= 0 in floating point for small v.
    return 0.5 * (mu.square() + torch.expm1(log_var) - log_var)


def gaussian_log_prob(
    x: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor
) -> torch.Tensor:
    """Log-density of a diagonal Gaussian, summed over the last dimension.

    Parameters
    ----------
    x, mu, log_var : torch.Tensor
        Broadcastable tensors whose last dimension is the event dimension.

    Returns
    -------
    torch.Tensor
        The log-density with the last dimension summed out.

    Examples
    --------
    >>> import torch
    >>> gaussian_log_prob(torch.zeros(4, 2), torch.zeros(2), torch.zeros(2)).shape
    torch.Size([4])
    """
    return -0.5 * ((x - mu).square() * torch.exp(-log_var) + log_var + _LOG_2PI).sum(-1)


def kl_penalty(kl_per_dim: torch.Tensor, ctx: StepContext) -> torch.Tensor:
    """The KL part of the loss per sample: beta times the KL, as the step asks.

    Free bits (Kingma et al. 2016): dimensions whose batch-mean KL is below
    ``ctx.free_bits`` nats are not penalised (their term is that constant).
    Capacity (Burgess et al. 2018): with ``ctx.capacity`` = C, the term is
    ``beta * |KL - C|`` for the batch-mean KL (each row gets the gradient of
    that absolute value).

    Parameters
    ----------
    kl_per_dim : torch.Tensor of shape (batch, d)
        KL of each latent dimension of each row.
    ctx : StepContext
        The step's beta, free bits and capacity.

    Returns
    -------
    torch.Tensor of shape (batch,)

    Examples
    --------
    >>> import torch
    >>> from skvae.nn.base import StepContext
    >>> ctx = StepContext(beta=2.0, free_bits=0.0, generator=torch.Generator())
    >>> kl_penalty(torch.ones(3, 2), ctx)
    tensor([4., 4., 4.])
    """
    return ctx.beta * kl_term(kl_per_dim, ctx)


def kl_term(kl_per_dim: torch.Tensor, ctx: StepContext) -> torch.Tensor:
    """The KL term per sample with free bits and capacity, before beta.

    See :func:`kl_penalty`, which is ``ctx.beta`` times this.

    Parameters
    ----------
    kl_per_dim : torch.Tensor of shape (batch, d)
        KL of each latent dimension of each row.
    ctx : StepContext
        The step's free bits and capacity.

    Returns
    -------
    torch.Tensor of shape (batch,)

    Examples
    --------
    >>> import torch
    >>> from skvae.nn.base import StepContext
    >>> ctx = StepContext(beta=1.0, free_bits=0.5, generator=torch.Generator())
    >>> kl_term(torch.tensor([[0.1, 2.0]]), ctx)
    tensor([2.5000])
    """
    if ctx.free_bits > 0:
        keep = kl_per_dim.detach().mean(0) >= ctx.free_bits  # (d,)
        penalty = (kl_per_dim * keep).sum(-1) + ctx.free_bits * (~keep).sum()
    else:
        penalty = kl_per_dim.sum(-1)
    if ctx.capacity is not None:
        sign = torch.sign(penalty.detach().mean() - ctx.capacity)
        penalty = sign * (penalty - ctx.capacity)
    return penalty


def total_correlation(
    z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor, n_train: int
) -> torch.Tensor:
    """Minibatch-weighted estimate of the total correlation of q(z) per row.

    TC = KL(q(z) || prod_d q(z_d)), the term that beta-TCVAE (Chen et al.
    2018) penalises. q(z) = E_x q(z | x) over the ``n_train`` training rows
    is estimated at each row's draw from the batch: the row's own posterior
    with weight 1 / n_train and each other row's with weight
    (n_train - 1) / (n_train (batch - 1)), a consistent importance weighting
    of the minibatch (exact when the batch is the whole data set). The
    marginals q(z_d) are estimated the same way.

    Parameters
    ----------
    z : torch.Tensor of shape (batch, d)
        One posterior draw per row.
    mu, log_var : torch.Tensor of shape (batch, d)
        The rows' posterior means and log-variances.
    n_train : int
        Number of training rows (at least the batch size is used).

    Returns
    -------
    torch.Tensor of shape (batch,)
        log q(z_i) - sum_d log q(z_id) for each row's draw.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> mu = torch.randn(64, 3, generator=g)
    >>> lv = torch.full((64, 3), -4.0)
    >>> total_correlation(mu, mu, lv, 64).shape
    torch.Size([64])
    """
    batch = z.shape[0]
    # log q(z_i,d | x_j) for every pair (i, j) and dimension d: (batch, batch, d)
    log_q = -0.5 * (
        (z[:, None, :] - mu[None, :, :]).square() * torch.exp(-log_var[None])
        + log_var[None]
        + _LOG_2PI
    )
    n = max(n_train, batch)
    if batch > 1:
        own, other = -math.log(n), math.log((n - 1) / (n * (batch - 1)))
    else:
        own, other = 0.0, 0.0
    log_w = torch.full((batch, batch), other, device=z.device, dtype=z.dtype)
    log_w.fill_diagonal_(own)
    log_qz = torch.logsumexp(log_q.sum(-1) + log_w, dim=1)
    log_prod = torch.logsumexp(log_q + log_w[..., None], dim=1).sum(-1)
    return log_qz - log_prod


def _squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pairwise squared Euclidean distances, ``(len(a), len(b))``, >= 0."""
    sq = a.square().sum(-1)[:, None] + b.square().sum(-1)[None, :] - 2.0 * a @ b.T
    return sq.clamp_min(0.0)


def _kernel_sum(
    sq_dist: torch.Tensor, kernel: str, widths: Sequence[float]
) -> torch.Tensor:
    """Sum over the widths C of k_C(sq_dist), elementwise."""
    out = torch.zeros_like(sq_dist)
    for c in widths:
        if kernel == "imq":
            out += c / (c + sq_dist)
        else:
            out += torch.exp(-sq_dist / c)
    return out


def mmd(
    x: torch.Tensor,
    y: torch.Tensor,
    kernel: str = "imq",
    scales: Sequence[float] = MMD_SCALES,
    variance: float = 1.0,
) -> torch.Tensor:
    """Unbiased estimate of the squared maximum mean discrepancy MMD^2(P, Q).

    The U-statistic of Gretton et al. (2012) from samples ``x`` ~ P and
    ``y`` ~ Q: the means of k over distinct pairs within each sample (the
    diagonal terms k(x_i, x_i) are excluded) minus twice the mean of k over
    the cross pairs. It is an unbiased estimate of MMD^2, so it can be
    negative when P = Q. The kernel is a sum over ``scales`` s of

    - ``"imq"`` (inverse multiquadric): k(a, b) = C / (C + ||a - b||^2),
    - ``"rbf"`` (Gaussian): k(a, b) = exp(-||a - b||^2 / C),

    with C = 2 * d * variance * s, d the dimension: the kernels of
    Tolstikhin et al. (2018), whose widths follow a N(0, variance * I) prior.

    Parameters
    ----------
    x : torch.Tensor of shape (n, d)
        Sample of P, at least 2 rows.
    y : torch.Tensor of shape (m, d)
        Sample of Q, at least 2 rows.
    kernel : {"imq", "rbf"}, default="imq"
        The kernel family.
    scales : sequence of float, default=MMD_SCALES
        Multiples of the base width 2 * d * variance; the kernels are summed.
    variance : float, default=1.0
        Variance of the reference (prior) distribution per dimension.

    Returns
    -------
    torch.Tensor
        A scalar, differentiable in ``x`` and ``y``.

    References
    ----------
    .. [1] A. Gretton, K. M. Borgwardt, M. J. Rasch, B. Schoelkopf and
       A. Smola, "A Kernel Two-Sample Test", JMLR 13, 2012.
    .. [2] I. Tolstikhin, O. Bousquet, S. Gelly and B. Schoelkopf,
       "Wasserstein Auto-Encoders", ICLR 2018.

    Examples
    --------
    >>> import torch
    >>> gen = torch.Generator().manual_seed(0)
    >>> x, y = torch.randn(500, 2, generator=gen), torch.randn(500, 2, generator=gen)
    >>> bool(mmd(x, y).abs() < 0.05), bool(mmd(x, y + 2.0) > 0.5)
    (True, True)
    """
    n, m = x.shape[0], y.shape[0]
    if n < 2 or m < 2:
        raise ValueError(
            f"The unbiased MMD needs at least 2 rows per sample, got {n} and {m}."
        )
    if kernel not in KERNELS:
        raise ValueError(
            f"Unknown kernel {kernel!r}; expected one of {sorted(KERNELS)}."
        )
    widths = [2.0 * x.shape[1] * variance * s for s in scales]
    k_xx = _kernel_sum(_squared_distances(x, x), kernel, widths)
    k_yy = _kernel_sum(_squared_distances(y, y), kernel, widths)
    k_xy = _kernel_sum(_squared_distances(x, y), kernel, widths)
    within_x = (k_xx.sum() - k_xx.diagonal().sum()) / (n * (n - 1))
    within_y = (k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
    return within_x + within_y - 2.0 * k_xy.mean()


def posterior_log_prob(eps: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """Log q(z | x) of reparameterised draws z = mu + exp(log_var / 2) * eps.

    Parameters
    ----------
    eps : torch.Tensor of shape (k, d) or (k, batch, d)
        The standard normal noise of the draws (``(k, d)``: the same draws
        for every row).
    log_var : torch.Tensor of shape (batch, d)
        The posterior log-variances.

    Returns
    -------
    torch.Tensor of shape (k, batch)

    Examples
    --------
    >>> import torch
    >>> posterior_log_prob(torch.zeros(3, 2), torch.zeros(4, 2)).shape
    torch.Size([3, 4])
    """
    log_q = -0.5 * (eps.square() + _LOG_2PI).sum(-1)
    if eps.ndim == 2:  # shared draws: broadcast over the rows
        log_q = log_q[:, None]
    return log_q - 0.5 * log_var.sum(-1)


def importance_bound(log_w: torch.Tensor) -> torch.Tensor:
    """The importance-weighted bound log (1/k) sum_k exp(log_w_k) (Burda et al.).

    Parameters
    ----------
    log_w : torch.Tensor of shape (k, ...)
        Log importance weights of ``k`` draws.

    Returns
    -------
    torch.Tensor of shape (...)

    Examples
    --------
    >>> import torch
    >>> importance_bound(torch.zeros(5, 3))
    tensor([0., 0., 0.])
    """
    return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])


def gaussian_log_prob_per_dim(
    x: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor
) -> torch.Tensor:
    """Log-density of a diagonal Gaussian for each dimension, not summed.

    :func:`gaussian_log_prob` is its sum over the last dimension.

    Parameters
    ----------
    x, mu, log_var : torch.Tensor
        Broadcastable values, means and log-variances.

    Returns
    -------
    torch.Tensor
        The broadcast shape.

    Examples
    --------
    >>> import torch
    >>> x, mu, lv = torch.randn(4, 3), torch.randn(3), torch.randn(3)
    >>> out = gaussian_log_prob_per_dim(x, mu, lv)
    >>> out.shape, bool(torch.allclose(out.sum(-1), gaussian_log_prob(x, mu, lv)))
    (torch.Size([4, 3]), True)
    """
    return -0.5 * ((x - mu).square() * torch.exp(-log_var) + log_var + _LOG_2PI)


def posterior_log_prob_per_dim(
    eps: torch.Tensor, log_var: torch.Tensor
) -> torch.Tensor:
    """Log q(z | x) of reparameterised draws for each dimension, not summed.

    The draws are z = mu + exp(log_var / 2) * eps; written with ``eps``, the
    log-density does not lose precision where the posterior is narrow.
    :func:`posterior_log_prob` is its sum over the last dimension.

    Parameters
    ----------
    eps : torch.Tensor
        The standard normal noise of the draws, e.g. ``(k, batch, d)`` or
        ``(k, 1, d)`` (the same draws for every row).
    log_var : torch.Tensor
        The posterior log-variances, broadcastable with ``eps``.

    Returns
    -------
    torch.Tensor
        The broadcast shape.

    Examples
    --------
    >>> import torch
    >>> eps, lv = torch.randn(3, 1, 2), torch.randn(4, 2)
    >>> out = posterior_log_prob_per_dim(eps, lv)
    >>> out.shape, bool(torch.allclose(out.sum(-1), posterior_log_prob(eps, lv)))
    (torch.Size([3, 4, 2]), True)
    """
    return -0.5 * (eps.square() + log_var + _LOG_2PI)


def gaussian_kl_between(
    mu_q: torch.Tensor,
    log_var_q: torch.Tensor,
    mu_p: torch.Tensor,
    log_var_p: torch.Tensor,
) -> torch.Tensor:
    """KL(N(mu_q, exp(log_var_q)) || N(mu_p, exp(log_var_p))) per dimension.

    Parameters
    ----------
    mu_q, log_var_q : torch.Tensor
        Mean and log-variance of the first Gaussian.
    mu_p, log_var_p : torch.Tensor
        Mean and log-variance of the second Gaussian (broadcastable).

    Returns
    -------
    torch.Tensor
        The broadcast shape, not summed; every entry is >= 0. With
        ``mu_p = log_var_p = 0`` it equals :func:`gaussian_kl`.

    Examples
    --------
    >>> import torch
    >>> mu, lv = torch.randn(4, 3), torch.randn(4, 3)
    >>> bool(torch.all(gaussian_kl_between(mu, lv, mu, lv) == 0))
    True
    >>> zero = torch.zeros(())
    >>> bool(torch.equal(gaussian_kl_between(mu, lv, zero, zero), gaussian_kl(mu, lv)))
    True
    """
    diff = log_var_q - log_var_p
    # expm1(d) - d >= 0 holds in floating point, as in gaussian_kl.
    return 0.5 * (
        (mu_q - mu_p).square() * torch.exp(-log_var_p) + torch.expm1(diff) - diff
    )


def precision_weighted_merge(
    mu_a: torch.Tensor,
    log_var_a: torch.Tensor,
    mu_b: torch.Tensor,
    log_var_b: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Product of two diagonal Gaussians, renormalised: the ladder's posterior.

    var = 1 / (1 / var_a + 1 / var_b) and
    mu = (mu_a / var_a + mu_b / var_b) * var, computed in log space
    (Sønderby et al. 2016).

    Parameters
    ----------
    mu_a, log_var_a, mu_b, log_var_b : torch.Tensor
        Means and log-variances of the two Gaussians (broadcastable).

    Returns
    -------
    mu, log_var : torch.Tensor
        Mean and log-variance of the merge.

    Examples
    --------
    >>> import torch
    >>> mu, lv = precision_weighted_merge(
    ...     torch.tensor([0.0]), torch.tensor([0.0]),
    ...     torch.tensor([2.0]), torch.tensor([0.0]))
    >>> float(mu), round(float(lv.exp()), 4)
    (1.0, 0.5)
    """
    log_var = -torch.logaddexp(-log_var_a, -log_var_b)
    weight_a = torch.sigmoid(log_var_b - log_var_a)  # var_b / (var_a + var_b)
    return torch.lerp(mu_b, mu_a, weight_a), log_var
