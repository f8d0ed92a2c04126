"""Hierarchical VAEs: bottom-up inference and the ladder VAE (Sønderby et al. 2016).

Both models have ``L`` stochastic layers z_1 (next to the data) ... z_L (the
top) and the same generative model,

    p(x, z) = p(x | z_1) p(z_1 | z_2) ... p(z_{L-1} | z_L) p(z_L),

with p(z_L) = N(0, I) and diagonal Gaussian conditionals given by MLPs. They
differ in the approximate posterior:

- :class:`HierarchicalVAE` infers bottom-up, q(z_1 | x) q(z_2 | z_1) ...
  q(z_L | z_{L-1});
- :class:`LadderVAE` infers top-down: a deterministic bottom-up pass gives a
  Gaussian "likelihood" (mu_hat_l, var_hat_l) at each layer, and q(z_l | .)
  is its precision-weighted merge with the generative conditional
  p(z_l | z_{l+1}) (whose parameters are shared by inference and generation).

One torch module (:class:`HierarchicalVAEModule`, ``top_down`` flag) holds
both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils.validation import check_array, check_is_fitted
from torch import nn

from skvae._data import FLOATS
from skvae._sklearn_compat import Interval, validate_data
from skvae.models.vae import VAE
from skvae.nn.gaussian import LOG_VAR_MAX as _LOG_VAR_MAX
from skvae.nn.gaussian import LOG_VAR_MIN as _LOG_VAR_MIN
from skvae.nn.base import ELBOTerms, LatentModule, StepContext
from skvae.nn.divergences import gaussian_kl, importance_bound, kl_penalty
from skvae.nn.likelihoods import Likelihood
from skvae.nn.networks import CustomNetwork, NetworkSpec, make_activation

_LOG_2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------- helpers
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
        ``mu_p = log_var_p = 0`` it equals
        :func:`skvae.nn.divergences.gaussian_kl`.

    Examples
    --------
    >>> import torch
    >>> mu, lv = torch.randn(4, 3), torch.randn(4, 3)
    >>> bool(torch.allclose(gaussian_kl_between(mu, lv, mu, lv), torch.zeros(4, 3)))
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
    mu = (mu_a / var_a + mu_b / var_b) * var, computed in log space.

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


def _log_normal(
    z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor
) -> torch.Tensor:
    """Per-dimension log-density of a diagonal Gaussian (not summed)."""
    return -0.5 * ((z - mu).square() * torch.exp(-log_var) + log_var + _LOG_2PI)


class _BatchNorm(nn.BatchNorm1d):
    """Batch normalisation over the last axis of inputs with any leading axes.

    A one-row batch in training mode (e.g. ``partial_fit`` on one row) is
    normalised with the running statistics instead of failing.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, x.shape[-1])
        use_batch = self.training and flat.shape[0] > 1
        out = F.batch_norm(
            flat,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            use_batch,
            self.momentum,
            self.eps,
        )
        return out.reshape(x.shape)


def _dense(
    n_inputs: int, widths: Sequence[int], activation: str, batch_norm: bool
) -> nn.Sequential:
    """Linear (-> batch norm) -> activation, for each width; empty is identity."""
    layers: list[nn.Module] = []
    for width in widths:
        layers.append(nn.Linear(n_inputs, width))
        if batch_norm:
            layers.append(_BatchNorm(width))
        layers.append(make_activation(activation))
        n_inputs = width
    return nn.Sequential(*layers)


class _GaussianNet(nn.Module):
    """A dense body and a linear head giving a mean and a clamped log-variance."""

    def __init__(
        self,
        n_inputs: int,
        widths: Sequence[int],
        n_outputs: int,
        activation: str,
        batch_norm: bool,
    ) -> None:
        super().__init__()
        self.body = _dense(n_inputs, widths, activation, batch_norm)
        self.head = nn.Linear(widths[-1] if widths else n_inputs, 2 * n_outputs)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, log_var = self.head(self.body(h)).chunk(2, dim=-1)
        return mu, log_var.clamp(_LOG_VAR_MIN, _LOG_VAR_MAX)


class _Layer(NamedTuple):
    """One stochastic layer of a posterior pass; tensors broadcast to (k, batch, d)."""

    z: torch.Tensor  # the draw
    eps: torch.Tensor  # its standard normal noise
    mu_q: torch.Tensor  # posterior mean
    log_var_q: torch.Tensor  # posterior log-variance
    mu_p: torch.Tensor | None  # prior mean given the layer above (None: N(0, I))
    log_var_p: torch.Tensor | None


# ---------------------------------------------------------------------- module
class HierarchicalVAEModule(LatentModule):
    """A VAE with a hierarchy of diagonal Gaussian latent layers.

    The generative model is p(x | z_1) prod_l p(z_l | z_{l+1}) p(z_L), with
    p(z_L) = N(0, I). With ``top_down=False`` the posterior is bottom-up,
    q(z_1 | x) q(z_2 | z_1) ...; with ``top_down=True`` it is the ladder
    posterior of Sønderby et al. (2016): a deterministic bottom-up pass gives
    (mu_hat_l, var_hat_l) per layer, q(z_L | x) = N(mu_hat_L, var_hat_L) and,
    top-down, q(z_l | x, z_{l+1}) is the precision-weighted merge of
    (mu_hat_l, var_hat_l) with p(z_l | z_{l+1}).

    ``noise_dim`` is ``sum(n_components)``: the noise of :meth:`log_likelihood`
    is split into the layers' blocks, bottom first.

    Parameters
    ----------
    n_features : int
        Width of the data.
    n_components : sequence of int
        Width of each latent layer, bottom (next to the data) to top.
    hidden_layer_sizes : sequence of int
        Hidden widths between x and z_1 (the decoder mirrors them).
    latent_hidden_layer_sizes : sequence of int
        Hidden widths of the MLPs between consecutive latent layers (the
        generative ones mirror them); for the ladder, the deterministic
        bottom-up pass goes through them too.
    activation : str
        Activation name.
    likelihood : Likelihood
        The observation model p(x | z_1).
    top_down : bool, default=False
        Ladder (top-down) inference instead of bottom-up.
    batch_norm : bool, default=True
        Batch normalisation after each hidden linear layer.

    Examples
    --------
    >>> import torch
    >>> from skvae.nn import BernoulliLikelihood
    >>> m = HierarchicalVAEModule(6, (4, 2), (8,), (8,), "relu",
    ...                           BernoulliLikelihood(6), top_down=True)
    >>> m.eval().embed(torch.rand(3, 6)).shape, m.noise_dim
    (torch.Size([3, 2]), 6)
    """

    def __init__(
        self,
        n_features: int,
        n_components: Sequence[int],
        hidden_layer_sizes: Sequence[int],
        latent_hidden_layer_sizes: Sequence[int],
        activation: str,
        likelihood: Likelihood,
        *,
        top_down: bool = False,
        batch_norm: bool = True,
        encoder: NetworkSpec | None = None,
        decoder: NetworkSpec | None = None,
        objective: str = "elbo",
        n_iwae_samples: int = 5,
    ) -> None:
        super().__init__()
        self.objective = objective
        self.n_iwae_samples = n_iwae_samples
        sizes = [int(d) for d in n_components]
        hidden, between = list(hidden_layer_sizes), list(latent_hidden_layer_sizes)
        self.sizes = sizes
        self.top_down = top_down
        self.n_latent = sizes[-1]
        self.noise_dim = sum(sizes)
        self.likelihood = likelihood
        # Bottom-up: up[l] maps x (l = 0) or the layer below (its draw, or for
        # the ladder its deterministic features) to a body, heads[l] to
        # (mu, log_var) of layer l.
        self.up = nn.ModuleList()
        self.heads = nn.ModuleList()
        width = n_features
        for level, size in enumerate(sizes):
            widths = hidden if level == 0 else between
            body_width = widths[-1] if widths else width
            if level == 0 and encoder is not None:  # the user's x -> features
                self.up.append(CustomNetwork(encoder, width, body_width))
            else:
                self.up.append(_dense(width, widths, activation, batch_norm))
            self.heads.append(nn.Linear(body_width, 2 * size))
            width = body_width if top_down else size
        # Top-down generative conditionals p(z_l | z_{l+1}) for l < L.
        self.down = nn.ModuleList(
            _GaussianNet(
                sizes[level + 1], between[::-1], sizes[level], activation, batch_norm
            )
            for level in range(len(sizes) - 1)
        )
        if decoder is not None:  # the user's z_1 -> features, then the head
            self.decoder = CustomNetwork(decoder, sizes[0], likelihood.n_params)
        else:
            self.decoder = nn.Sequential(
                _dense(sizes[0], hidden[::-1], activation, batch_norm),
                nn.Linear(hidden[0] if hidden else sizes[0], likelihood.n_params),
            )

    # ------------------------------------------------------------ passes
    def _head(self, level: int, h: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Body output of the bottom-up net at ``level`` and its (mu, log_var)."""
        h = self.up[level](h)
        mu, log_var = self.heads[level](h).chunk(2, dim=-1)
        return h, mu, log_var.clamp(_LOG_VAR_MIN, _LOG_VAR_MAX)

    def _layers(self, x: torch.Tensor, noise: Sequence[torch.Tensor]) -> list[_Layer]:
        """Draw every layer from the posterior; ``noise[l]`` broadcasts to (k, b, d)."""
        if self.top_down:
            return self._top_down_layers(x, noise)
        layers, h = [], x
        for level, eps in enumerate(noise):
            _, mu, log_var = self._head(level, h)
            h = mu + torch.exp(0.5 * log_var) * eps  # (k, batch, d_l)
            layers.append(_Layer(h, eps, mu, log_var, None, None))
        for level in range(len(layers) - 1):  # priors from the draws above
            mu_p, log_var_p = self.down[level](layers[level + 1].z)
            layers[level] = layers[level]._replace(mu_p=mu_p, log_var_p=log_var_p)
        return layers

    def _top_down_layers(
        self, x: torch.Tensor, noise: Sequence[torch.Tensor]
    ) -> list[_Layer]:
        h, hats = x, []
        for level in range(len(self.sizes)):  # deterministic bottom-up pass
            h, mu_hat, log_var_hat = self._head(level, h)
            hats.append((mu_hat, log_var_hat))  # (batch, d_l)
        mu, log_var = hats[-1]
        z = mu + torch.exp(0.5 * log_var) * noise[-1]
        layers = [_Layer(z, noise[-1], mu, log_var, None, None)]
        for level in range(len(self.sizes) - 2, -1, -1):
            mu_p, log_var_p = self.down[level](z)  # (k, batch, d_l)
            mu, log_var = precision_weighted_merge(*hats[level], mu_p, log_var_p)
            z = mu + torch.exp(0.5 * log_var) * noise[level]
            layers.insert(0, _Layer(z, noise[level], mu, log_var, mu_p, log_var_p))
        return layers

    def _terms(
        self, x: torch.Tensor, noise: Sequence[torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[_Layer]]:
        """Terms of each draw: log p(x | z_1) (k, b), KL (k, b, D), log w (k, b).

        The KL of a layer is analytic where its prior does not depend on its
        own draw: the top layer, and every layer of the ladder (given the draw
        above). For bottom-up inference the layers below the top use the
        one-draw estimate log q(z_l | .) - log p(z_l | z_{l+1}).
        """
        layers = self._layers(x, noise)
        log_px = self.likelihood.log_prob(x, self.decoder(layers[0].z))  # (k, b)
        shape = (log_px.shape[0], log_px.shape[1])
        log_w = log_px
        kl_dims = []
        for layer in layers:
            log_q = -0.5 * (layer.eps.square() + layer.log_var_q + _LOG_2PI)
            if layer.mu_p is None:
                log_p = -0.5 * (layer.z.square() + _LOG_2PI)
                kl = gaussian_kl(layer.mu_q, layer.log_var_q)
            else:
                log_p = _log_normal(layer.z, layer.mu_p, layer.log_var_p)
                if self.top_down:
                    kl = gaussian_kl_between(
                        layer.mu_q, layer.log_var_q, layer.mu_p, layer.log_var_p
                    )
                else:
                    kl = log_q - log_p
            log_w = log_w + (log_p - log_q).sum(-1)
            kl_dims.append(kl.expand(*shape, kl.shape[-1]))
        return log_px, torch.cat(kl_dims, dim=-1), log_w, layers

    def _split_noise(self, eps: torch.Tensor) -> list[torch.Tensor]:
        """Blocks of ``eps`` (..., noise_dim) per layer, bottom first."""
        return list(eps.split(self.sizes, dim=-1))

    # ----------------------------------------------------------- protocol
    def forward(self, x: torch.Tensor, ctx: StepContext) -> ELBOTerms:
        """Per-sample training loss and its parts.

        The negative beta-ELBO with one reparameterised draw, or with
        ``objective="iwae"`` the negative importance-weighted bound over
        ``n_iwae_samples`` draws (beta weighting the prior/posterior ratio).
        """
        k = self.n_iwae_samples if self.objective == "iwae" else 1
        eps = ctx.randn((k, x.shape[0], self.noise_dim), like=x, batch_dim=1)
        log_px, kl_per_dim, log_w, layers = self._terms(x, self._split_noise(eps))
        mu = layers[-1].mu_q.detach()
        mu = (mu[0] if mu.ndim == 3 else mu).reshape(x.shape[0], -1)  # (b, d_L)
        if k > 1:
            log_w = log_px + ctx.beta * (log_w - log_px)
            loss = -importance_bound(log_w)
            recon, kl_per_dim = -log_px.mean(0), kl_per_dim.mean(0)
        else:
            recon, kl_per_dim = -log_px[0], kl_per_dim[0]  # (b,), (b, D)
            loss = recon + kl_penalty(kl_per_dim, ctx)  # beta, free bits, capacity
        return ELBOTerms(loss, recon, kl_per_dim.sum(-1), kl_per_dim, mu, mu.square())

    def embed_layers(self, x: torch.Tensor) -> torch.Tensor:
        """Posterior means of every layer, concatenated bottom first (b, D).

        Each layer's mean is taken given the means of the layers it is
        conditioned on (below for bottom-up inference, above for the ladder).
        """
        zeros = x.new_zeros(1, 1, self.noise_dim)
        layers = self._layers(x, self._split_noise(zeros))
        return torch.cat(
            [layer.mu_q.expand(1, x.shape[0], -1)[0] for layer in layers], dim=-1
        )

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The top layer's posterior mean (b, d_L)."""
        if self.top_down:  # q(z_L | x) needs only the bottom-up pass
            h = x
            for level in range(len(self.sizes)):
                h, mu, _ = self._head(level, h)
            return mu
        return self.embed_layers(x)[:, -self.n_latent :]

    def decode_mean(self, z: torch.Tensor, level: int = -1) -> torch.Tensor:
        """The mean of p(x | z_1) for a code of layer ``level`` (default: the top).

        The code is passed down through the means of p(z_l | z_{l+1}).
        """
        for below in range(level % len(self.sizes) - 1, -1, -1):
            z = self.down[below](z)[0]
        return self.likelihood.mean(self.decoder(z))

    def log_likelihood(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """ELBO (one draw) or importance-weighted bound (``k`` draws) per row.

        ``eps`` has shape ``(k, noise_dim)``: the same draws serve every row.
        """
        log_px, kl_per_dim, log_w, _ = self._terms(
            x, self._split_noise(eps[:, None, :])
        )
        if eps.shape[0] == 1:
            return log_px[0] - kl_per_dim[0].sum(-1)
        return importance_bound(log_w)

    def reconstruction_log_likelihood(
        self, x: torch.Tensor, eps: torch.Tensor
    ) -> torch.Tensor:
        """Mean over the ``k`` draws in ``eps`` of log p(x | z_1), z ~ q(z | x)."""
        layers = self._layers(x, self._split_noise(eps[:, None, :]))
        return self.likelihood.log_prob(x, self.decoder(layers[0].z)).mean(0)

    def sample(self, n_samples: int, generator: torch.Generator) -> torch.Tensor:
        """Decoder means of latents drawn ancestrally from the prior."""
        weight = self.heads[0].weight

        def randn(size: int) -> torch.Tensor:
            return torch.randn(
                n_samples,
                size,
                generator=generator,
                device=weight.device,
                dtype=weight.dtype,
            )

        z = randn(self.sizes[-1])
        for level in range(len(self.sizes) - 2, -1, -1):
            mu, log_var = self.down[level](z)
            z = mu + torch.exp(0.5 * log_var) * randn(self.sizes[level])
        return self.likelihood.mean(self.decoder(z))


# ------------------------------------------------------------------ estimators
def _positive_ints(value, name: str, *, allow_empty: bool) -> tuple[int, ...]:
    """``value`` (an int or a sequence of ints) as a tuple, or a clear error."""
    try:
        sizes = (value,) if isinstance(value, Integral) else tuple(value)
    except TypeError:
        sizes = (None,)  # not iterable: rejected below
    if (not sizes and not allow_empty) or any(
        not isinstance(s, Integral) or isinstance(s, bool) or s < 1 for s in sizes
    ):
        need = "a non-empty sequence of" if not allow_empty else "a sequence of"
        raise ValueError(
            f"{name} must be {need} positive integers, got {name}={value!r}."
        )
    return tuple(int(s) for s in sizes)


# VAE's options that the hierarchical models do not have.
_VAE_ONLY_PARAMS = frozenset(
    {
        "input_shape",
        "missing",
        "prior",
        "n_pseudo_inputs",
        "tc_weight",
    }
)


class HierarchicalVAE(VAE):
    """Variational autoencoder with several stochastic layers, inferred bottom-up.

    The generative model is p(x | z_1) p(z_1 | z_2) ... p(z_{L-1} | z_L) p(z_L)
    with p(z_L) = N(0, I) and diagonal Gaussian conditionals given by MLPs; the
    approximate posterior is bottom-up, q(z_1 | x) q(z_2 | z_1) ...
    q(z_L | z_{L-1}). Training maximises the ELBO with Adam. ``transform``
    returns the top layer's posterior mean (:meth:`transform_layers` every
    layer's), ``inverse_transform`` decodes a top-layer code through the
    means of the conditionals, ``sample`` draws ancestrally from the prior.

    The KL term of the top layer is analytic; the layers below use the
    one-draw estimate log q(z_l | z_{l-1}) - log p(z_l | z_{l+1}), since the
    prior of z_l depends on z_{l+1}, which is drawn from z_l. The posterior
    means that ``transform`` and :meth:`transform_layers` return pass each
    layer's mean up to the next (the mean of the marginal q(z_L | x) has no
    closed form).

    Bottom-up inference tends to leave the upper layers nearly unused (small
    KL, Sønderby et al. 2016): decoding the top code then gives a blurry
    row, while ``inverse_transform(transform_layers(X)[0], layer=0)``
    decodes the detailed bottom code. :class:`LadderVAE`, with top-down
    inference, uses its upper layers more.

    Parameters
    ----------
    n_components : int or tuple of int, default=(32, 16, 8)
        Width of each stochastic layer, bottom (next to the data) to top: the
        default has z_1 of 32 dimensions and a top layer of 8. An int is a
        single layer. ``transform`` returns ``n_components[-1]`` columns.
    beta : float, default=1.0
        Weight of the KL terms.
    hidden_layer_sizes : array-like of int, default=(256, 128)
        Hidden widths of the network between x and z_1 (the decoder p(x | z_1)
        mirrors them), as :class:`skvae.VAE`'s.
    latent_hidden_layer_sizes : array-like of int, default=(128,)
        Hidden widths of the smaller networks between consecutive stochastic
        layers (inference and generative ones); may be empty.
    batch_norm : bool, default=True
        Batch normalisation after every hidden linear layer, as in Sønderby
        et al. (2016). On 4,000 binarised MNIST digits it lowers the held-out
        negative log-likelihood of the ladder by about 25 nats at 100 epochs.
    activation : {"relu", "tanh", "logistic", "identity", "elu", "gelu", \
"silu"}, default="relu"
        Activation of the hidden layers.
    likelihood : {"gaussian", "bernoulli", "auto"} or dict, default="gaussian"
        The observation model p(x | z_1); see :class:`skvae.VAE`.
    min_variance : float, default=1e-3
        Floor of the Gaussian likelihood's variance, relative to the mean
        variance of the training features.
    kl_warmup : int, default=50
        Epochs over which the KL weight grows linearly from 0 to ``beta``
        (a quarter of the default ``max_iter``; Sønderby et al. warm up over
        200 epochs). Longer than :class:`skvae.VAE`'s 10: the upper layers
        need it to become active. 0 disables the warm-up.
    kl_schedule : {"linear", "cyclical", "capacity"}, default="linear"
        How the KL terms are brought in; see :class:`skvae.VAE`.
    max_capacity : float, default=25.0
        Final capacity C in nats of ``kl_schedule="capacity"``.
    free_bits : float, default=0.0
        Nats of KL per latent dimension (of every layer) that are not
        penalised (Kingma et al. 2016).
    batch_size : int or "auto", default="auto"
        Rows per optimisation step; "auto" is ``min(200, n_samples)``.
    learning_rate_init : float, default=1e-3
        Adam's learning rate.
    max_iter : int, default=200
        Maximum number of epochs. 0 initialises the model without training.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows and stop when the
        validation loss stops improving; the best weights are restored.
    validation_fraction : float, default=0.1
        Share of rows held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` before stopping
        (counted after the warm-up).
    tol : float, default=1e-4
        Minimal improvement of the loss (nats per row).
    objective : {"elbo", "iwae"}, default="elbo"
        Training objective: the ELBO with one draw, or the importance-weighted
        bound over ``n_iwae_samples`` draws of the whole hierarchy (Burda et
        al. 2016), as on :class:`skvae.VAE`.
    n_iwae_samples : int, default=5
        Draws per row of ``objective="iwae"``.
    n_importance_samples : int, default=1
        Samples for ``score_samples``: 1 gives the ELBO, more the tighter
        importance-weighted bound with log weights
        log p(x | z_1) + sum_l log p(z_l | z_{l+1}) + log p(z_L)
        - sum_l log q(z_l | .).
    max_grad_norm : float or None, default=None
        Clip the gradients' global norm to this value at each step.
    compile : bool, default=False
        Compile the training step's forward pass with ``torch.compile``.
    warm_start : bool, default=False
        Continue from the previous fit's weights and optimiser state.
    verbose : bool or int, default=False
        Print one line per epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, batching, noise and the validation split.
    device : str, default="auto"
        "auto" (CUDA when available), "cpu", "cuda" or "cuda:N".
    callbacks : list of skvae.Callback or None, default=None
        Extra callbacks called by the training loop.
    encoder, decoder : torch.nn.Module class or instance, default=None
        Your own data-side networks (see Notes), with ``encoder__<name>`` /
        ``decoder__<name>`` parameters routed to their classes, as in
        :class:`skvae.VAE`.
    **kwargs
        ``encoder__<name>`` and ``decoder__<name>`` parameters.

    Attributes
    ----------
    module_ : HierarchicalVAEModule
        The trained network.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when X has string names.
    n_iter_ : int
        Number of epochs trained.
    history_ : list of dict
        One record per epoch as for :class:`skvae.VAE`; ``kl_per_dim`` lists
        every layer's dimensions, bottom first, and ``active_units`` counts
        the top layer's.
    loss_curve_ : list of float
        ``train_loss`` of each epoch.
    best_loss_ : float
        Best validation loss with early stopping, else best training loss
        after the warm-up.

    See Also
    --------
    LadderVAE : The same generative model with top-down inference.
    skvae.VAE : One stochastic layer.

    Notes
    -----
    Of :class:`skvae.VAE`'s options, the hierarchical models do not have
    ``input_shape`` (images are passed as flattened rows to MLPs),
    ``prior`` nor ``tc_weight``. User networks replace the
    data-side ones: ``encoder`` maps x to the features of the first layer's
    head (``hidden_layer_sizes[-1]`` wide) and ``decoder`` maps z_1 to the
    likelihood's parameters.

    References
    ----------
    .. [1] C. K. Sønderby, T. Raiko, L. Maaløe, S. K. Sønderby and O. Winther,
       "Ladder Variational Autoencoders", NeurIPS 2016.
    .. [2] Y. Burda, R. Grosse and R. Salakhutdinov, "Importance Weighted
       Autoencoders", ICLR 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae.models.hierarchical import HierarchicalVAE
    >>> X = np.random.RandomState(0).normal(size=(20, 5))
    >>> model = HierarchicalVAE(n_components=(4, 2), hidden_layer_sizes=(8,),
    ...                         max_iter=2, random_state=0)
    >>> model.fit(X).transform(X).shape
    (20, 2)
    >>> [Z.shape for Z in model.transform_layers(X)]
    [(20, 4), (20, 2)]
    >>> model.inverse_transform(model.transform(X)).shape, model.sample(3).shape
    ((20, 5), (3, 5))
    """

    _top_down = False

    _parameter_constraints = {
        **{
            k: v
            for k, v in VAE._parameter_constraints.items()
            if k not in _VAE_ONLY_PARAMS
        },
        "n_components": ["array-like", Interval(Integral, 1, None, closed="left")],
        "latent_hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "batch_norm": ["boolean"],
    }

    def __init__(
        self,
        n_components=(32, 16, 8),
        *,
        beta=1.0,
        hidden_layer_sizes=(256, 128),
        latent_hidden_layer_sizes=(128,),
        batch_norm=True,
        activation="relu",
        likelihood="gaussian",
        min_variance=1e-3,
        kl_warmup=50,
        kl_schedule="linear",
        max_capacity=25.0,
        free_bits=0.0,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=200,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        objective="elbo",
        n_iwae_samples=5,
        n_importance_samples=1,
        max_grad_norm=None,
        compile=False,
        warm_start=False,
        verbose=False,
        random_state=None,
        device="auto",
        callbacks=None,
        encoder=None,
        decoder=None,
        **kwargs,
    ):
        self.n_components = n_components
        self.beta = beta
        self.hidden_layer_sizes = hidden_layer_sizes
        self.latent_hidden_layer_sizes = latent_hidden_layer_sizes
        self.batch_norm = batch_norm
        self.activation = activation
        self.likelihood = likelihood
        self.min_variance = min_variance
        self.kl_warmup = kl_warmup
        self.kl_schedule = kl_schedule
        self.max_capacity = max_capacity
        self.free_bits = free_bits
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.objective = objective
        self.n_iwae_samples = n_iwae_samples
        self.n_importance_samples = n_importance_samples
        self.max_grad_norm = max_grad_norm
        self.compile = compile
        self.warm_start = warm_start
        self.verbose = verbose
        self.random_state = random_state
        self.device = device
        self.callbacks = callbacks
        self.encoder = encoder
        self.decoder = decoder
        self._set_routed_params(kwargs)

    def _layer_sizes(self) -> tuple[int, ...]:
        return _positive_ints(self.n_components, "n_components", allow_empty=False)

    def _check_params(self, X) -> None:
        super()._check_params(X)  # hidden sizes, likelihood's range
        self._layer_sizes()
        self._latent_hidden_sizes()

    def _latent_hidden_sizes(self) -> tuple[int, ...]:
        return _positive_ints(
            self.latent_hidden_layer_sizes,
            "latent_hidden_layer_sizes",
            allow_empty=True,
        )

    def _build_module(self, X) -> HierarchicalVAEModule:
        return HierarchicalVAEModule(
            X.shape[1],
            self._layer_sizes(),
            self._hidden_sizes(),
            self._latent_hidden_sizes(),
            self.activation,
            self._data_likelihood(X),
            top_down=self._top_down,
            batch_norm=self.batch_norm,
            encoder=self._network_spec("encoder"),
            decoder=self._network_spec("decoder"),
            objective=self.objective,
            n_iwae_samples=self.n_iwae_samples,
        )

    def inverse_transform(self, X, layer=-1):
        """Decode latent codes of one layer (default: the top) to the mean of p(x | z).

        A code of layer ``l`` is passed down through the means of the
        generative conditionals p(z_{l-1} | z_l), ..., p(z_1 | z_2), then
        decoded by p(x | z_1).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components[layer])
            Latent codes, e.g. the output of :meth:`transform` (top layer) or
            an entry of :meth:`transform_layers`.
        layer : int, default=-1
            Index of the codes' layer in ``n_components`` (0 is the bottom,
            -1 the top).

        Returns
        -------
        X_original : ndarray of shape (n_samples, `n_features_in_`)
            The decoder's means.

        Examples
        --------
        >>> import numpy as np
        >>> from skvae.models.hierarchical import HierarchicalVAE
        >>> X = np.random.RandomState(0).normal(size=(20, 5))
        >>> model = HierarchicalVAE((4, 2), hidden_layer_sizes=(8,), max_iter=2)
        >>> bottom = model.fit(X).transform_layers(X)[0]
        >>> model.inverse_transform(bottom, layer=0).shape
        (20, 5)
        """
        check_is_fitted(self)
        sizes = self.module_.sizes
        if not isinstance(layer, Integral) or not -len(sizes) <= layer < len(sizes):
            raise ValueError(
                f"layer must be an integer in [{-len(sizes)}, {len(sizes)}), "
                f"got layer={layer!r}."
            )
        Z = check_array(X, dtype=FLOATS)
        if Z.shape[1] != sizes[layer]:
            raise ValueError(
                f"X has {Z.shape[1]} features, but {type(self).__name__}."
                f"inverse_transform is expecting {sizes[layer]} latent dimensions "
                f"(layer={layer})."
            )
        module = self.module_

        def decode(z: torch.Tensor) -> torch.Tensor:
            return module.decode_mean(z, int(layer))

        return self._map_batches(decode, Z, Z.dtype)

    def transform_layers(self, X):
        """Encode X to the posterior means of every latent layer.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to encode.

        Returns
        -------
        Z_layers : list of ndarray
            One array per layer, bottom (next to the data) first, of shape
            ``(n_samples, n_components[l])``; the last is :meth:`transform`'s.

        Examples
        --------
        >>> import numpy as np
        >>> from skvae.models.hierarchical import HierarchicalVAE
        >>> X = np.random.RandomState(0).normal(size=(20, 5))
        >>> model = HierarchicalVAE((4, 2), hidden_layer_sizes=(8,), max_iter=2)
        >>> [Z.shape for Z in model.fit(X).transform_layers(X)]
        [(20, 4), (20, 2)]
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=FLOATS, reset=False)
        Z = self._map_batches(self.module_.embed_layers, X, X.dtype)
        return np.split(Z, np.cumsum(self.module_.sizes)[:-1], axis=1)


class LadderVAE(HierarchicalVAE):
    """Ladder variational autoencoder (Sønderby et al. 2016): top-down inference.

    The generative model is :class:`HierarchicalVAE`'s. Inference first runs
    a deterministic bottom-up pass that gives, at each stochastic layer, a
    Gaussian (mu_hat_l, var_hat_l). Then, top-down, q(z_L | x) =
    N(mu_hat_L, var_hat_L) and for l < L the posterior of z_l is the
    precision-weighted merge of (mu_hat_l, var_hat_l) with the generative
    conditional p(z_l | z_{l+1}) at the drawn z_{l+1}:
    var_q = 1 / (1 / var_hat + 1 / var_p),
    mu_q = (mu_hat / var_hat + mu_p / var_p) * var_q. The generative
    conditionals are thus shared by inference and generation, and every KL
    term, KL(q(z_l | x, z_{l+1}) || p(z_l | z_{l+1})), is analytic.

    Parameters
    ----------
    n_components : int or tuple of int, default=(32, 16, 8)
        Width of each stochastic layer, bottom (next to the data) to top: the
        default has z_1 of 32 dimensions and a top layer of 8. An int is a
        single layer. ``transform`` returns ``n_components[-1]`` columns.
    beta : float, default=1.0
        Weight of the KL terms.
    hidden_layer_sizes : array-like of int, default=(256, 128)
        Hidden widths of the network between x and z_1 (the decoder p(x | z_1)
        mirrors them), as :class:`skvae.VAE`'s.
    latent_hidden_layer_sizes : array-like of int, default=(128,)
        Hidden widths of the smaller networks between consecutive stochastic
        layers (inference and generative ones); may be empty.
    batch_norm : bool, default=True
        Batch normalisation after every hidden linear layer, as in Sønderby
        et al. (2016). On 4,000 binarised MNIST digits it lowers the held-out
        negative log-likelihood of the ladder by about 25 nats at 100 epochs.
    activation : {"relu", "tanh", "logistic", "identity", "elu", "gelu", \
"silu"}, default="relu"
        Activation of the hidden layers.
    likelihood : {"gaussian", "bernoulli", "auto"} or dict, default="gaussian"
        The observation model p(x | z_1); see :class:`skvae.VAE`.
    min_variance : float, default=1e-3
        Floor of the Gaussian likelihood's variance, relative to the mean
        variance of the training features.
    kl_warmup : int, default=50
        Epochs over which the KL weight grows linearly from 0 to ``beta``
        (a quarter of the default ``max_iter``; Sønderby et al. warm up over
        200 epochs). Longer than :class:`skvae.VAE`'s 10: the upper layers
        need it to become active. 0 disables the warm-up.
    kl_schedule : {"linear", "cyclical", "capacity"}, default="linear"
        How the KL terms are brought in; see :class:`skvae.VAE`.
    max_capacity : float, default=25.0
        Final capacity C in nats of ``kl_schedule="capacity"``.
    free_bits : float, default=0.0
        Nats of KL per latent dimension (of every layer) that are not
        penalised (Kingma et al. 2016).
    batch_size : int or "auto", default="auto"
        Rows per optimisation step; "auto" is ``min(200, n_samples)``.
    learning_rate_init : float, default=1e-3
        Adam's learning rate.
    max_iter : int, default=200
        Maximum number of epochs. 0 initialises the model without training.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows and stop when the
        validation loss stops improving; the best weights are restored.
    validation_fraction : float, default=0.1
        Share of rows held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` before stopping
        (counted after the warm-up).
    tol : float, default=1e-4
        Minimal improvement of the loss (nats per row).
    objective : {"elbo", "iwae"}, default="elbo"
        Training objective: the ELBO, or the importance-weighted bound over
        ``n_iwae_samples`` draws, as in :class:`HierarchicalVAE`.
    n_iwae_samples : int, default=5
        Draws per row of ``objective="iwae"``.
    n_importance_samples : int, default=1
        Samples for ``score_samples``: 1 gives the ELBO, more the tighter
        importance-weighted bound with log weights
        log p(x | z_1) + sum_l log p(z_l | z_{l+1}) + log p(z_L)
        - sum_l log q(z_l | .).
    max_grad_norm : float or None, default=None
        Clip the gradients' global norm to this value at each step.
    compile : bool, default=False
        Compile the training step's forward pass with ``torch.compile``.
    warm_start : bool, default=False
        Continue from the previous fit's weights and optimiser state.
    verbose : bool or int, default=False
        Print one line per epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, batching, noise and the validation split.
    device : str, default="auto"
        "auto" (CUDA when available), "cpu", "cuda" or "cuda:N".
    callbacks : list of skvae.Callback or None, default=None
        Extra callbacks called by the training loop.

    Attributes
    ----------
    module_ : HierarchicalVAEModule
        The trained network (``top_down=True``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when X has string names.
    n_iter_ : int
        Number of epochs trained.
    history_ : list of dict
        One record per epoch as for :class:`skvae.VAE`; ``kl_per_dim`` lists
        every layer's dimensions, bottom first, and ``active_units`` counts
        the top layer's.
    loss_curve_ : list of float
        ``train_loss`` of each epoch.
    best_loss_ : float
        Best validation loss with early stopping, else best training loss
        after the warm-up.

    See Also
    --------
    HierarchicalVAE : The same generative model with bottom-up inference.
    skvae.VAE : One stochastic layer.

    Notes
    -----
    The paper's recipe is kept: batch normalisation in the deterministic
    layers and a linear warm-up of the KL weight. On 4,000 binarised MNIST
    digits (``benchmarks/bench_likelihood.py``, 100 epochs) the ladder's
    held-out negative log-likelihood is about 103 nats against 107-108 for
    :class:`skvae.VAE` with a (512, 256) network, and on a par with the
    bottom-up :class:`HierarchicalVAE` (the paper reports its advantage
    with all 60,000 digits and far longer training). ``transform`` returns
    mu_hat_L,
    the mean of q(z_L | x). Of :class:`skvae.VAE`'s options, ``input_shape``,
    ``prior`` and ``tc_weight`` are not available; user
    ``encoder``/``decoder`` networks replace the data-side ones, as in
    :class:`HierarchicalVAE`.

    References
    ----------
    .. [1] C. K. Sønderby, T. Raiko, L. Maaløe, S. K. Sønderby and O. Winther,
       "Ladder Variational Autoencoders", NeurIPS 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae.models.hierarchical import LadderVAE
    >>> X = np.random.RandomState(0).uniform(size=(20, 5))
    >>> model = LadderVAE(n_components=(4, 2), hidden_layer_sizes=(8,),
    ...                   likelihood="bernoulli", max_iter=2, random_state=0)
    >>> model.fit(X).transform(X).shape
    (20, 2)
    >>> [Z.shape for Z in model.transform_layers(X)]
    [(20, 4), (20, 2)]
    >>> model.score_samples(X).shape, model.sample(3).shape
    ((20,), (3, 5))
    """

    _top_down = True
