"""The conditional VAE (Sohn et al. 2015): a decoder conditioned on a label."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)

from skvae._data import FLOATS, check_n_samples
from skvae._torch import to_tensor
from skvae.models.vae import VAE
from skvae.nn.gaussian import LOG_VAR_MAX as _LOG_VAR_MAX
from skvae.nn.gaussian import LOG_VAR_MIN as _LOG_VAR_MIN
from skvae.nn.base import ELBOTerms, LatentModule, StepContext
from skvae.nn.conv import check_input_shape, make_decoder, make_encoder
from skvae.nn.divergences import (
    gaussian_kl,
    importance_bound,
    kl_term,
    posterior_log_prob,
)
from skvae.nn.likelihoods import Likelihood
from skvae.nn.networks import NetworkSpec
from skvae.nn.priors import StandardNormalPrior

_LOG_2PI = math.log(2.0 * math.pi)


class ConditionalVAEModule(LatentModule):
    """A Gaussian-latent VAE whose decoder p(x | z, y) takes a one-hot label.

    The encoder q(z | x) sees only ``x`` unless ``encode_label`` is true, in
    which case it is q(z | x, y). Methods without a label marginalise it over
    the class prior ``log_prior`` (a buffer: log p(y) of each class).

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
        mu, log_var = self.encoder(x).chunk(2, dim=-1)
        return mu, log_var.clamp(_LOG_VAR_MIN, _LOG_VAR_MAX)

    def decode(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Decoder outputs for latents ``z`` and one-hot labels ``y``."""
        y = y.expand(*z.shape[:-1], y.shape[-1])
        return self.decoder(torch.cat([z, y], dim=-1))

    def _all_classes(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each row repeated once per class, with the matching one-hot labels."""
        n, k = x.shape[0], self.n_classes
        eye = torch.eye(k, device=x.device, dtype=x.dtype)
        return x.repeat_interleave(k, dim=0), eye.repeat(n, 1)

    def class_weights(self, x: torch.Tensor) -> torch.Tensor:
        """Weights of the classes for label-free inference, ``(batch, n_classes)``.

        The prior p(y) here; the semi-supervised model uses its classifier.
        """
        return self.log_prior.exp().expand(x.shape[0], -1)

    # ----------------------------------------------------------- training
    def elbo_parts(
        self, x: torch.Tensor, y: torch.Tensor, ctx: StepContext, update: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """One-draw terms: ``recon``, ``kl_per_dim``, ``mu`` and ``penalty``.

        ``penalty`` is the KL with free bits applied (what beta multiplies).
        """
        mu, log_var = self.encode(x, y)
        eps = ctx.randn(mu.shape, like=mu)
        z = mu + torch.exp(0.5 * log_var) * eps
        recon = -self.likelihood.log_prob(x, self.decode(z, y), update=update)
        kl_per_dim = gaussian_kl(mu, log_var)
        penalty = kl_term(kl_per_dim, ctx)
        return recon, kl_per_dim, mu, penalty

    def forward(self, x: torch.Tensor, y: torch.Tensor, ctx: StepContext) -> ELBOTerms:
        """Per-sample negative beta-ELBO of (x, y) (or IWAE bound) and its parts."""
        if getattr(self, "objective", "elbo") == "iwae" and self.n_iwae_samples > 1:
            return self._iwae_terms(x, y, ctx)
        recon, kl_per_dim, mu, penalty = self.elbo_parts(x, y, ctx)
        mu_d = mu.detach()
        return ELBOTerms(
            recon + ctx.beta * penalty,
            recon,
            kl_per_dim.sum(-1),
            kl_per_dim,
            mu_d,
            mu_d.square(),
        )

    def _iwae_terms(
        self, x: torch.Tensor, y: torch.Tensor, ctx: StepContext
    ) -> ELBOTerms:
        """Negative importance-weighted bound of log p(x | y), k draws per row."""
        k = self.n_iwae_samples
        mu, log_var = self.encode(x, y)
        eps = ctx.randn((k, *mu.shape), like=mu, batch_dim=1)
        z = mu + torch.exp(0.5 * log_var) * eps  # (k, batch, n_components)
        log_px = self.likelihood.log_prob(x, self.decode(z, y))  # (k, batch)
        log_qz = posterior_log_prob(eps, log_var)
        log_w = log_px + ctx.beta * (self.prior.log_prob(z) - log_qz)
        loss = -importance_bound(log_w)
        kl_per_dim = gaussian_kl(mu, log_var)
        mu_d = mu.detach()
        return ELBOTerms(
            loss, -log_px.mean(0), kl_per_dim.sum(-1), kl_per_dim, mu_d, mu_d.square()
        )

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
        """Mean of p(x | z, y); without ``y``, of p(x | z) = sum_y p(y) p(x | z, y)."""
        if y is not None:
            return self.likelihood.mean(self.decode(z, y))
        zs, ys = self._all_classes(z)
        means = self.likelihood.mean(self.decode(zs, ys)).view(
            z.shape[0], self.n_classes, -1
        )
        return (self.log_prior.exp()[None, :, None] * means).sum(1)

    def conditional_log_likelihood(
        self, x: torch.Tensor, y: torch.Tensor, eps: torch.Tensor
    ) -> torch.Tensor:
        """ELBO (one draw) or importance-weighted bound of log p(x | y) per row."""
        mu, log_var = self.encode(x, y)
        std = torch.exp(0.5 * log_var)
        z = mu + std * eps[:, None, :]  # (k, batch, n_components)
        log_px = self.likelihood.log_prob(x, self.decode(z, y))  # (k, batch)
        if eps.shape[0] == 1:
            return log_px[0] - gaussian_kl(mu, log_var).sum(-1)
        log_qz = posterior_log_prob(eps, log_var)
        log_w = log_px + self.prior.log_prob(z) - log_qz
        return importance_bound(log_w)

    def class_log_likelihoods(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Bounds of log p(x | y = c) for every class c, ``(batch, n_classes)``."""
        xs, ys = self._all_classes(x)
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
        mu, log_var = self.encode(xs, ys)
        z = mu + torch.exp(0.5 * log_var) * eps[:, None, :]
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


class LabelledModelMixin:
    """Label handling shared by the models that take ``y``."""

    def _fit_labels(self, y: np.ndarray) -> None:
        """Learn ``classes_`` and the class prior p(y) from labelled rows.

        A ``classes=`` list given to the first ``partial_fit`` fixes the
        classes, and the prior is then uniform.
        """
        classes = self.__dict__.pop("_partial_fit_classes", None)
        if classes is not None:
            self._label_encoder = LabelEncoder().fit(classes)
            self.classes_ = self._label_encoder.classes_
            self.class_prior_ = np.full(len(self.classes_), 1.0 / len(self.classes_))
            return
        self._label_encoder = LabelEncoder().fit(y)
        self.classes_ = self._label_encoder.classes_
        counts = np.bincount(
            self._label_encoder.transform(y), minlength=len(self.classes_)
        )
        self.class_prior_ = counts / counts.sum()

    def _check_y(self, y: Any, n_samples: int, name: str = "y") -> np.ndarray:
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        y = column_or_1d(np.asarray(y) if not hasattr(y, "iloc") else y, warn=True)
        check_consistent_length(np.empty(n_samples), y)
        check_classification_targets(y)
        return y

    def _codes(self, y: np.ndarray) -> np.ndarray:
        """Integer codes of labels; unseen labels are an error."""
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(
                f"y contains labels not seen during fit: {unseen.tolist()[:5]}; "
                f"known classes are {self.classes_.tolist()}."
            )
        return self._label_encoder.transform(y)

    def _one_hot(self, y: Any, n_samples: int, dtype: Any) -> np.ndarray:
        """One-hot rows for labels ``y`` (a label, or one per row)."""
        y_arr = np.asarray(y)
        if y_arr.ndim == 0:
            y_arr = np.full(n_samples, y_arr.item(), dtype=y_arr.dtype)
        y_arr = self._check_y(y_arr, n_samples)
        return np.eye(len(self.classes_), dtype=dtype)[self._codes(y_arr)]

    def _inverse_transform_given(self, Z: Any, y: Any) -> np.ndarray:
        check_is_fitted(self)
        Z = check_array(Z, dtype=FLOATS)
        n_latent = self.module_.n_latent
        if Z.shape[1] != n_latent:
            raise ValueError(
                f"X has {Z.shape[1]} features, but {type(self).__name__}."
                f"inverse_transform is expecting {n_latent} latent dimensions."
            )
        Y = self._one_hot(y, Z.shape[0], Z.dtype)
        return self._map_batches(self.module_.decode_mean, Z, Z.dtype, extra=(Y,))

    def _score_samples_given(self, X: Any, y: Any) -> np.ndarray:
        check_is_fitted(self)
        X = self._validate_X(X)
        Y = self._one_hot(y, X.shape[0], X.dtype)
        k = int(self.n_importance_samples)
        return self._row_scores(X, "conditional_log_likelihood", k, extra=(Y,))

    def _sample_labelled(self, n_samples: Any, y: Any, random_state: Any) -> np.ndarray:
        check_is_fitted(self)
        n = check_n_samples(n_samples)
        Y = None
        if y is not None:
            Y = to_tensor(self._one_hot(y, n, self._dtype), self._device)
        return self._draw(n, random_state, Y)


class ConditionalVAE(LabelledModelMixin, VAE):
    """Conditional VAE: a VAE whose decoder is conditioned on the class label.

    ``fit(X, y)`` learns p(x | z, y) with a one-hot label ``y`` fed to the
    decoder, and an encoder q(z | x) that sees only ``X``. Because the label
    is given to the decoder, the latent space is free to encode what varies
    *within* a class (style), and ``sample(n, y=k)`` draws new rows of class
    ``k``.

    Methods work with or without labels:

    - ``transform(X)`` needs no ``y`` (the encoder does not use it), so the
      model works inside a ``Pipeline``; a ``y`` passed is ignored.
    - ``inverse_transform(Z, y)`` decodes with the given labels; without ``y``
      it returns the mean of p(x | z) with the label marginalised over the
      class frequencies seen in ``fit``.
    - ``score_samples(X, y)`` bounds log p(x | y); without ``y`` it bounds
      log p(x) = log sum_y p(y) p(x | y).
    - ``sample(n, y)`` decodes prior latents with the given labels (one label,
      or one per row); without ``y`` labels are drawn from the class
      frequencies.

    Parameters
    ----------
    n_components : int, default=8
        Dimension of the latent space.
    beta : float, default=1.0
        Weight of the KL term.
    hidden_layer_sizes : array-like of int, default=(256, 128)
        Widths of the encoder's hidden layers; the decoder mirrors them.
    input_shape : tuple of int or None, default=None
        (C, H, W) of images passed as rows: convolutional encoder and decoder
        (the one-hot label is concatenated to z at the decoder's input, whose
        first layer is linear).
    activation : str, default="relu"
        Activation of the hidden layers (see :class:`skvae.VAE`).
    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
        The observation model p(x | z, y).
    min_variance : float, default=1e-3
        Floor of the Gaussian likelihood's variance, relative to the mean
        feature variance.
    kl_warmup : int, default=10
        Epochs of linear warm-up of the KL weight.
    free_bits : float, default=0.0
        Nats of KL per latent dimension that are not penalised.
    batch_size : int or "auto", default="auto"
        Rows per step; "auto" is ``min(200, n_samples)``.
    learning_rate_init : float, default=1e-3
        Adam's learning rate.
    max_iter : int, default=200
        Maximum number of epochs.
    early_stopping : bool, default=False
        Stop on a held-out validation loss.
    validation_fraction : float, default=0.1
        Share of rows held out for early stopping.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.
    tol : float, default=1e-4
        Minimal improvement of the loss.
    n_importance_samples : int, default=1
        Samples for ``score_samples`` (1 = ELBO, more = IWAE bound).
    max_grad_norm : float or None, default=None
        Gradient clipping norm.
    compile : bool, default=False
        Compile the training forward pass with ``torch.compile``.
    warm_start : bool, default=False
        Continue from the previous fit.
    verbose : bool or int, default=False
        Print one line per epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds everything; global random states are untouched.
    device : str, default="auto"
        "auto" (CUDA when available), "cpu", "cuda" or "cuda:N".
    callbacks : list of skvae.Callback or None, default=None
        Extra callbacks.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels seen in ``fit``.
    class_prior_ : ndarray of shape (n_classes,)
        Their frequencies in ``fit`` (the label prior p(y)).
    module_ : ConditionalVAEModule
        The trained network.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when X has string names.
    n_iter_ : int
        Number of epochs trained.
    history_ : list of dict
        One record per epoch (see :class:`skvae.VAE`).
    loss_curve_ : list of float
        Training loss of each epoch.
    best_loss_ : float
        Best (validation, else training) loss.

    See Also
    --------
    skvae.VAE : The unconditional model.
    skvae.SemiSupervisedVAE : Labels for only some rows; a classifier.

    References
    ----------
    .. [1] K. Sohn, H. Lee and X. Yan, "Learning Structured Output
       Representation using Deep Conditional Generative Models", NeurIPS 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import ConditionalVAE
    >>> rng = np.random.RandomState(0)
    >>> X = np.r_[rng.normal(-2, 1, (20, 3)), rng.normal(2, 1, (20, 3))]
    >>> y = np.repeat(["a", "b"], 20)
    >>> cvae = ConditionalVAE(n_components=2, max_iter=5, random_state=0).fit(X, y)
    >>> cvae.transform(X).shape
    (40, 2)
    >>> cvae.sample(4, y="b").shape
    (4, 3)
    """

    def _training_arrays(self, X: np.ndarray, y: Any, reset: bool) -> list[np.ndarray]:
        y = self._check_y(y, X.shape[0])
        if reset:
            self._fit_labels(y)
        return [X, np.eye(len(self.classes_), dtype=X.dtype)[self._codes(y)]]

    def _check_params(self, X: np.ndarray) -> None:
        super()._check_params(X)
        unsupported = {
            "prior": (getattr(self, "prior", "normal"), "normal"),
            "tc_weight": (getattr(self, "tc_weight", 0.0), 0.0),
        }
        for name, (value, default) in unsupported.items():
            if value != default:
                raise ValueError(
                    f"{type(self).__name__} supports only {name}={default!r} "
                    f"(got {value!r}); its label-marginal bounds are built for "
                    "a standard normal prior without extra penalties."
                )

    def _build_module(self, X: np.ndarray) -> ConditionalVAEModule:
        return ConditionalVAEModule(
            X.shape[1],
            len(self.classes_),
            self.n_components,
            self._hidden_sizes(),
            self.activation,
            self._data_likelihood(X),
            torch.as_tensor(np.log(self.class_prior_), dtype=torch.float32),
            input_shape=check_input_shape(
                getattr(self, "input_shape", None), X.shape[1]
            ),
            encoder=self._network_spec("encoder"),
            decoder=self._network_spec("decoder"),
            objective=self.objective,
            n_iwae_samples=self.n_iwae_samples,
        )

    def fit(self, X, y=None):
        """Fit the model to X with labels y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels (ints, strings, ...).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return super().fit(X, y)

    def partial_fit(self, X, y=None, classes=None):
        """Train for one epoch on a chunk (X, y), keeping weights and optimiser.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One chunk of training data.
        y : array-like of shape (n_samples,)
            Its labels.
        classes : array-like of shape (n_classes,), default=None
            Every label that will appear, required on the first call when the
            first chunk does not contain them all (as in sklearn's
            ``partial_fit``). The class prior is then uniform.

        Returns
        -------
        self : object
            The estimator.
        """
        if classes is not None and not hasattr(self, "module_"):
            self._partial_fit_classes = column_or_1d(classes)
        try:
            return super().partial_fit(X, y)
        finally:  # used by the first call only, or dropped if it failed
            self.__dict__.pop("_partial_fit_classes", None)

    def transform(self, X, y=None):
        """Encode X to the posterior mean of q(z | x).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to encode.
        y : None
            Ignored: the encoder does not use labels.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            The posterior means.
        """
        return super().transform(X)

    def inverse_transform(self, X, y=None):
        """Decode latent vectors to the mean of p(x | z, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Latent vectors.
        y : label, array-like of shape (n_samples,) or None, default=None
            Labels to decode with; ``None`` averages the decodings over the
            class frequencies seen in ``fit``.

        Returns
        -------
        X_original : ndarray of shape (n_samples, `n_features_in_`)
            The decoder's means.
        """
        if y is None:
            return super().inverse_transform(X)
        return self._inverse_transform_given(X, y)

    def score_samples(self, X, y=None):
        """Bound of log p(x | y) per row, or of log p(x) without labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.
        y : array-like of shape (n_samples,) or None, default=None
            Their labels; ``None`` marginalises the label over the class
            frequencies.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Per-row log-likelihood bounds in nats.
        """
        if y is None:
            return super().score_samples(X)
        return self._score_samples_given(X, y)

    def score(self, X, y=None):
        """Mean of :meth:`score_samples`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.
        y : array-like of shape (n_samples,) or None, default=None
            Their labels (see :meth:`score_samples`).

        Returns
        -------
        score : float
            The mean per-row bound.
        """
        return float(np.mean(self.score_samples(X, y)))

    def sample(self, n_samples=1, random_state=None, *, y=None):
        """Generate rows of given classes from prior latents.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows.
        random_state : int, RandomState instance or None, default=None
            Seed of the draw; ``None`` uses the estimator's ``random_state``.
        y : label, array-like of shape (n_samples,) or None, default=None
            One label for every row, one label per row, or ``None`` to draw
            labels from the class frequencies seen in ``fit`` (keyword only).

        Returns
        -------
        X : ndarray of shape (n_samples, `n_features_in_`)
            Generated rows (decoder means).
        """
        return self._sample_labelled(n_samples, y, random_state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
