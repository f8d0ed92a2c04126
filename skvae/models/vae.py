"""The variational autoencoder (Kingma & Welling 2014) and beta-VAE."""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np
import torch
from torch import nn

from skvae._base import BaseVAE
from skvae._columns import (
    LIKELIHOOD_CONSTRAINT,
    check_likelihood_range,
)
from skvae._sklearn_compat import Interval, StrOptions
from skvae.nn.base import ELBOTerms, LatentModule, StepContext
from skvae.nn.conv import NetworkSpec, check_input_shape, make_decoder, make_encoder
from skvae.nn.divergences import (
    gaussian_kl,
    gaussian_log_prob,
    importance_bound,
    kl_penalty,
    posterior_log_prob,
    total_correlation,
)
from skvae.nn.likelihoods import Likelihood
from skvae.nn.networks import ACTIVATIONS
from skvae.nn.priors import StandardNormalPrior, VampPrior

_LOG_2PI = math.log(2.0 * math.pi)
_LOG_VAR_MIN, _LOG_VAR_MAX = -12.0, 8.0


class GaussianVAEModule(LatentModule):
    """A VAE with a diagonal Gaussian posterior.

    Its training step is safe under bfloat16 autocast
    (``supports_autocast``): the networks' outputs are cast to float32 before
    the KL and likelihood terms.

    Parameters
    ----------
    n_features : int
        Width of the data.
    n_components : int
        Latent dimension.
    hidden_layer_sizes : sequence of int
        Encoder widths; the decoder mirrors them.
    activation : str
        Activation name.
    likelihood : Likelihood
        The observation model.
    input_shape : tuple of int or None, default=None
        (C, H, W) of images passed as rows: convolutional networks, with
        ``hidden_layer_sizes`` the channels of the stride-2 layers.
    objective : {"elbo", "iwae"}, default="elbo"
        Training objective: the (beta-)ELBO with one draw, or the
        importance-weighted bound of Burda et al. (2016) with
        ``n_iwae_samples`` draws.
    n_iwae_samples : int, default=5
        Draws per row of the "iwae" objective.
    prior : torch.nn.Module or None, default=None
        The prior: None for N(0, I), or a :class:`skvae.nn.VampPrior`.
    tc_weight : float, default=0.0
        Extra weight on the total correlation of q(z) (beta-TCVAE).
    encoder, decoder : NetworkSpec or None, default=None
        User networks in place of the built-in ones
        (see :func:`skvae.nn.make_encoder`).

    Examples
    --------
    >>> import torch
    >>> from skvae.nn import GaussianLikelihood
    >>> m = GaussianVAEModule(5, 2, (8,), "relu", GaussianLikelihood(5))
    >>> m.embed(torch.zeros(3, 5)).shape
    torch.Size([3, 2])
    """

    supports_autocast = True

    def __init__(
        self,
        n_features: int,
        n_components: int,
        hidden_layer_sizes: Sequence[int],
        activation: str,
        likelihood: Likelihood,
        input_shape: Sequence[int] | None = None,
        *,
        objective: str = "elbo",
        n_iwae_samples: int = 5,
        prior: nn.Module | None = None,
        tc_weight: float = 0.0,
        encoder: NetworkSpec | None = None,
        decoder: NetworkSpec | None = None,
    ) -> None:
        super().__init__()
        self.n_latent = n_components
        self.noise_dim = n_components
        self.encoder = make_encoder(
            n_features,
            hidden_layer_sizes,
            2 * n_components,
            activation,
            input_shape,
            custom=encoder,
        )
        self.decoder = make_decoder(
            n_components,
            hidden_layer_sizes,
            likelihood.n_params,
            activation,
            input_shape,
            custom=decoder,
        )
        self.likelihood = likelihood
        self.prior = StandardNormalPrior(n_components) if prior is None else prior
        self.objective = objective
        self.n_iwae_samples = n_iwae_samples
        self.tc_weight = tc_weight

    @property
    def _vamp(self) -> bool:
        return isinstance(self.prior, VampPrior)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior means and log-variances, each ``(batch, n_components)``."""
        # float32 from here on: under mixed precision only the networks run
        # in bfloat16, the KL and likelihood sums do not
        mu, log_var = self.encoder(x).float().chunk(2, dim=-1)
        return mu, log_var.clamp(_LOG_VAR_MIN, _LOG_VAR_MAX)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The posterior mean."""
        return self.encode(x)[0]

    def decode_mean(self, z: torch.Tensor) -> torch.Tensor:
        """The mean of p(x | z)."""
        return self.likelihood.mean(self.decoder(z))

    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        """The log-density log p(z), summed over the last dimension."""
        if self._vamp:
            return self.prior.log_prob(z, *self.encode(self.prior.pseudo_inputs))
        return self.prior.log_prob(z)

    def forward(self, x: torch.Tensor, ctx: StepContext) -> ELBOTerms:
        """Per-sample training loss (negative beta-ELBO or IWAE bound) and parts."""
        mu, log_var = self.encode(x)
        std = torch.exp(0.5 * log_var)
        k = self.n_iwae_samples if self.objective == "iwae" else 1
        eps = ctx.randn((k, *mu.shape), like=mu, batch_dim=1)
        # One draw stays 2-D (the fast path); k draws are (k, batch, n_components).
        z = mu + std * (eps[0] if k == 1 else eps)
        log_px = self.likelihood.log_prob(x, self.decoder(z).float())
        if k == 1:
            z, log_px = z[None], log_px[None]
        if self._vamp or k > 1:
            log_qz = gaussian_log_prob(z, mu, log_var)  # (k, batch)
            log_ratio = self.log_prior(z) - log_qz  # log p(z) - log q(z | x)
            kl = -log_ratio.mean(0)  # a one-sample estimate per draw
        if self._vamp:  # no closed form: the estimate, spread over dimensions
            kl_per_dim = (kl / self.n_latent)[:, None].expand(-1, self.n_latent)
        else:
            kl_per_dim = gaussian_kl(mu, log_var)  # (batch, n_components)
            kl = kl_per_dim.sum(-1)
        if k > 1:  # importance-weighted bound, beta on the prior/posterior ratio
            log_w = log_px + ctx.beta * log_ratio
            loss = -importance_bound(log_w)
        else:
            loss = -log_px[0] + kl_penalty(kl_per_dim, ctx)
        if self.tc_weight > 0:
            tc = total_correlation(z[0], mu, log_var, ctx.n_train)
            loss = loss + ctx.warmup * self.tc_weight * tc
        mu_d = mu.detach()
        return ELBOTerms(loss, -log_px.mean(0), kl, kl_per_dim, mu_d, mu_d.square())

    def log_likelihood(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """ELBO (one draw) or importance-weighted bound (``k`` draws) per row.

        ``eps`` has shape ``(k, n_components)``: the same draws serve every row.
        """
        mu, log_var = self.encode(x)  # (batch, n_components)
        std = torch.exp(0.5 * log_var)
        z = mu + std * eps[:, None, :]  # (k, batch, n_components)
        log_px = self.likelihood.log_prob(x, self.decoder(z))  # (k, batch)
        if eps.shape[0] == 1 and not self._vamp:
            return log_px[0] - gaussian_kl(mu, log_var).sum(-1)
        log_pz = self.log_prior(z)
        log_qz = posterior_log_prob(eps, log_var)
        log_w = log_px + log_pz - log_qz  # (k, batch)
        return importance_bound(log_w)

    def reconstruction_log_likelihood(
        self, x: torch.Tensor, eps: torch.Tensor
    ) -> torch.Tensor:
        """Mean over the ``k`` draws in ``eps`` of log p(x | z), z ~ q(z | x)."""
        mu, log_var = self.encode(x)
        z = mu + torch.exp(0.5 * log_var) * eps[:, None, :]  # (k, batch, n_components)
        return self.likelihood.log_prob(x, self.decoder(z)).mean(0)

    def impute(
        self,
        x: torch.Tensor,
        eps: torch.Tensor,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Rows ``x`` with their NaN entries filled from p(x_missing | x_observed).

        With draws z_k = mu + sigma * eps_k of q(z | x_observed) and
        self-normalised importance weights w_k proportional to
        p(x_observed | z_k) p(z_k) / q(z_k | x_observed) (Mattei & Frellsen
        2019): without ``generator``, the weighted mean of the decoders'
        expected values (the single imputation that minimises squared error);
        with it, one draw of x_missing from p(x | z_k), z_k chosen with
        probability w_k (sampling importance resampling: multiple imputation).
        """
        observed = ~torch.isnan(x)
        mu, log_var = self.encode(x)
        z = mu + torch.exp(0.5 * log_var) * eps[:, None, :]  # (k, batch, d)
        params = self.decoder(z)
        log_q = posterior_log_prob(eps, log_var)
        log_w = self.likelihood.log_prob(x, params, update=False)
        log_w = log_w + self.log_prior(z) - log_q  # (k, batch)
        weights = torch.softmax(log_w, dim=0)
        if generator is None:
            fill = (weights[..., None] * self.likelihood.expectation(params)).sum(0)
        else:
            pick = torch.multinomial(weights.T, 1, generator=generator)[:, 0]
            chosen = params[pick, torch.arange(x.shape[0], device=x.device)]
            fill = self.likelihood.sample(chosen, generator)
        return torch.where(observed, x, fill)

    def sample(self, n_samples: int, generator: torch.Generator) -> torch.Tensor:
        """Decoder means of latents drawn from the prior."""
        if self._vamp:
            pseudo = self.encode(self.prior.pseudo_inputs)
            return self.decode_mean(self.prior.sample(n_samples, generator, *pseudo))
        return self.decode_mean(self.prior.sample(n_samples, generator))


class VAE(BaseVAE):
    """Variational autoencoder (and beta-VAE) as a scikit-learn transformer.

    The encoder maps a row to a diagonal Gaussian posterior q(z | x) over
    ``n_components`` latent variables; the decoder maps z to the parameters of
    p(x | z). Training maximises the evidence lower bound (ELBO) with Adam.
    ``transform`` returns the posterior mean, ``score_samples`` a per-row
    log-likelihood estimate, ``sample`` new rows.

    Parameters
    ----------
    n_components : int, default=8
        Dimension of the latent space.
    beta : float, default=1.0
        Weight of the KL term; ``beta > 1`` is the beta-VAE of Higgins et al.
    hidden_layer_sizes : array-like of int, default=(256, 128)
        Widths of the encoder's hidden layers; the decoder mirrors them.
    input_shape : tuple of int or None, default=None
        (C, H, W) of images passed as flattened rows. The encoder and decoder
        are then convolutional, ``hidden_layer_sizes`` giving the channels of
        their stride-2 layers (each halves the image), e.g. ``(32, 64)``.
    activation : {"relu", "tanh", "logistic", "identity", "elu", "gelu", "silu"}, \
default="relu"
        Activation of the hidden layers.
    likelihood : {"gaussian", "bernoulli", "auto"} or dict, default="gaussian"
        The observation model p(x | z). "gaussian" has a mean from the decoder
        and a learned per-feature variance (floored by ``min_variance``), for
        real-valued data (standardise it first); "bernoulli" is for data in
        [0, 1], such as binary features or pixel intensities. For tables of
        mixed columns, "auto" reads the types off the data (one-hot groups as
        ``OneHotEncoder`` writes them are categorical, other 0/1 columns
        Bernoulli, the rest Gaussian), and a dict such as
        ``{"poisson": [4], "categorical": [[5, 6, 7]], "bernoulli": ["smoker"]}``
        (column indices or feature names; "negbin" for overdispersed counts)
        declares them, the columns it leaves out being inferred. With such a
        mixed likelihood ``inverse_transform`` and ``sample`` return values of
        each column's type: 0/1, one-hot rows, non-negative integer counts.
    missing : {"error", "mask"}, default="error"
        What NaN in X means. "error" rejects it, as scikit-learn estimators
        do; "mask" treats it as a missing entry: the encoder sees 0 there
        (the mean of standardised data) and the entry is left out of the
        likelihood (MIWAE, Mattei & Frellsen 2019), in training and in
        ``score_samples`` (the log-likelihood of the observed entries). A
        column with no observed value is an error; a row with none is
        encoded from zeros.
    min_variance : float, default=1e-3
        Floor of the Gaussian likelihood's variance, relative to the mean
        variance of the training features (so it follows the data's scale).
        Constant features would otherwise drive the likelihood to infinity; a
        larger floor makes ``score_samples`` less sensitive to features that
        barely vary.
    kl_warmup : int, default=10
        Epochs over which the KL weight grows linearly from 0 to ``beta``
        (a remedy for posterior collapse). 0 disables the warm-up. With
        ``kl_schedule="cyclical"`` it is the period of the cycles, with
        "capacity" the epochs over which the capacity grows.
    kl_schedule : {"linear", "cyclical", "capacity"}, default="linear"
        How the KL term is brought in. "linear": the warm-up above.
        "cyclical" (Fu et al. 2019): the warm-up repeated every ``kl_warmup``
        epochs (a ramp over half the period, then ``beta``), which helps
        against posterior collapse with strong decoders. "capacity" (Burgess
        et al. 2018): the KL term is ``beta * |KL - C|`` with C growing
        linearly from 0 to ``max_capacity`` nats over ``kl_warmup`` epochs,
        with a large ``beta`` (e.g. 100-1000): the code's information is
        released gradually, for disentangled factors.
    max_capacity : float, default=25.0
        Final capacity C in nats of ``kl_schedule="capacity"``.
    free_bits : float, default=0.0
        Nats of KL per latent dimension that are not penalised (Kingma et al.
        2016); another remedy for posterior collapse.
    objective : {"elbo", "iwae"}, default="elbo"
        Training objective. "elbo": the beta-ELBO with one posterior draw.
        "iwae": the importance-weighted bound of Burda et al. (2016) with
        ``n_iwae_samples`` draws per row, which is tighter and trains a
        better density model (slower: the decoder runs k times).
    n_iwae_samples : int, default=5
        Draws per row of ``objective="iwae"``.
    prior : {"normal", "vamp"}, default="normal"
        The prior p(z): N(0, I), or the VampPrior of Tomczak & Welling
        (2018), a mixture of the posteriors of ``n_pseudo_inputs`` learnt
        pseudo-inputs (initialised at random training rows), which often
        gives a better likelihood.
    n_pseudo_inputs : int, default=100
        Pseudo-inputs of the VampPrior (at most the number of rows).
    tc_weight : float, default=0.0
        Extra weight on the total correlation of the aggregate posterior:
        beta-TCVAE (Chen et al. 2018), whose beta is ``1 + tc_weight``, with
        a minibatch-weighted estimate (larger batches estimate it better).
        It favours statistically independent latent dimensions.
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
        Epochs without an improvement of at least ``tol`` (of the validation
        loss with early stopping, else the training loss) before stopping.
        Counting starts after the KL warm-up.
    tol : float, default=1e-4
        Minimal improvement of the loss (nats per row).
    n_importance_samples : int, default=1
        Samples for ``score_samples``: 1 gives the ELBO, more the tighter
        importance-weighted bound (IWAE).
    max_grad_norm : float or None, default=None
        Clip the gradients' global norm to this value at each step.
    compile : bool, default=False
        Compile the training step's forward pass with ``torch.compile``. The
        first epoch then takes tens of seconds longer (compilation); later
        epochs run faster, most on GPUs. Inference stays eager.
    precision : {"auto", "float32", "bfloat16"}, default="auto"
        Arithmetic of the training step's networks. "bfloat16" runs them
        under bfloat16 autocast (the KL and likelihood terms stay float32);
        "auto" does so on CUDA GPUs that support it, and uses float32
        elsewhere (on CPUs bfloat16 is slower).
    warm_start : bool, default=False
        Continue from the previous fit's weights and optimiser state.
    verbose : bool or int, default=False
        Print one line per epoch (losses, KL, active units, time).
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, batching, noise and the validation split.
        The global numpy and torch random states are never used or changed.
    device : str, default="auto"
        "auto" (CUDA when available), "cpu", "cuda" or "cuda:N".
    callbacks : list of skvae.Callback or None, default=None
        Extra callbacks called by the training loop.
    encoder, decoder : torch.nn.Module class or instance, default=None
        Your own networks in place of the built-in ones. The encoder maps
        rows ``(batch, n_features)`` to features and the decoder maps codes
        ``(batch, n_components)`` to features; skvae adds the linear layer to
        what the model needs (a class that takes an ``n_outputs`` argument is
        asked for exactly that width instead; one that takes ``n_inputs`` is
        given its input width). A class is built at each fit with the
        parameters routed to it, skorch-style: ``encoder__hidden=64`` passes
        ``hidden=64``, so ``GridSearchCV`` can search them and ``clone``
        keeps them. An instance is deep-copied (never trained in place).
        They replace ``hidden_layer_sizes``, ``activation`` and
        ``input_shape`` for their role.
    **kwargs
        ``encoder__<name>`` and ``decoder__<name>``: parameters of the
        network classes.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network (a :class:`GaussianVAEModule`).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when X has string names.
    n_iter_ : int
        Number of epochs trained.
    history_ : list of dict
        One record per epoch: ``epoch``, ``train_loss`` (negative beta-ELBO
        with warm-up and free bits, nats per row), ``recon``, ``kl``,
        ``kl_per_dim``, ``active_units``, ``beta``, ``dur`` (seconds) and
        ``valid_loss`` (negative beta-ELBO on the validation rows) with early
        stopping.
    loss_curve_ : list of float
        ``train_loss`` of each epoch.
    column_types_ : list of (str, list of int)
        With ``likelihood="auto"`` or a dict: each block of columns and its
        type ("gaussian", "bernoulli", "categorical" (one group), "poisson",
        "negbin"), as resolved on the training data.
    best_loss_ : float
        Best validation loss with early stopping, else best training loss
        after the warm-up.

    See Also
    --------
    sklearn.decomposition.PCA : The linear, deterministic counterpart.

    References
    ----------
    .. [1] D. P. Kingma and M. Welling, "Auto-Encoding Variational Bayes",
       ICLR 2014.
    .. [2] I. Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a
       Constrained Variational Framework", ICLR 2017.
    .. [3] Y. Burda, R. Grosse and R. Salakhutdinov, "Importance Weighted
       Autoencoders", ICLR 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import VAE
    >>> X = np.random.RandomState(0).normal(size=(20, 5))
    >>> vae = VAE(n_components=2, max_iter=2, random_state=0)
    >>> vae.fit(X).transform(X).shape
    (20, 2)
    >>> vae.score_samples(X).shape
    (20,)
    >>> vae.sample(3).shape
    (3, 5)
    """

    _parameter_constraints = {
        **BaseVAE._parameter_constraints,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "input_shape": ["array-like", None],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "likelihood": LIKELIHOOD_CONSTRAINT,
        "min_variance": [Interval(Real, 0, None, closed="neither")],
        "missing": [StrOptions({"error", "mask"})],
        "n_importance_samples": [Interval(Integral, 1, None, closed="left")],
        "kl_schedule": [StrOptions({"linear", "cyclical", "capacity"})],
        "max_capacity": [Interval(Real, 0, None, closed="left")],
        "objective": [StrOptions({"elbo", "iwae"})],
        "n_iwae_samples": [Interval(Integral, 1, None, closed="left")],
        "prior": [StrOptions({"normal", "vamp"})],
        "n_pseudo_inputs": [Interval(Integral, 1, None, closed="left")],
        "tc_weight": [Interval(Real, 0, None, closed="left")],
        "precision": [StrOptions({"auto", "float32", "bfloat16"})],
        "encoder": [type, nn.Module, None],
        "decoder": [type, nn.Module, None],
    }

    def __init__(
        self,
        n_components=8,
        *,
        beta=1.0,
        hidden_layer_sizes=(256, 128),
        input_shape=None,
        activation="relu",
        likelihood="gaussian",
        missing="error",
        min_variance=1e-3,
        kl_warmup=10,
        kl_schedule="linear",
        max_capacity=25.0,
        free_bits=0.0,
        objective="elbo",
        n_iwae_samples=5,
        prior="normal",
        n_pseudo_inputs=100,
        tc_weight=0.0,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=200,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        n_importance_samples=1,
        max_grad_norm=None,
        compile=False,
        precision="auto",
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
        self.input_shape = input_shape
        self.activation = activation
        self.likelihood = likelihood
        self.missing = missing
        self.min_variance = min_variance
        self.kl_warmup = kl_warmup
        self.kl_schedule = kl_schedule
        self.max_capacity = max_capacity
        self.free_bits = free_bits
        self.objective = objective
        self.n_iwae_samples = n_iwae_samples
        self.prior = prior
        self.n_pseudo_inputs = n_pseudo_inputs
        self.tc_weight = tc_weight
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.n_importance_samples = n_importance_samples
        self.max_grad_norm = max_grad_norm
        self.compile = compile
        self.precision = precision
        self.warm_start = warm_start
        self.verbose = verbose
        self.random_state = random_state
        self.device = device
        self.callbacks = callbacks
        self.encoder = encoder
        self.decoder = decoder
        self._set_routed_params(kwargs)

    def _hidden_sizes(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
        if any(not isinstance(s, Integral) or s < 1 for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must contain positive integers, got "
                f"hidden_layer_sizes={self.hidden_layer_sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    def _check_params(self, X) -> None:
        self._hidden_sizes()
        check_input_shape(getattr(self, "input_shape", None), X.shape[1])
        check_likelihood_range(self.likelihood, X)
        self._check_objective()

    def _check_objective(self) -> None:
        """Reject combinations of the objective's options that do not mix."""
        objective = getattr(self, "objective", "elbo")
        schedule = getattr(self, "kl_schedule", "linear")
        if objective == "iwae" and (self.free_bits > 0 or schedule == "capacity"):
            raise ValueError(
                "objective='iwae' weights whole importance samples, so it takes "
                "neither free_bits > 0 nor kl_schedule='capacity'."
            )
        if getattr(self, "prior", "normal") == "vamp" and self.free_bits > 0:
            raise ValueError(
                "free_bits needs a KL per latent dimension, which prior='vamp' "
                "(a mixture) does not have; use kl_warmup instead."
            )

    def _module_options(self, X) -> dict:
        """Keyword arguments of GaussianVAEModule from the estimator's options."""
        prior = None
        if self.prior == "vamp":
            rng = np.random.default_rng(self._seed)
            n_pseudo = min(self.n_pseudo_inputs, X.shape[0])
            rows = rng.choice(X.shape[0], size=n_pseudo, replace=False)
            # rows with missing entries (NaN) start from 0 there, as the
            # encoder sees them
            pseudo = np.nan_to_num(X[rows], nan=0.0)
            prior = VampPrior(torch.as_tensor(pseudo, dtype=torch.float32))
        return dict(
            objective=self.objective,
            n_iwae_samples=self.n_iwae_samples,
            prior=prior,
            tc_weight=self.tc_weight,
            encoder=self._network_spec("encoder"),
            decoder=self._network_spec("decoder"),
        )

    def _build_module(self, X) -> GaussianVAEModule:
        n_features = X.shape[1]
        return GaussianVAEModule(
            n_features,
            self.n_components,
            self._hidden_sizes(),
            self.activation,
            self._data_likelihood(X),
            check_input_shape(getattr(self, "input_shape", None), n_features),
            **self._module_options(X),
        )
