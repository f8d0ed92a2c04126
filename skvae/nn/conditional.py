"""The label-conditioned Gaussian VAE: a decoder p(x | z, y) that takes a one-hot y.

:class:`ConditionalVAEModule` is the module of :class:`skvae.ConditionalVAE`
and the generative part of the semi-supervised model M2; its draws and
bounds are those of :mod:`skvae.nn.gaussian`. :class:`SemiSupervisedVAEModule`,
the module of :class:`skvae.SemiSupervisedVAE`, adds a classifier q(y | x),
the M2 objective on labelled and unlabelled rows, and the classifier's
label-free regularisers (virtual adversarial training, its manifold form,
entropy and class balance).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F

from skvae.nn.base import ELBOTerms, LatentModule, StepContext
from skvae.nn.conv import _ConvFeatures, make_decoder, make_encoder
from skvae.nn.divergences import gaussian_kl, posterior_log_prob
from skvae.nn.gaussian import (
    bound,
    elbo_loss,
    elbo_terms,
    iwae_loss,
    reparameterize,
    shared_draws,
    split_gaussian,
    training_draws,
)
from skvae.nn.likelihoods import Likelihood, MixedLikelihood
from skvae.nn.networks import MLP, NetworkSpec
from skvae.nn.priors import StandardNormalPrior

__all__ = ["ConditionalVAEModule", "SemiSupervisedTerms", "SemiSupervisedVAEModule"]

# Share of the rows of a training step on which M2's manifold adversarial
# term, its costliest (three decoder passes a row), is computed.
_MANIFOLD_SHARE = 0.25


class ConditionalVAEModule(LatentModule):
    """A Gaussian-latent VAE whose decoder p(x | z, y) takes a one-hot label.

    The encoder q(z | x) sees only ``x`` unless ``encode_label`` is true, in
    which case it is q(z | x, y). Methods without a label marginalise it over
    the class prior ``log_prior`` (a buffer: log p(y) of each class).

    Its training step is safe under bfloat16 autocast
    (``supports_autocast``): the encoder's and decoder's outputs are cast to
    float32 before the KL and likelihood terms.

    Parameters
    ----------
    n_features : int
        Width of the data.
    n_classes : int
        Number of labels.
    n_components : int
        Latent dimension.
    hidden_layer_sizes : sequence of int
        Encoder widths; the decoder mirrors them.
    activation : str
        Activation name.
    likelihood : Likelihood
        The observation model.
    log_prior : torch.Tensor of shape (n_classes,)
        Log-probabilities of the classes.
    encode_label : bool, default=False
        Whether the encoder also takes the label.
    input_shape : tuple of int or None, default=None
        (C, H, W) for convolutional networks (a label given to the encoder
        joins the convolutional features at its linear layer).
    encoder, decoder : NetworkSpec or None, default=None
        User networks in place of the built-in ones; the encoder receives
        the row (and the one-hot label, appended, if it takes it) and the
        decoder the code with the one-hot label appended.
    objective : {"elbo", "iwae"}, default="elbo"
        Training objective: the ELBO of (x, y), or the importance-weighted
        bound of log p(x | y) with ``n_iwae_samples`` draws.
    n_iwae_samples : int, default=5
        Draws per row of the "iwae" objective.

    Examples
    --------
    >>> import torch
    >>> from skvae.nn import BernoulliLikelihood
    >>> m = ConditionalVAEModule(5, 3, 2, (8,), "relu", BernoulliLikelihood(5),
    ...                          torch.full((3,), -1.0986))
    >>> m.decode_mean(torch.zeros(4, 2), torch.eye(3)[[0, 1, 2, 0]]).shape
    torch.Size([4, 5])
    """

    supports_autocast = True

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        n_components: int,
        hidden_layer_sizes: Sequence[int],
        activation: str,
        likelihood: Likelihood,
        log_prior: torch.Tensor,
        encode_label: bool = False,
        input_shape: Sequence[int] | None = None,
        encoder: NetworkSpec | None = None,
        decoder: NetworkSpec | None = None,
        objective: str = "elbo",
        n_iwae_samples: int = 5,
    ) -> None:
        super().__init__()
        self.objective = objective
        self.n_iwae_samples = n_iwae_samples
        self.n_latent = n_components
        self.noise_dim = n_components
        self.n_classes = n_classes
        self.rows_per_input = n_classes  # label-free scores decode every class
        self.encode_label = encode_label
        self.encoder = make_encoder(
            n_features + (n_classes if encode_label else 0),
            hidden_layer_sizes,
            2 * n_components,
            activation,
            input_shape,
            custom=encoder,
        )
        self.decoder = make_decoder(
            n_components + n_classes,
            hidden_layer_sizes,
            likelihood.n_params,
            activation,
            input_shape,
            custom=decoder,
        )
        self.likelihood = likelihood
        self.prior = StandardNormalPrior(n_components)
        self.register_buffer("log_prior", log_prior.clone())

    # ------------------------------------------------------------- pieces
    def encode(
        self, x: torch.Tensor, y: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior means and log-variances; ``y`` one-hot if the encoder uses it."""
        if self.encode_label:
            x = torch.cat([x, y], dim=-1)
        return split_gaussian(self.encoder(x))

    def decode(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Decoder outputs (float32) for latents ``z`` and one-hot labels ``y``."""
        y = y.expand(*z.shape[:-1], y.shape[-1])
        return self.decoder(torch.cat([z, y], dim=-1)).float()

    def _all_classes(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each row repeated once per class, with the matching one-hot labels."""
        n, k = x.shape[0], self.n_classes
        eye = torch.eye(k, device=x.device, dtype=x.dtype)
        return x.repeat_interleave(k, dim=0), eye.repeat(n, 1)

    def _each_class(self, eps: torch.Tensor) -> torch.Tensor:
        """Scoring noise for :meth:`_all_classes`' rows: a row's own, per class."""
        return eps if eps.ndim == 2 else eps.repeat_interleave(self.n_classes, 1)

    def class_weights(self, x: torch.Tensor) -> torch.Tensor:
        """Weights of the classes for label-free inference, ``(batch, n_classes)``.

        The prior p(y) here; the semi-supervised model uses its classifier.
        """
        return self.log_prior.exp().expand(x.shape[0], -1)

    # ----------------------------------------------------------- training
    def elbo_parts(
        self, x: torch.Tensor, y: torch.Tensor, ctx: StepContext, update: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One-draw terms of the ELBO of (x, y): ``log_px``, ``kl_per_dim``, ``mu``.

        ``update=False`` keeps the likelihood's running statistics unchanged
        (rows whose label is only a guess).
        """
        mu, log_var = self.encode(x, y)
        z, _ = training_draws(mu, log_var, ctx)
        log_px = self.likelihood.log_prob(x, self.decode(z, y), update=update)
        return log_px, gaussian_kl(mu, log_var), mu

    def forward(self, x: torch.Tensor, y: torch.Tensor, ctx: StepContext) -> ELBOTerms:
        """Per-sample negative beta-ELBO of (x, y) (or IWAE bound) and its parts."""
        if self.objective == "iwae" and self.n_iwae_samples > 1:
            return self._iwae_terms(x, y, ctx)
        log_px, kl_per_dim, mu = self.elbo_parts(x, y, ctx)
        return elbo_terms(elbo_loss(log_px, kl_per_dim, ctx), log_px, kl_per_dim, mu)

    def _iwae_terms(
        self, x: torch.Tensor, y: torch.Tensor, ctx: StepContext
    ) -> ELBOTerms:
        """Negative importance-weighted bound of log p(x | y), k draws per row."""
        mu, log_var = self.encode(x, y)
        z, eps = training_draws(mu, log_var, ctx, self.n_iwae_samples)
        log_px = self.likelihood.log_prob(x, self.decode(z, y))  # (k, batch)
        log_ratio = self.prior.log_prob(z) - posterior_log_prob(eps, log_var)
        loss = iwae_loss(log_px, log_ratio, ctx)
        return elbo_terms(loss, log_px, gaussian_kl(mu, log_var), mu)

    # ---------------------------------------------------------- inference
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The posterior mean (over ``class_weights`` if the encoder takes labels)."""
        if not self.encode_label:
            return self.encode(x)[0]
        weights = self.class_weights(x)
        eye = torch.eye(self.n_classes, device=x.device, dtype=x.dtype)
        out = torch.zeros(x.shape[0], self.n_latent, device=x.device, dtype=x.dtype)
        for c in range(self.n_classes):  # a loop keeps each matmul (batch, .)
            out += (
                weights[:, c, None] * self.encode(x, eye[c].expand(x.shape[0], -1))[0]
            )
        return out

    def decode_mean(
        self, z: torch.Tensor, y: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Mean of p(x | z, y); without ``y``, of p(x | z) = sum_y p(y) p(x | z, y).

        A mixed likelihood's values are typed (0/1, one-hot, counts): without
        ``y``, those of the mixture's expected values
        (:meth:`~skvae.nn.likelihoods.MixedLikelihood.typed`), as an average
        of typed values would be of no type.
        """
        if y is not None:
            return self.likelihood.output(self.decode(z, y))
        zs, ys = self._all_classes(z)
        mixed = isinstance(self.likelihood, MixedLikelihood)
        params = self.decode(zs, ys)
        means = (
            self.likelihood.expectation(params)
            if mixed
            else self.likelihood.mean(params)
        ).view(z.shape[0], self.n_classes, -1)
        mean = (self.log_prior.exp()[None, :, None] * means).sum(1)
        return self.likelihood.typed(mean) if mixed else mean

    def conditional_log_likelihood(
        self, x: torch.Tensor, y: torch.Tensor, eps: torch.Tensor
    ) -> torch.Tensor:
        """ELBO (one draw) or importance-weighted bound of log p(x | y) per row."""
        mu, log_var = self.encode(x, y)
        z = shared_draws(mu, log_var, eps)  # (k, batch, n_components)
        log_px = self.likelihood.log_prob(x, self.decode(z, y))  # (k, batch)
        if eps.shape[0] == 1:
            return log_px[0] - gaussian_kl(mu, log_var).sum(-1)
        return bound(log_px, self.prior.log_prob(z), eps, log_var)

    def class_log_likelihoods(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Bounds of log p(x | y = c) for every class c, ``(batch, n_classes)``."""
        xs, ys = self._all_classes(x)
        eps = self._each_class(eps)
        return self.conditional_log_likelihood(xs, ys, eps).view(
            x.shape[0], self.n_classes
        )

    def log_likelihood(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Bound of log p(x) = log sum_y p(y) p(x | y) per row."""
        return torch.logsumexp(
            self.class_log_likelihoods(x, eps) + self.log_prior, dim=-1
        )

    def reconstruction_log_likelihood(
        self, x: torch.Tensor, eps: torch.Tensor
    ) -> torch.Tensor:
        """Mean over draws of log sum_y p(y) p(x | z, y), z ~ q(z | x, .)."""
        xs, ys = self._all_classes(x)
        eps = self._each_class(eps)
        z = shared_draws(*self.encode(xs, ys), eps)  # (k, batch * n_classes, d)
        log_px = self.likelihood.log_prob(xs, self.decode(z, ys))
        log_px = log_px.view(eps.shape[0], x.shape[0], self.n_classes)
        weights = self.class_weights(x).clamp_min(1e-30).log()
        return torch.logsumexp(log_px + weights, dim=-1).mean(0)

    def sample(
        self, n_samples: int, generator: torch.Generator, y: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Decoder means of prior latents; labels ``y`` (one-hot) or drawn from p(y)."""
        z = self.prior.sample(n_samples, generator)
        if y is None:
            codes = torch.multinomial(
                self.log_prior.exp(), n_samples, replacement=True, generator=generator
            )
            y = torch.eye(self.n_classes, device=z.device, dtype=z.dtype)[codes]
        return self.decode_mean(z, y)


class SemiSupervisedTerms(NamedTuple):
    """Per-row terms of the M2 objective (batch dimension first, not reduced)."""

    loss: torch.Tensor  # labelled: L(x, y) + alpha * CE; unlabelled: U(x)
    recon: torch.Tensor  # -log p(x | z, y), expected under q(y | x) if unlabelled
    kl: torch.Tensor  # KL(q(z | x, y) || p(z)), likewise
    kl_per_dim: torch.Tensor  # (batch, n_components)
    classification: torch.Tensor  # -log q(y | x) on labelled rows, else 0
    labelled: torch.Tensor  # 1.0 on labelled rows, else 0
    vat: torch.Tensor  # KL(q(y | x) || q(y | x + r_adv)), 0 outside training
    entropy: torch.Tensor  # H(q(y | x)) on every row
    manifold_vat: torch.Tensor  # the same KL along the decoder's manifold
    balance: torch.Tensor  # KL(p(y) || batch mean of q(y | x)), on every row


class SemiSupervisedVAEModule(ConditionalVAEModule):
    """M2: classifier q(y | x), encoder q(z | x, y), decoder p(x | z, y).

    Trained on the ELBO (one draw per row and class). Not run under bfloat16
    autocast (``supports_autocast`` is false): the virtual adversarial
    probes are steps a tenth of the radius long, which bfloat16's three
    significant digits would round off the rows.

    Parameters
    ----------
    n_features, n_classes, n_components, hidden_layer_sizes, activation, \
likelihood, log_prior
        As in :class:`skvae.nn.conditional.ConditionalVAEModule`.
    alpha : float
        Weight of the classification loss on labelled rows.
    label_smoothing : float, default=0.0
        Share of the classification loss's target spread evenly over the
        classes: a labelled row's loss is ``(1 - label_smoothing)`` times its
        cross-entropy plus ``label_smoothing`` times the mean over classes
        of -log q(y | x). (The recorded ``ce`` is the plain cross-entropy.)
    input_shape : tuple of int or None, default=None
        (C, H, W) for convolutional classifier, encoder and decoder.
    vat_epsilon : float, default=0.0
        Radius (L2 norm, in data units) of the virtual adversarial
        perturbation; 0 turns the term off.
    vat_weight : float, default=1.0
        Weight of the virtual adversarial loss, in units of ``alpha``.
    entropy_weight : float, default=0.0
        Weight of the entropy of q(y | x), in units of ``alpha``, ramped in
        with the warm-up.
    manifold_vat_epsilon : float, default=0.0
        Radius (L2 norm, in latent units) of the virtual adversarial
        perturbation of z, carried to x through the decoder; 0 turns the
        term off.
    manifold_vat_weight : float, default=1.0
        Weight of that term, in units of ``alpha``, ramped in with the
        warm-up.
    balance_weight : float, default=0.0
        Weight of KL(p(y) || mean of q(y | x) over the batch), in units of
        ``alpha``, ramped in with the warm-up.
    class_coverage : float, default=1.0
        In training, an unlabelled row's bound is summed over its most
        probable classes that together hold at least this share of
        q(y | x) (see :meth:`likely_classes`); 1 sums over every class.

    Attributes
    ----------
    labelled_share : float
        Probability that a labelled row of a training step contributes its
        bound and the adversarial terms (weighted by the inverse, so that
        the expected loss is unchanged); 1 (every row) unless the estimator
        lowers it for labelled rows repeated within an epoch. The manifold
        term is further computed on a quarter of the rows (``_MANIFOLD_SHARE``).

    Examples
    --------
    >>> import torch
    >>> from skvae.nn import BernoulliLikelihood
    >>> m = SemiSupervisedVAEModule(5, 3, 2, (8,), "relu", BernoulliLikelihood(5),
    ...                             torch.full((3,), -1.0986), alpha=1.0)
    >>> m.class_weights(torch.zeros(4, 5)).shape
    torch.Size([4, 3])
    """

    supports_autocast = False

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        n_components: int,
        hidden_layer_sizes: Sequence[int],
        activation: str,
        likelihood: Likelihood,
        log_prior: torch.Tensor,
        alpha: float,
        input_shape: Sequence[int] | None = None,
        label_smoothing: float = 0.0,
        encoder: NetworkSpec | None = None,
        decoder: NetworkSpec | None = None,
        vat_epsilon: float = 0.0,
        vat_weight: float = 1.0,
        entropy_weight: float = 0.0,
        manifold_vat_epsilon: float = 0.0,
        manifold_vat_weight: float = 1.0,
        balance_weight: float = 0.0,
        class_coverage: float = 1.0,
    ) -> None:
        super().__init__(
            n_features,
            n_classes,
            n_components,
            hidden_layer_sizes,
            activation,
            likelihood,
            log_prior,
            encode_label=True,
            input_shape=input_shape,
            encoder=encoder,
            decoder=decoder,
            objective="elbo",
        )
        self.alpha = alpha
        self.label_smoothing = float(label_smoothing)
        self.vat_epsilon = float(vat_epsilon)
        self.vat_weight = float(vat_weight)
        self.entropy_weight = float(entropy_weight)
        self.manifold_vat_epsilon = float(manifold_vat_epsilon)
        self.manifold_vat_weight = float(manifold_vat_weight)
        self.balance_weight = float(balance_weight)
        self.class_coverage = float(class_coverage)
        # Share of labelled rows the adversarial terms see in a step; the
        # estimator lowers it where it repeats the labelled rows in an epoch.
        self.labelled_share = 1.0
        self.classifier = make_encoder(
            n_features, hidden_layer_sizes, n_classes, activation, input_shape
        )

    def class_log_proba(self, x: torch.Tensor) -> torch.Tensor:
        """Log q(y | x), ``(batch, n_classes)``."""
        return F.log_softmax(self.classifier(x).float(), dim=-1)

    def class_weights(self, x: torch.Tensor) -> torch.Tensor:
        """q(y | x): label-free inference averages over the classifier's belief."""
        return self.class_log_proba(x).exp()

    def virtual_adversarial_loss(
        self, x: torch.Tensor, log_q: torch.Tensor, ctx: StepContext
    ) -> torch.Tensor:
        """KL(q(y | x) || q(y | x + r)) at the most sensitive r of norm epsilon.

        Miyato et al. (2018): one power iteration from a random direction
        finds the direction in which the classifier's prediction changes
        fastest; the loss asks the prediction to stay put at distance
        ``vat_epsilon`` along it. It needs no labels, so every row teaches
        the classifier to be smooth around the data.
        """
        target = log_q.detach()
        d = _unit_rows(ctx.randn(tuple(x.shape), x))
        x0 = x.detach()
        # The probe step is small next to epsilon; the gradient of the KL
        # there approximates its dominant direction (float32-safe size).
        r = (0.1 * self.vat_epsilon * d).requires_grad_(True)
        probe = _kl_rows(target, self.classifier(x0 + r))
        (grad,) = torch.autograd.grad(probe.sum(), r)
        r_adv = self.vat_epsilon * _unit_rows(grad)
        return _kl_rows(target, self.classifier(x0 + r_adv))

    def manifold_adversarial_loss(
        self, x: torch.Tensor, y: torch.Tensor, log_q: torch.Tensor, ctx: StepContext
    ) -> torch.Tensor:
        """KL(q(y | x) || q(y | x')) with x' moved along the decoder's manifold.

        Virtual adversarial training in latent space (after the tangent
        part of Yu et al.'s tangent-normal adversarial regularisation, 2019,
        with a finite latent step for their decoder Jacobian): each row is
        encoded under its label (the classifier's guess where it has none),
        its code is moved by ``manifold_vat_epsilon`` in the direction where
        q(y | x) changes fastest, and the row moves by the change that makes
        in the decoded mean. Such moves stay among plausible rows (a thicker stroke, a
        slant), which a radius in the units of X cannot ask for. Only the
        classifier learns from this term.
        """
        target = log_q.detach()
        codes = torch.where(y >= 0, y, target.argmax(-1))
        labels = torch.eye(self.n_classes, device=x.device, dtype=x.dtype)[codes]
        x0 = x.detach()
        with torch.no_grad():
            mu, _ = self.encode(x0, labels)
            base = self.decode_mean(mu, labels)
        d = _unit_rows(ctx.randn(tuple(mu.shape), mu))
        r = (0.1 * self.manifold_vat_epsilon * d).requires_grad_(True)
        moved = x0 + self.decode_mean(mu + r, labels) - base
        probe = _kl_rows(target, self.classifier(moved))
        (grad,) = torch.autograd.grad(probe.sum(), r)
        with torch.no_grad():
            shift = self.manifold_vat_epsilon * _unit_rows(grad)
            moved = x0 + self.decode_mean(mu + shift, labels) - base
        return _kl_rows(target, self.classifier(moved))

    def _encode_pairs(
        self, x: torch.Tensor, rows: torch.Tensor, classes: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``encode(x[rows], one-hot classes)``, each row's own part computed once.

        The built-in encoders take the one-hot label in a linear layer: the
        MLP's first, whose product with the row is the same for every class
        of the row, and the convolutional encoder's last, after features of
        the row alone. That part is computed once a row and shared by its
        pairs (the same values to float rounding); a user's encoder sees
        each pair.
        """
        encoder = self.encoder
        if isinstance(encoder, MLP):
            first = encoder[0]
            n = x.shape[-1]
            h = F.linear(x, first.weight[:, :n], first.bias).index_select(0, rows)
            h = h + first.weight[:, n:].t()[classes]
            for layer in list(encoder)[1:]:
                h = layer(h)
            return split_gaussian(h)
        eye = torch.eye(self.n_classes, device=x.device, dtype=x.dtype)
        if isinstance(encoder, _ConvFeatures):
            features = encoder.act(encoder.conv(x)).flatten(1)
            features = features.index_select(0, rows)
            h = encoder.linear(torch.cat([features, eye[classes]], dim=1))
            return split_gaussian(h)
        return self.encode(x.index_select(0, rows), eye[classes])

    def likely_classes(self, q: torch.Tensor) -> torch.Tensor:
        """Mask of each row's most probable classes holding ``class_coverage``.

        The smallest set of classes, taken in order of decreasing q(y | x),
        whose probabilities sum to at least ``class_coverage``; every class
        when ``class_coverage`` is 1.

        Parameters
        ----------
        q : torch.Tensor of shape (batch, n_classes)
            Class probabilities of each row.

        Returns
        -------
        torch.Tensor of shape (batch, n_classes), bool
        """
        if self.class_coverage >= 1.0:
            return torch.ones_like(q, dtype=torch.bool)
        q = q.detach()
        ordered, order = q.sort(dim=-1, descending=True)
        # a class is needed while the more probable ones hold less than the share
        needed = (ordered.cumsum(-1) - ordered) < self.class_coverage
        return torch.zeros_like(needed).scatter(-1, order, needed)

    def _bound_parts(
        self,
        x: torch.Tensor,
        lab_rows: torch.Tensor,
        lab_codes: torch.Tensor,
        unl: torch.Tensor,
        unl_pairs: tuple[torch.Tensor, torch.Tensor],
        ctx: StepContext,
    ) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
        """One-draw ``log_px`` and ``kl_per_dim`` of labelled rows and unlabelled pairs.

        The labelled rows ``lab_rows`` of ``x`` under their labels
        ``lab_codes``, and the pairs ``unl_pairs`` (positions in ``unl``,
        classes) of the unlabelled rows ``unl``, encoded and decoded in one
        call each (:meth:`_encode_pairs`), the noise drawn as two separate
        draws would (labelled rows first). Only the labelled rows update the
        likelihood's statistics. Returns the labelled rows' terms, then the
        pairs'.
        """
        pair_rows, pair_classes = unl_pairs
        n_l, n_p = lab_rows.numel(), pair_rows.numel()
        xs = x.index_select(0, torch.cat([lab_rows, unl]))
        rows = torch.cat([torch.arange(n_l, device=x.device), n_l + pair_rows])
        classes = torch.cat([lab_codes, pair_classes])
        mu, log_var = self._encode_pairs(xs, rows, classes)
        noise = [ctx.randn((n, mu.shape[-1]), like=mu) for n in (n_l, n_p) if n]
        z = reparameterize(mu, log_var, torch.cat(noise))
        eye = torch.eye(self.n_classes, device=x.device, dtype=x.dtype)
        params = self.decode(z, eye[classes])
        xs = xs.index_select(0, rows)
        log_px = []  # (an empty batch would count as an update)
        if n_l:
            log_px.append(self.likelihood.log_prob(xs[:n_l], params[:n_l]))
        if n_p:
            log_px.append(
                self.likelihood.log_prob(xs[n_l:], params[n_l:], update=False)
            )
        log_px = torch.cat(log_px)
        kpd = gaussian_kl(mu, log_var)
        return (log_px[:n_l], kpd[:n_l]), (log_px[n_l:], kpd[n_l:])

    def _unlabelled_bounds(
        self, xu: torch.Tensor, q_u: torch.Tensor, ctx: StepContext
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-class bounds of unlabelled rows and the weights that sum them.

        Returns ``(bound, log_px, kl_per_dim, weights)``, the first two and
        the weights ``(rows, n_classes)``, the KL ``(rows, n_classes, d)``.
        In training, only each row's :meth:`likely_classes` are decoded (one
        batched call for all pairs of row and class); the weights are
        q(y | x) renormalised over them (zero elsewhere), so that the
        expected bound is that under q(y | x) restricted to its likely
        classes. Outside training (and with ``class_coverage=1``) every
        class is decoded and the weights are q(y | x). (A training step
        computes the same with its labelled rows' bounds in the same calls.)
        """
        keep = self._decoded_classes(q_u)
        pairs = keep.nonzero(as_tuple=True)
        empty = torch.zeros(0, dtype=torch.long, device=xu.device)
        every = torch.arange(xu.shape[0], device=xu.device)
        _, parts = self._bound_parts(xu, empty, empty, every, pairs, ctx)
        return self._class_bounds(q_u, keep, pairs, *parts, ctx)

    def _decoded_classes(self, q_u: torch.Tensor) -> torch.Tensor:
        """The classes an unlabelled row is decoded under: likely ones in training."""
        if self.training:
            return self.likely_classes(q_u)
        return torch.ones_like(q_u, dtype=torch.bool)

    def _class_bounds(
        self,
        q_u: torch.Tensor,
        keep: torch.Tensor,
        pairs: tuple[torch.Tensor, torch.Tensor],
        log_px: torch.Tensor,
        kpd: torch.Tensor,
        ctx: StepContext,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """:meth:`_unlabelled_bounds` from the decoded pairs' terms.

        ``keep`` marks the classes decoded for each row, ``pairs`` (rows and
        classes, in row order) the pairs whose ``log_px`` and ``kpd`` are
        given.
        """
        m, k = q_u.shape
        rows, classes = pairs
        pair_bound = elbo_loss(log_px, kpd, ctx) - self.log_prior[classes]
        if bool(keep.all()):  # the exact M2 sum (rows and classes in order)
            return (
                pair_bound.view(m, k),
                log_px.view(m, k),
                kpd.view(m, k, -1),
                q_u,
            )
        bound = pair_bound.new_zeros(m, k).index_put((rows, classes), pair_bound)
        log_px = log_px.new_zeros(m, k).index_put((rows, classes), log_px)
        kpd = kpd.new_zeros(m, k, kpd.shape[-1]).index_put((rows, classes), kpd)
        weights = q_u * keep
        weights = weights / weights.sum(-1, keepdim=True).clamp_min(1e-30)
        return bound, log_px, kpd, weights

    def _sampled_rows(
        self,
        labelled: torch.Tensor,
        ctx: StepContext,
        fraction: float = 1.0,
        labelled_only: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | float]:
        """Rows a training term is computed on, and their weights.

        Each labelled row with probability ``fraction * labelled_share`` and
        each unlabelled one with probability ``fraction`` (none with
        ``labelled_only``), drawn from the step's generator and weighted by
        the inverse probability, so that the expected loss is that over
        every row (every labelled row with ``labelled_only``).
        """
        device = labelled.device
        if fraction >= 1.0 and self.labelled_share >= 1.0:
            rows = torch.nonzero(labelled)[:, 0] if labelled_only else None
            if rows is None:
                rows = torch.arange(labelled.numel(), device=device)
            return rows, 1.0
        share = torch.where(
            labelled,
            torch.tensor(fraction * self.labelled_share, device=device),
            torch.tensor(0.0 if labelled_only else fraction, device=device),
        )
        draw = torch.rand(labelled.shape, generator=ctx.generator, device=device)
        rows = torch.nonzero(draw < share)[:, 0]
        return rows, 1.0 / share[rows]

    def forward(
        self, x: torch.Tensor, y: torch.Tensor, ctx: StepContext
    ) -> SemiSupervisedTerms:
        """Per-row M2 objective; ``y`` holds class codes, -1 for unlabelled rows."""
        n = x.shape[0]
        labelled = y >= 0
        log_q = self.class_log_proba(x)
        loss = x.new_zeros(n)
        recon = x.new_zeros(n)
        kl_per_dim = x.new_zeros(n, self.n_latent)
        ce = x.new_zeros(n)
        sampling = self.training and torch.is_grad_enabled()
        empty = torch.zeros(0, dtype=torch.long, device=x.device)
        lab_rows, scale, unl = empty, 1.0, empty
        if labelled.any():
            lab = torch.nonzero(labelled)[:, 0]
            ce_l = -log_q[lab].gather(1, y[lab][:, None])[:, 0].to(x.dtype)
            target = ce_l
            if self.label_smoothing > 0:  # part of the target on every class
                smooth = self.label_smoothing
                spread = -log_q[lab].mean(-1).to(x.dtype)
                target = (1 - smooth) * ce_l + smooth * spread
            loss = loss.index_put((lab,), self.alpha * target)
            ce = ce.index_put((lab,), ce_l)
            # the bound at one in 1 / labelled_share of the labelled visits
            lab_rows, scale = (
                self._sampled_rows(labelled, ctx, labelled_only=True)
                if sampling
                else (lab, 1.0)
            )
        pairs = (empty, empty)
        if not labelled.all():
            # Unlabelled rows: the bound under every class, weighted by
            # q(y | x), plus the classifier's negative entropy (Kingma et al.,
            # eq. 7). The likelihood's statistics learn only from true labels.
            unl = torch.nonzero(~labelled)[:, 0]
            log_q_u = log_q.index_select(0, unl)
            q_u = log_q_u.exp()
            keep = self._decoded_classes(q_u)
            pairs = keep.nonzero(as_tuple=True)
        codes = y[lab_rows]
        if lab_rows.numel() or unl.numel():
            lab_parts, unl_parts = self._bound_parts(
                x, lab_rows, codes, unl, pairs, ctx
            )
        if lab_rows.numel():
            log_px, kpd = lab_parts
            bound = elbo_loss(log_px, kpd, ctx) - self.log_prior[codes]
            loss = loss.index_add(0, lab_rows, scale * bound)
            recon = recon.index_add(0, lab_rows, scale * -log_px)
            weight = scale[:, None] if torch.is_tensor(scale) else scale
            kl_per_dim = kl_per_dim.index_add(0, lab_rows, weight * kpd)
        if unl.numel():
            bound, log_px, kpd, weights = self._class_bounds(
                q_u, keep, pairs, *unl_parts, ctx
            )
            # Ramped in with the warm-up: an untrained decoder explains every
            # class equally well, and the term would push q(y | x) to uniform.
            unlabelled_loss = (weights * bound).sum(-1) + (q_u * log_q_u).sum(-1)
            loss = loss.index_put((unl,), ctx.warmup * unlabelled_loss)
            recon = recon.index_put((unl,), -(weights * log_px).sum(-1))
            kpd_u = (weights[..., None] * kpd).sum(1)
            kl_per_dim = kl_per_dim.index_put((unl,), kpd_u)
        # Semi-supervised regularisers of q(y | x) on every row: smoothness
        # around each row (virtual adversarial training) and confident
        # predictions (entropy minimisation), both in units of alpha.
        entropy = -(log_q.exp() * log_q).sum(-1)
        if self.entropy_weight > 0:
            loss = loss + ctx.warmup * self.entropy_weight * self.alpha * entropy
        # Class balance: the batch's mean prediction should match the class
        # prior p(y) of the labels. Without it, confident predictions can
        # give one class's cluster to another (digits, one split: 35 of 45
        # nines called 3, accuracy 0.893; with it, 0.971).
        mean_q = log_q.exp().mean(0)
        prior = self.log_prior.exp()
        balance = (prior * (self.log_prior - mean_q.clamp_min(1e-12).log())).sum()
        balance = balance.expand(n)
        if self.balance_weight > 0:
            loss = loss + ctx.warmup * self.balance_weight * self.alpha * balance
        vat = x.new_zeros(n)
        manifold_vat = x.new_zeros(n)
        if sampling:
            rows, scale = self._sampled_rows(labelled, ctx)
            if self.vat_epsilon * self.vat_weight > 0 and rows.numel():
                part = self.virtual_adversarial_loss(
                    x.index_select(0, rows), log_q.detach().index_select(0, rows), ctx
                )
                vat = part.new_zeros(n).index_put((rows,), scale * part)
                loss = loss + self.vat_weight * self.alpha * vat
            # Ramped in: an untrained decoder's manifold means nothing. The
            # costliest term (three decoder passes): on a share of the rows.
            rows, scale = self._sampled_rows(labelled, ctx, _MANIFOLD_SHARE)
            if (
                self.manifold_vat_epsilon * self.manifold_vat_weight > 0
                and rows.numel()
            ):
                part = self.manifold_adversarial_loss(
                    x.index_select(0, rows),
                    y[rows],
                    log_q.detach().index_select(0, rows),
                    ctx,
                )
                manifold_vat = part.new_zeros(n).index_put((rows,), scale * part)
                weight = ctx.warmup * self.manifold_vat_weight * self.alpha
                loss = loss + weight * manifold_vat
        return SemiSupervisedTerms(
            loss,
            recon,
            kl_per_dim.sum(-1),
            kl_per_dim,
            ce,
            labelled.to(x.dtype),
            vat,
            entropy.detach(),
            manifold_vat,
            balance.detach(),
        )


def _unit_rows(v: torch.Tensor) -> torch.Tensor:
    """Each row of ``v`` scaled to unit L2 norm (zero rows stay zero)."""
    flat = v.reshape(v.shape[0], -1)
    return (flat / flat.norm(dim=1, keepdim=True).clamp_min(1e-12)).view_as(v)


def _kl_rows(log_p: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """KL(p || softmax(logits)) per row, with p given by its logarithm."""
    return (log_p.exp() * (log_p - F.log_softmax(logits.float(), dim=-1))).sum(-1)
