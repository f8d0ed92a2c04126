"""The adversarial autoencoder (Makhzani et al. 2016)."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np

from skvae._base import BaseVAE, layer_sizes
from skvae._sklearn_compat import Interval
from skvae._training import KLSchedule
from skvae.models._autoencoder import (
    AUTOENCODER_PARAMS,
    LogJointScoreMixin,
    autoencoder_args,
    check_autoencoder_params,
)
from skvae.nn.autoencoder import AAEModule, AAETerms
from skvae.nn.likelihoods import Likelihood

__all__ = ["AAEModule", "AAETerms", "AdversarialAE"]


class AdversarialAE(LogJointScoreMixin, BaseVAE):
    """Adversarial autoencoder as a scikit-learn transformer.

    An autoencoder whose codes are made indistinguishable from N(0, I) draws
    by adversarial training: a discriminator on the latent space learns to
    tell prior draws from the codes of the data, and the encoder learns to
    fool it while the decoder reconstructs. Both are trained in one pass per
    batch, each by its own Adam optimiser. ``transform`` returns the code,
    ``inverse_transform`` decodes, ``sample`` decodes prior draws.

    Parameters
    ----------
    n_components : int, default=8
        Dimension of the latent space.
    beta : float, default=1.0
        Weight of the encoder's adversarial (generator) loss -log D(z) against
        the reconstruction cost, constant through training. Makhzani et al.
        alternate a reconstruction and a regularisation phase with equal
        weight; here both are summed in one step, and ``beta`` is named as
        every skvae model's regularisation weight, so that model selection
        searches the same name.
    encoder_type : {"deterministic", "gaussian"}, default="deterministic"
        A deterministic encoder z = f(x), or a Gaussian one whose training
        codes are drawn by reparameterisation; ``transform`` returns its
        mean.
    log_var_penalty : float, default=0.0
        Weight of ``sum_j |log sigma_j^2|`` per row for the Gaussian encoder
        (Rubenstein et al. 2018), e.g. 1e-3, which keeps its variances from
        shrinking to zero. Ignored by the deterministic encoder.
    discriminator_hidden_layer_sizes : array-like of int, default=(64, 64)
        Widths of the discriminator's hidden layers (at least one), with the
        same ``activation`` as the encoder and decoder.
    discriminator_lr_scale : float, default=1.0
        The discriminator's learning rate as a multiple of
        ``learning_rate_init``. Both networks' Adam use betas (0.5, 0.999),
        as is usual in adversarial training.
    hidden_layer_sizes : array-like of int, default=(256, 128)
        Widths of the encoder's hidden layers (at least one); the decoder
        mirrors them.
    input_shape : tuple of int or None, default=None
        (C, H, W) of images passed as flattened rows. The encoder and decoder
        are then convolutional, ``hidden_layer_sizes`` giving the channels of
        their stride-2 layers (each halves the image), e.g. ``(32, 64)``.
    activation : {"relu", "tanh", "logistic", "identity", "elu", "gelu", "silu"}, \
default="relu"
        Activation of the hidden layers.
    likelihood : {"gaussian", "bernoulli", "auto"} or dict, default="gaussian"
        The observation model p(x | z), whose negative log-likelihood is the
        reconstruction cost c(x, G(z)). "gaussian" has a mean from the
        decoder and a learned per-feature variance (floored by
        ``min_variance``), for real-valued data (standardise it first): a
        squared error weighted per feature; "bernoulli" is for data in
        [0, 1], such as binary features or pixel intensities: the binary
        cross-entropy. For tables of mixed columns, "auto" reads the types
        off the data (one-hot groups as ``OneHotEncoder`` writes them are
        categorical, other 0/1 columns Bernoulli, the rest Gaussian), and a
        dict such as ``{"poisson": [4], "categorical": [[5, 6, 7]]}``
        (column indices or feature names; "negbin" for overdispersed counts)
        declares them, the columns it leaves out being inferred.
    min_variance : float, default=1e-3
        Floor of the Gaussian likelihood's variance, relative to the mean
        variance of the training features (so it follows the data's scale).
        Constant features would otherwise drive the likelihood to infinity; a
        larger floor makes ``score_samples`` less sensitive to features that
        barely vary.
    batch_size : int or "auto", default="auto"
        Rows per optimisation step; "auto" is ``min(200, n_samples)``.
    learning_rate_init : float, default=1e-3
        Adam's learning rate.
    max_iter : int or "auto", default="auto"
        Maximum number of epochs. "auto" picks them from the number of
        training rows: the epochs that give about 5,000 optimisation steps,
        within 2 and 200 (see the user guide, "Training budgets");
        ``max_iter_`` is the number chosen. 0 initialises the model without
        training.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows and stop when the
        validation loss stops improving; the best weights are restored.
    validation_fraction : float, default=0.1
        Share of rows held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` (of the validation
        loss with early stopping, else the training loss) before stopping.
        Counting starts after any warm-up of the regulariser's weight.
    tol : float, default=1e-4
        Minimal improvement of the loss (nats per row).
    max_grad_norm : float or None, default=None
        Clip the gradients' global norm to this value at each step.
    compile : bool, default=False
        Compile the training step's forward pass with ``torch.compile``. The
        first epoch then takes tens of seconds longer (compilation); later
        epochs run faster, most on GPUs. Inference stays eager.
    precision : {"auto", "float32", "bfloat16"}, default="auto"
        Arithmetic of the training step's networks. "bfloat16" runs them
        under bfloat16 autocast (the loss's sums stay float32); a model
        whose training step is not safe under autocast refuses it. "auto"
        uses bfloat16 on CUDA GPUs that support it, for models that are safe
        under it, and float32 elsewhere (on CPUs bfloat16 is slower).
    warm_start : bool, default=False
        Continue from the previous fit's weights and optimiser state (a
        one-off initialisation, such as a pretraining, is not repeated).
    verbose : bool or int, default=False
        1 (or True): a progress bar over the epochs (tqdm; drawn only in an
        interactive session, never in a joblib or Dask worker) and a line
        with the device at the start and a summary at the end; 2: one line
        per epoch (the epoch of the total, the losses and their parts,
        time) in place of the bar. The logger named ``skvae`` receives these
        lines whatever the value (see :mod:`skvae.callbacks`).
    random_state : int, RandomState instance or None, default=None
        Seeds every random draw of a fit: weight initialisation, batching,
        noise, the validation split and any initialisation from the data. The
        global numpy and torch random states are never used or changed.
    device : str, default="auto"
        "auto" (CUDA when available, else Apple's MPS, else the CPU), "cpu",
        "cuda", "cuda:N" or "mps"; ``device_`` names the one used.
    callbacks : list of skvae.Callback or None, default=None
        Extra callbacks called by the training loop (in every phase of a
        fit), e.g. those of :mod:`skvae.callbacks`. They are not part of the
        model: :func:`skvae.save` stores ``callbacks=None``.
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
        ``input_shape`` for their role; the discriminator stays built-in.
    **kwargs
        ``encoder__<name>`` and ``decoder__<name>``: parameters of the
        network classes.

    Attributes
    ----------
    module_ : AAEModule
        The trained networks (autoencoder and discriminator).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when X has string names.
    device_ : str
        The device the model is on: where it was trained ("cpu", "cuda:0",
        "mps"), or where it was loaded or unpickled.
    n_iter_ : int
        Number of epochs trained.
    max_iter_ : int
        The epochs the last ``fit`` could train: ``max_iter``, or the number
        that "auto" chose.
    history_ : list of dict
        One record per epoch: ``epoch``, ``train_loss`` (the autoencoder's
        loss: reconstruction cost plus ``beta`` times the adversarial loss),
        ``disc_loss``, ``recon``, ``adversarial``, ``disc_acc`` (the
        discriminator's accuracy; near 0.5 when codes match the prior),
        ``beta``, ``dur`` and, with early stopping, ``valid_loss``.
    loss_curve_ : list of float
        ``train_loss`` of each epoch.
    column_types_ : list of (str, list of int)
        With ``likelihood="auto"`` or a dict: each block of columns and its
        type, as resolved on the training data.
    table_encoder_ : TableEncoder
        Only after a fit on a pandas DataFrame: how its columns are encoded
        and decoded (``types_``, ``kinds_``, ``dtypes_``, ``categories_``);
        see the user guide, "Tables (pandas DataFrames)".
    best_loss_ : float
        Best validation loss with early stopping, else best training loss.

    See Also
    --------
    skvae.WAE : Matches codes to the prior with the MMD instead.
    skvae.VAE : Regularises each row's posterior by a KL divergence.

    Notes
    -----
    ``score_samples`` is the log-joint density at the code, log p(x | z) +
    log p(z), not a likelihood bound: see :meth:`score_samples`.

    The autoencoder's loss contains an adversarial term whose value depends
    on the discriminator, so ``train_loss`` need not decrease steadily, and
    stopping on it (``tol``, ``early_stopping``) is rougher than for a VAE.
    ``max_grad_norm`` clips the gradients of each network (autoencoder,
    discriminator) apart, so that one's large gradients do not shrink the
    other's steps.

    References
    ----------
    .. [1] A. Makhzani, J. Shlens, N. Jaitly, I. Goodfellow and B. Frey,
       "Adversarial Autoencoders", ICLR workshop 2016, arXiv:1511.05644.
    .. [2] I. Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014
       (the non-saturating generator loss).
    .. [3] P. K. Rubenstein, B. Schoelkopf and I. Tolstikhin, "On the Latent
       Space of Wasserstein Auto-Encoders", arXiv:1802.03761, 2018 (the
       log-variance penalty).

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import AdversarialAE
    >>> X = np.random.RandomState(0).normal(size=(20, 5))
    >>> aae = AdversarialAE(n_components=2, max_iter=2, random_state=0)
    >>> aae.fit(X).transform(X).shape
    (20, 2)
    >>> aae.score_samples(X).shape
    (20,)
    >>> aae.sample(3).shape
    (3, 5)
    """

    _unread_with_user_networks = ("hidden_layer_sizes",)  # activation: the critic's

    _empty_hidden_ok = False

    _network_params = (
        *BaseVAE._network_params,
        "encoder_type",
        "log_var_penalty",
        "discriminator_hidden_layer_sizes",
        "discriminator_lr_scale",
    )
    _parameter_constraints: dict[str, list[Any]] = {
        **BaseVAE._parameter_constraints,
        **AUTOENCODER_PARAMS,
        "discriminator_hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "discriminator_lr_scale": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        n_components=8,
        *,
        beta=1.0,
        encoder_type="deterministic",
        log_var_penalty=0.0,
        discriminator_hidden_layer_sizes=(64, 64),
        discriminator_lr_scale=1.0,
        hidden_layer_sizes=(256, 128),
        input_shape=None,
        activation="relu",
        likelihood="gaussian",
        min_variance=1e-3,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter="auto",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
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
        super().__init__(**self._shared_params(locals()))
        self.n_components = n_components
        self.beta = beta
        self.encoder_type = encoder_type
        self.log_var_penalty = log_var_penalty
        self.discriminator_hidden_layer_sizes = discriminator_hidden_layer_sizes
        self.discriminator_lr_scale = discriminator_lr_scale
        self.input_shape = input_shape

    def _kl_schedule(self) -> KLSchedule:
        # the module weighs the adversarial loss by ctx.beta: constant, no warm-up
        return KLSchedule(beta=float(self.beta))

    _built_though_unread = ("discriminator_hidden_layer_sizes",)

    def _has_hidden_layers(self) -> bool:
        return True  # the critic's, built-in with user networks too

    def _ignored_params(self) -> dict[str, str]:
        ignored = super()._ignored_params()
        if self.beta == 0:
            reason = "with beta=0 (the critic's verdict has no weight in the codes)"
            ignored["discriminator_hidden_layer_sizes"] = reason
            ignored["discriminator_lr_scale"] = reason
        return ignored

    def _discriminator_sizes(self) -> tuple[int, ...]:
        return layer_sizes(
            self.discriminator_hidden_layer_sizes,
            "discriminator_hidden_layer_sizes",
            allow_empty=False,
        )

    def _check_params(self, X: np.ndarray) -> None:
        check_autoencoder_params(self, X)
        self._discriminator_sizes()

    def _build_module(self, X: np.ndarray, likelihood: Likelihood) -> AAEModule:
        return AAEModule(
            **autoencoder_args(self, X, likelihood),
            discriminator_hidden_layer_sizes=self._discriminator_sizes(),
            discriminator_lr_scale=self.discriminator_lr_scale,
        )
