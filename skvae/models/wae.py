"""The Wasserstein autoencoder (Tolstikhin et al. 2018), WAE-MMD."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from skvae._base import BaseVAE, _caller_level
from skvae._sklearn_compat import StrOptions
from skvae._training import KLSchedule
from skvae.models._autoencoder import (
    AUTOENCODER_PARAMS,
    LogJointScoreMixin,
    autoencoder_args,
    check_autoencoder_params,
)
from skvae.nn.autoencoder import WAEModule, WAETerms
from skvae.nn.divergences import KERNELS
from skvae.nn.likelihoods import Likelihood

__all__ = ["WAE", "WAEModule", "WAETerms"]


class WAE(LogJointScoreMixin, BaseVAE):
    """Wasserstein autoencoder (WAE-MMD) as a scikit-learn transformer.

    An autoencoder whose codes are pushed towards the N(0, I) prior as a
    whole, not row by row as in a VAE: the loss is the reconstruction cost
    plus ``beta`` times the maximum mean discrepancy between the batch's
    codes and as many prior draws (unbiased estimate, see
    :func:`skvae.nn.divergences.mmd`). The encoder is deterministic by
    default. ``transform`` returns the code, ``inverse_transform`` decodes,
    ``sample`` decodes prior draws.

    Parameters
    ----------
    n_components : int, default=8
        Dimension of the latent space.
    beta : float, default=10.0
        Weight of the MMD penalty: the lambda of Tolstikhin et al. (who use
        10 on MNIST), constant through training. It is named ``beta`` as the
        regularisation weight of every skvae model, so that model selection
        searches the same name. The reconstruction cost is a negative
        log-likelihood in nats per row, so the right value grows with the
        number of features.
    kernel : {"imq", "rbf"}, default="imq"
        Kernel of the MMD: inverse multiquadric C / (C + ||a - b||^2), whose
        heavy tails keep gradients for codes far from the prior (the paper's
        choice), or Gaussian exp(-||a - b||^2 / C); each summed over widths
        C = 2 * n_components * s for s in 0.1 ... 10.
    encoder_type : {"deterministic", "gaussian"}, default="deterministic"
        A deterministic encoder z = f(x), or a Gaussian one whose training
        codes are drawn by reparameterisation; ``transform`` returns its
        mean.
    log_var_penalty : float, default=0.0
        Weight of ``sum_j |log sigma_j^2|`` per row for the Gaussian encoder
        (Rubenstein et al. 2018), e.g. 1e-3, which keeps its variances from
        shrinking to zero. Ignored by the deterministic encoder.
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
        Rows per optimisation step and per MMD estimate (small batches give
        noisy estimates; a batch of one row has none, and only reconstructs:
        ``batch_size=1``, or a ``partial_fit`` chunk of one row, with
        ``beta > 0`` is warned about, and an epoch's last row left over
        joins the batch before it); "auto" is ``min(200, n_samples)``.
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
        ``input_shape`` for their role.
    **kwargs
        ``encoder__<name>`` and ``decoder__<name>``: parameters of the
        network classes.

    Attributes
    ----------
    module_ : WAEModule
        The trained network.
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
        One record per epoch: ``epoch``, ``train_loss`` (reconstruction cost
        plus ``beta`` times the MMD, per row), ``recon``, ``mmd`` (mean batch
        estimate of MMD^2 between codes and prior), ``beta``, ``dur`` and,
        with early stopping, ``valid_loss``.
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
    skvae.VAE : Regularises each row's posterior by a KL divergence instead.
    skvae.AdversarialAE : Matches codes to the prior with a discriminator
        instead of the MMD.

    Notes
    -----
    ``score_samples`` is the log-joint density at the code, log p(x | z) +
    log p(z), not a likelihood bound: see :meth:`score_samples`.

    References
    ----------
    .. [1] I. Tolstikhin, O. Bousquet, S. Gelly and B. Schoelkopf,
       "Wasserstein Auto-Encoders", ICLR 2018.
    .. [2] P. K. Rubenstein, B. Schoelkopf and I. Tolstikhin, "On the Latent
       Space of Wasserstein Auto-Encoders", arXiv:1802.03761, 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import WAE
    >>> X = np.random.RandomState(0).normal(size=(20, 5))
    >>> wae = WAE(n_components=2, max_iter=2, random_state=0)
    >>> wae.fit(X).transform(X).shape
    (20, 2)
    >>> wae.score_samples(X).shape
    (20,)
    >>> wae.sample(3).shape
    (3, 5)
    """

    _unread_with_user_networks = ("hidden_layer_sizes", "activation")

    _empty_hidden_ok = False

    _network_params = (
        *BaseVAE._network_params,
        "encoder_type",
        "log_var_penalty",
        "kernel",
    )
    _parameter_constraints: dict[str, list[Any]] = {
        **BaseVAE._parameter_constraints,
        **AUTOENCODER_PARAMS,
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
        self.kernel = kernel
        self.encoder_type = encoder_type
        self.log_var_penalty = log_var_penalty
        self.input_shape = input_shape

    def _kl_schedule(self) -> KLSchedule:
        # the module weighs the MMD by ctx.beta: a constant weight, no warm-up
        return KLSchedule(beta=float(self.beta))

    _built_though_unread = ("kernel",)

    def _ignored_params(self) -> dict[str, str]:
        ignored = super()._ignored_params()
        if self.beta == 0:
            ignored["kernel"] = "with beta=0 (the MMD it computes has no weight)"
        return ignored

    def _check_params(self, X: np.ndarray) -> None:
        check_autoencoder_params(self, X)
        if self.beta > 0 and (self.batch_size == 1 or X.shape[0] == 1):
            # the MMD is a U-statistic over pairs of the batch's codes
            warnings.warn(
                "WAE's MMD term needs two rows a batch: with batch_size=1 (or "
                "a chunk of one row) training only reconstructs, and beta and "
                "kernel have no effect. Use batches of several rows.",
                UserWarning,
                stacklevel=_caller_level(),
            )

    def _sample_weight_refusal(self) -> str | None:
        return "its MMD term compares the batch's codes with the prior as a whole"

    def _build_module(self, X: np.ndarray, likelihood: Likelihood) -> WAEModule:
        return WAEModule(**autoencoder_args(self, X, likelihood), kernel=self.kernel)
