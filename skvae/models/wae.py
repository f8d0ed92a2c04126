"""The Wasserstein autoencoder (Tolstikhin et al. 2018), WAE-MMD.

Also the parts it shares with the adversarial autoencoder
(:mod:`skvae.models.aae`): a deterministic or Gaussian encoder regularised
towards the prior by a divergence between distributions of codes, and the
estimator base class of such autoencoders.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any, NamedTuple

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

from skvae._base import BaseVAE
from skvae._data import FLOATS
from skvae._columns import LIKELIHOOD_CONSTRAINT
from skvae._sklearn_compat import Interval, StrOptions, validate_data
from skvae._columns import check_likelihood_range
from skvae.nn.base import LatentModule, StepContext
from skvae.nn.conv import check_input_shape, make_decoder, make_encoder
from skvae.nn.divergences import KERNELS, mmd
from skvae.nn.likelihoods import Likelihood
from skvae.nn.networks import ACTIVATIONS, NetworkSpec
from skvae.nn.priors import StandardNormalPrior

_LOG_VAR_MIN, _LOG_VAR_MAX = -12.0, 8.0

ENCODER_TYPES = frozenset({"deterministic", "gaussian"})


# -------------------------------------------------------------------- module
class AutoencoderModule(LatentModule):
    """An autoencoder whose codes are regularised towards a N(0, I) prior.

    The shared part of :class:`WAEModule` and the adversarial autoencoder's
    module: a deterministic or Gaussian encoder, a decoder with a likelihood,
    and the standard normal prior. Subclasses add the regulariser in
    :meth:`forward`.

    Parameters
    ----------
    n_features : int
        Width of the data.
    n_components : int
        Latent dimension.
    hidden_layer_sizes : sequence of int
        Encoder widths (conv channels with ``input_shape``); the decoder
        mirrors them.
    activation : str
        Activation name.
    likelihood : Likelihood
        The observation model p(x | z).
    input_shape : tuple of int or None, default=None
        (C, H, W) of images passed as rows: convolutional networks.
    encoder_type : {"deterministic", "gaussian"}, default="deterministic"
        A deterministic code z = f(x), or z ~ N(mu(x), diag(sigma^2(x))) drawn
        by reparameterisation in training.
    log_var_penalty : float, default=0.0
        Weight of ``sum_j |log sigma_j^2|`` per row (Gaussian encoder only),
        which keeps the encoder's variances from collapsing to zero.
    encoder, decoder : NetworkSpec or None, default=None
        User networks in place of the built-in ones.

    Examples
    --------
    >>> import torch
    >>> from skvae.nn import GaussianLikelihood
    >>> m = AutoencoderModule(5, 2, (8,), "relu", GaussianLikelihood(5))
    >>> m.embed(torch.zeros(3, 5)).shape, m.sample(4, torch.Generator()).shape
    (torch.Size([3, 2]), torch.Size([4, 5]))
    """

    def __init__(
        self,
        n_features: int,
        n_components: int,
        hidden_layer_sizes: Sequence[int],
        activation: str,
        likelihood: Likelihood,
        input_shape: Sequence[int] | None = None,
        encoder_type: str = "deterministic",
        log_var_penalty: float = 0.0,
        encoder: NetworkSpec | None = None,
        decoder: NetworkSpec | None = None,
    ) -> None:
        super().__init__()
        if encoder_type not in ENCODER_TYPES:
            raise ValueError(
                f"Unknown encoder_type {encoder_type!r}; expected one of "
                f"{sorted(ENCODER_TYPES)}."
            )
        self.stochastic = encoder_type == "gaussian"
        self.log_var_penalty = float(log_var_penalty)
        self.activation = activation
        self.n_latent = n_components
        self.noise_dim = n_components if self.stochastic else 0
        n_out = 2 * n_components if self.stochastic else n_components
        self.encoder = make_encoder(
            n_features, hidden_layer_sizes, n_out, activation, input_shape, encoder
        )
        self.decoder = make_decoder(
            n_components,
            hidden_layer_sizes,
            likelihood.n_params,
            activation,
            input_shape,
            decoder,
        )
        self.likelihood = likelihood
        self.prior = StandardNormalPrior(n_components)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Code means and log-variances (None for a deterministic encoder)."""
        out = self.encoder(x)
        if not self.stochastic:
            return out, None
        mu, log_var = out.chunk(2, dim=-1)
        return mu, log_var.clamp(_LOG_VAR_MIN, _LOG_VAR_MAX)

    def code(
        self, x: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Training codes ``(batch, n_components)`` and the per-row penalty.

        The Gaussian encoder draws z by reparameterisation from ``generator``
        and penalises ``log_var_penalty * sum_j |log sigma_j^2|``.
        """
        mu, log_var = self.encode(x)
        if log_var is None:
            return mu, mu.new_zeros(mu.shape[0])
        eps = torch.randn(
            mu.shape, generator=generator, device=mu.device, dtype=mu.dtype
        )
        z = mu + torch.exp(0.5 * log_var) * eps
        return z, self.log_var_penalty * log_var.abs().sum(-1)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The code (the encoder's mean)."""
        return self.encode(x)[0]

    def decode_mean(self, z: torch.Tensor) -> torch.Tensor:
        """The mean of p(x | z)."""
        return self.likelihood.mean(self.decoder(z))

    def log_likelihood(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Log-joint at the code: log p(x | z) + log p(z), z = :meth:`embed` (x).

        Not a bound on log p(x): these models have no posterior to bound it
        with. ``eps`` is not used.
        """
        z = self.embed(x)
        return self.likelihood.log_prob(x, self.decoder(z)) + self.prior.log_prob(z)

    def reconstruction_log_likelihood(
        self, x: torch.Tensor, eps: torch.Tensor
    ) -> torch.Tensor:
        """Log p(x | z) at the code, or its mean over ``eps`` draws of z ~ q(z | x).

        ``eps`` has shape ``(k, noise_dim)``; a deterministic encoder has
        ``noise_dim = 0`` and one code per row.
        """
        mu, log_var = self.encode(x)
        if log_var is None:
            return self.likelihood.log_prob(x, self.decoder(mu))
        z = mu + torch.exp(0.5 * log_var) * eps[:, None, :]  # (k, batch, d)
        return self.likelihood.log_prob(x, self.decoder(z)).mean(0)

    def sample(self, n_samples: int, generator: torch.Generator) -> torch.Tensor:
        """Decoder means of latents drawn from the prior."""
        return self.decode_mean(self.prior.sample(n_samples, generator))


class WAETerms(NamedTuple):
    """Per-row terms of the WAE-MMD objective (batch first, not reduced)."""

    loss: torch.Tensor  # (batch,) recon + beta * mmd (+ log-variance penalty)
    recon: torch.Tensor  # (batch,) -log p(x | z)
    mmd: torch.Tensor  # (batch,) the batch's MMD^2 estimate, repeated per row


class WAEModule(AutoencoderModule):
    """WAE-MMD: an autoencoder with an MMD penalty between codes and prior.

    Parameters
    ----------
    *args, **kwargs
        Those of :class:`AutoencoderModule`.
    kernel : {"imq", "rbf"}, default="imq"
        Kernel of the MMD, see :func:`mmd`.

    Examples
    --------
    >>> import torch
    >>> from skvae.nn import BernoulliLikelihood
    >>> from skvae.nn.base import StepContext
    >>> m = WAEModule(5, 2, (8,), "relu", BernoulliLikelihood(5))
    >>> ctx = StepContext(beta=10.0, free_bits=0.0, generator=torch.Generator())
    >>> m(torch.rand(6, 5), ctx=ctx).loss.shape
    torch.Size([6])
    """

    def __init__(self, *args: Any, kernel: str = "imq", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if kernel not in KERNELS:
            raise ValueError(
                f"Unknown kernel {kernel!r}; expected one of {sorted(KERNELS)}."
            )
        self.kernel = kernel

    def forward(self, x: torch.Tensor, ctx: StepContext) -> WAETerms:
        """Reconstruction cost, and beta times the batch MMD^2 for every row.

        The MMD compares the batch's codes with as many prior draws; it is a
        batch-level quantity, repeated on every row so that the batch mean
        of ``loss`` is mean(recon) + beta * MMD^2.
        """
        z, penalty = self.code(x, ctx.generator)
        recon = -self.likelihood.log_prob(x, self.decoder(z))  # (batch,)
        n = z.shape[0]
        if n >= 2:
            z_prior = self.prior.sample(n, ctx.generator)
            divergence = mmd(z, z_prior, self.kernel).expand(n)
        else:  # a U-statistic needs two rows: a 1-row batch only reconstructs
            divergence = z.new_zeros(n)
        return WAETerms(recon + ctx.beta * divergence + penalty, recon, divergence)


# ----------------------------------------------------------------- estimator
class _RegularizedAutoencoder(BaseVAE):
    """Shared estimator code of WAE and AdversarialAE (not public)."""

    _parameter_constraints: dict[str, list[Any]] = {
        **{
            k: v
            for k, v in BaseVAE._parameter_constraints.items()
            if k not in ("kl_warmup", "free_bits")
        },
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "encoder_type": [StrOptions(set(ENCODER_TYPES))],
        "log_var_penalty": [Interval(Real, 0, None, closed="left")],
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "input_shape": ["array-like", None],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "likelihood": LIKELIHOOD_CONSTRAINT,
        "min_variance": [Interval(Real, 0, None, closed="neither")],
        "encoder": [type, nn.Module, None],
        "decoder": [type, nn.Module, None],
    }

    def _hidden_sizes(self, name: str = "hidden_layer_sizes") -> tuple[int, ...]:
        value = getattr(self, name)
        sizes = (value,) if isinstance(value, Integral) else tuple(value)
        if not sizes or any(not isinstance(s, Integral) or s < 1 for s in sizes):
            raise ValueError(
                f"{name} must contain positive integers, got {name}={value!r}."
            )
        return tuple(int(s) for s in sizes)

    def _check_params(self, X: np.ndarray) -> None:
        self._hidden_sizes()
        check_input_shape(self.input_shape, X.shape[1])
        check_likelihood_range(self.likelihood, X)

    def _module_args(self, X: np.ndarray) -> dict[str, Any]:
        """Keyword arguments of :class:`AutoencoderModule` for data like X."""
        n_features = X.shape[1]
        return dict(
            n_features=n_features,
            n_components=self.n_components,
            hidden_layer_sizes=self._hidden_sizes(),
            activation=self.activation,
            likelihood=self._data_likelihood(X),
            input_shape=check_input_shape(self.input_shape, n_features),
            encoder_type=self.encoder_type,
            log_var_penalty=self.log_var_penalty,
            encoder=self._network_spec("encoder"),
            decoder=self._network_spec("decoder"),
        )

    def score_samples(self, X):
        """Log-joint at the code, log p(x | z) + log p(z), per row (higher = typical).

        z is the code of the row (:meth:`transform`), p(x | z) the decoder's
        likelihood and p(z) the N(0, I) prior: a row scores high when it is
        well reconstructed from a code where the prior puts mass. It is not
        a bound on log p(x) (these models have no posterior to bound it
        with), but a deterministic, row-independent typicality score in
        nats, fit for ranking rows (outlier detection) and for ``score``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Per-row log-joint densities at the code, in nats.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=FLOATS, reset=False)
        return self._row_scores(X, "log_likelihood", 1)


class WAE(_RegularizedAutoencoder):
    """Wasserstein autoencoder (WAE-MMD) as a scikit-learn transformer.

    An autoencoder whose codes are pushed towards the N(0, I) prior as a
    whole, not row by row as in a VAE: the loss is the reconstruction cost
    plus ``beta`` times the maximum mean discrepancy between the batch's
    codes and as many prior draws (unbiased estimate, see :func:`mmd`). The
    encoder is deterministic by default. ``transform`` returns the code,
    ``inverse_transform`` decodes, ``sample`` decodes prior draws.

    Parameters
    ----------
    n_components : int, default=8
        Dimension of the latent space.
    beta : float, default=10.0
        Weight of the MMD penalty: the lambda of Tolstikhin et al. (who use
        10 on MNIST). It is named ``beta`` as the regularisation weight of
        every skvae model, so that model selection searches the same name.
        The reconstruction cost is a negative log-likelihood in nats per row,
        so the right value grows with the number of features.
    kernel : {"imq", "rbf"}, default="imq"
        Kernel of the MMD: inverse multiquadric C / (C + ||a - b||^2), whose
        heavy tails keep gradients for codes far from the prior (the paper's
        choice), or Gaussian exp(-||a - b||^2 / C); each summed over widths
        C = 2 * n_components * s for s in 0.1 ... 10.
    encoder_type : {"deterministic", "gaussian"}, default="deterministic"
        A deterministic encoder z = f(x) (the paper's main variant), or a
        Gaussian one whose training codes are drawn by reparameterisation.
    log_var_penalty : float, default=0.0
        Weight of ``sum_j |log sigma_j^2|`` per row for the Gaussian encoder
        (Rubenstein et al. 2018), e.g. 1e-3, which keeps its variances from
        shrinking to zero. Ignored by the deterministic encoder.
    hidden_layer_sizes : array-like of int, default=(256, 128)
        Widths of the encoder's hidden layers; the decoder mirrors them.
    input_shape : tuple of int or None, default=None
        (C, H, W) of images passed as flattened rows: convolutional encoder
        and decoder, ``hidden_layer_sizes`` giving the channels of their
        stride-2 layers, e.g. ``(32, 64)``.
    activation : {"relu", "tanh", "logistic", "identity", "elu", "gelu", \
"silu"}, default="relu"
        Activation of the hidden layers.
    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
        The observation model p(x | z), as in :class:`skvae.VAE`; its negative
        log-likelihood is the reconstruction cost c(x, G(z)). "gaussian" (a
        learned per-feature variance) makes it a squared error weighted per
        feature; "bernoulli" (data in [0, 1]) the binary cross-entropy.
    min_variance : float, default=1e-3
        Floor of the Gaussian likelihood's variance, relative to the mean
        variance of the training features.
    batch_size : int or "auto", default="auto"
        Rows per optimisation step (and per MMD estimate); "auto" is
        ``min(200, n_samples)``.
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
        Epochs without an improvement of at least ``tol`` before stopping.
    tol : float, default=1e-4
        Minimal improvement of the loss (nats per row).
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
        The global numpy and torch random states are never used or changed.
    device : str, default="auto"
        "auto" (CUDA when available), "cpu", "cuda" or "cuda:N".
    callbacks : list of skvae.Callback or None, default=None
        Extra callbacks called by the training loop.
    encoder, decoder : torch.nn.Module class or instance, default=None
        Your own networks, with ``encoder__<name>`` / ``decoder__<name>``
        parameters routed to their classes; see :class:`skvae.VAE`.
    **kwargs
        ``encoder__<name>`` and ``decoder__<name>`` parameters.

    Attributes
    ----------
    module_ : WAEModule
        The trained network.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when X has string names.
    n_iter_ : int
        Number of epochs trained.
    history_ : list of dict
        One record per epoch: ``epoch``, ``train_loss`` (reconstruction cost
        plus ``beta`` times the MMD, per row), ``recon``, ``mmd`` (mean batch
        estimate of MMD^2 between codes and prior), ``beta``, ``dur`` and,
        with early stopping, ``valid_loss``.
    loss_curve_ : list of float
        ``train_loss`` of each epoch.
    best_loss_ : float
        Best validation loss with early stopping, else best training loss.

    See Also
    --------
    skvae.VAE : Regularises each row's posterior by a KL divergence instead.
    skvae.models.aae.AdversarialAE : Matches codes to the prior with a
        discriminator instead of the MMD.

    Notes
    -----
    ``score_samples`` is the log-joint density at the code, log p(x | z) +
    log p(z), not a likelihood bound: see :meth:`score_samples`.

    The MMD is estimated on each batch; small batches give noisy estimates.

    References
    ----------
    .. [1] I. Tolstikhin, O. Bousquet, S. Gelly and B. Schoelkopf,
       "Wasserstein Auto-Encoders", ICLR 2018.
    .. [2] P. K. Rubenstein, B. Schoelkopf and I. Tolstikhin, "On the Latent
       Space of Wasserstein Auto-Encoders", arXiv:1802.03761, 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae.models.wae import WAE
    >>> X = np.random.RandomState(0).normal(size=(20, 5))
    >>> wae = WAE(n_components=2, max_iter=2, random_state=0)
    >>> wae.fit(X).transform(X).shape
    (20, 2)
    >>> wae.score_samples(X).shape
    (20,)
    >>> wae.sample(3).shape
    (3, 5)
    """

    _parameter_constraints: dict[str, list[Any]] = {
        **_RegularizedAutoencoder._parameter_constraints,
        "kernel": [StrOptions(set(KERNELS))],
    }

    def __init__(
        self,
        n_components=8,
        *,
        beta=10.0,
        kernel="imq",
        encoder_type="deterministic",
        log_var_penalty=0.0,
        hidden_layer_sizes=(256, 128),
        input_shape=None,
        activation="relu",
        likelihood="gaussian",
        min_variance=1e-3,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=200,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
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
        self.kernel = kernel
        self.encoder_type = encoder_type
        self.log_var_penalty = log_var_penalty
        self.hidden_layer_sizes = hidden_layer_sizes
        self.input_shape = input_shape
        self.activation = activation
        self.likelihood = likelihood
        self.min_variance = min_variance
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
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

    def _build_module(self, X: np.ndarray) -> WAEModule:
        return WAEModule(**self._module_args(X), kernel=self.kernel)
