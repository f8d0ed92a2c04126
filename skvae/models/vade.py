"""VaDE (Jiang et al. 2017): a VAE with a Gaussian-mixture prior, as a clusterer."""

from __future__ import annotations

import itertools
import math
import weakref
from numbers import Integral
from typing import Any

import numpy as np
import torch
from sklearn.base import ClusterMixin
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture
from sklearn.utils.validation import check_is_fitted

from skvae._base import (
    KL_PARAMS,
    OBJECTIVE_PARAMS,
    SCORING_PARAMS,
    BaseVAE,
    auto_epochs,
    check_objective,
    kl_schedule_of,
)
from skvae._data import check_n_samples, epochs_for_steps
from skvae._sklearn_compat import Interval, StrOptions
from skvae._torch import Stream, spawn, to_numpy
from skvae._training import KLSchedule
from skvae.nn.conv import check_input_shape
from skvae.nn.likelihoods import GaussianLikelihood, Likelihood, MixedLikelihood
from skvae.nn.mixture import SharedVarianceGaussian, VaDEModule, mixture_kl_penalty

#: A model being loaded: the widths it was built with (see _rebuild_module)
_SAVED_WIDTHS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

__all__ = ["VaDE", "VaDEModule", "mixture_kl_penalty"]


def _native_bfloat16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 natively (CUDA, AVX512-BF16, AMX)."""
    if device.type == "cuda":
        # bfloat16 units from Ampere (8.x) on; earlier GPUs emulate it
        return torch.cuda.get_device_capability(device)[0] >= 8
    if device.type == "cpu":
        probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
        return any(getattr(torch.cpu, name, lambda: False)() for name in probes)
    return False


class VaDE(ClusterMixin, BaseVAE):
    """Variational Deep Embedding: clustering with a Gaussian-mixture-prior VAE.

    The latent prior is a mixture of ``n_clusters`` diagonal Gaussians learnt
    with the encoder and decoder (Jiang et al. 2017). ``fit`` follows the
    paper: it pretrains the network as an autoencoder for
    ``pretrain_max_iter`` epochs, initialises the prior from the encoded
    rows, then maximises the VaDE evidence lower bound. A row's cluster is
    the mixture component most responsible for its posterior mean.

    The initial mixture matters most: the main phase moves the clustering
    little from where the initial mixture puts it. The paper fits a diagonal
    ``GaussianMixture`` to the codes (``init_params="gmm"``). The default,
    ``"spherical"``, clusters the codes' directions instead (k-means on the
    codes scaled to unit length) and sets each component to its cluster's
    share, mean and variance: an autoencoder's codes of one class tend to
    share a direction more than a place, their length varying with stroke
    weight and contrast. Where one cluster's codes surround the origin,
    directions would split it, and ``"gmm"`` is the better start.
    ``benchmarks/bench_clustering.py`` measures the clustering on two digit
    sets; the README gives its figures with either start.
    ``benchmarks/suite_clustering.py`` compares VaDE at its defaults with
    KMeans and Gaussian mixtures on 27 tasks (class subsets of digits, MNIST
    and tabular sets); the README gives its reporting half, and the user guide
    says where the simple methods cluster better.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters (mixture components).
    n_components : int, default=10
        Dimension of the latent space.
    pretrain_max_iter : int or "auto", default="auto"
        Most epochs of autoencoder pretraining before the mixture is
        initialised; 0 skips it (the mixture is then fitted to the untrained
        encoder). Pretraining stops earlier when its training loss has not
        improved by ``tol`` for ``n_iter_no_change`` epochs.
        "auto" picks them from the number of training rows: the epochs that
        give about 1,000 optimisation steps, and at least 10, so that small
        data sets get as many steps as larger ones and the cost grows
        linearly with the rows (20 epochs on 5,000 rows with batches of 100),
        within the cap that ``max_iter`` describes. The first ``partial_fit``
        pretrains too, sized by its chunk's rows (up to about 1,000 steps
        however small the chunk); later calls train one epoch each.
    init_params : {"spherical", "gmm"}, default="spherical"
        How the mixture prior starts, from the pretrained codes: "gmm" fits a
        diagonal ``GaussianMixture`` (best of 10 initialisations, the
        paper's); "spherical" runs k-means (10 initialisations) on the codes
        scaled to unit length and takes each cluster's share, mean and
        diagonal variance (a cluster that k-means leaves empty, where rows
        have fewer distinct directions than ``n_clusters``, as duplicated
        rows may, starts at the codes' mean with weight 0 and the other
        clusters' mean variance). See above for when each helps.
    beta : float, default=1.0
        Weight of the KL term (of z and of the cluster assignment).
    hidden_layer_sizes : array-like of int or "auto", default="auto"
        Widths of the encoder's hidden layers; the decoder mirrors them.
        "auto" is the paper's network, (500, 500, 2000), on data of 125
        features or more (it was designed for MNIST's 784); on narrower data
        every width is scaled by ``n_features / 125`` (at least 16 units),
        so that the first layer is at most four times as wide as the input
        (apart from the 16-unit floor; 8x8 digits: (256, 256, 1024)).
        The paper's wide last layer clusters images better than narrower
        networks do, but on narrow data its full widths multiply the cost of
        every epoch for no clear gain in the clustering. On few rows, where
        the "auto" budgets' 1,000 pretraining steps are many epochs, every
        width of narrow data is scaled down further by one factor, the
        largest that keeps the multiply-adds per row of the "auto" epochs
        (pretraining and main phase) at most those of 95 epochs of an MLP
        autoencoder with hidden widths (512, 256), the plain VAE by whose
        epochs skvae times its deep models; the factor is at least 1/4 and
        at least ``n_features / 125``. Narrower networks cluster narrow
        data (8x8 digits) as well or better at a fraction of the cost, but
        images worse, so data of 125 features or more keeps the paper's
        network at any size (digits get (210, 210, 842) on 1,797 rows,
        (131, 131, 524) below about 700). ``hidden_layer_sizes_`` gives the
        widths built, from the rows of the first fit (the first chunk of a
        ``partial_fit``, whatever the chunks after it) and the "auto"
        budgets, whatever ``batch_size``, ``max_iter`` and
        ``pretrain_max_iter`` are set to. With ``input_shape``, "auto" gives
        the channels (32, 64).
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
    min_variance : float, default=1e-3
        Floor of the Gaussian likelihood's variance, relative to the mean
        variance of the training features (so it follows the data's scale).
        Constant features would otherwise drive the likelihood to infinity; a
        larger floor makes ``score_samples`` less sensitive to features that
        barely vary.
    shared_variance : bool, default=True
        With ``likelihood="gaussian"``, learn one variance shared by all
        features (``skvae.nn.mixture.SharedVarianceGaussian``) rather than
        one per feature: the reconstruction term then weighs every feature
        alike, a squared error. A variance per feature lets the features that
        barely vary (an image's border pixels) dominate the loss, and the
        codes, hence the clusters, follow them. The default was chosen on
        the tuning half of ``benchmarks/suite_clustering.py``, where
        per-feature variances clustered digit images much worse (see the
        README for its figures). Other likelihoods ignore it.
    kl_warmup : int, default=0
        Epochs over which the KL weight grows linearly from 0 to ``beta``
        after the pretraining. 0, the default, disables the warm-up: the
        pretraining and the mixture initialisation already give the prior a
        sensible start. With ``kl_schedule="cyclical"`` it is the period of
        the cycles, with "capacity" the epochs over which the capacity grows.
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
    batch_size : int or "auto", default="auto"
        Rows per optimisation step; "auto" is ``min(100, n_samples)``, the
        paper's batch, which clustered at least as well as larger ones in the
        settings of ``benchmarks/bench_clustering.py`` (down to 50 where the
        "auto" budgets are capped without native bfloat16: see
        ``max_iter``).
    learning_rate_init : float, default=1e-3
        Adam's learning rate.
    max_iter : int or "auto", default="auto"
        Maximum number of epochs after the pretraining. "auto" picks them
        from the number of training rows: the epochs that give about 150
        optimisation steps, within 2 and 50 (3 epochs on 5,000 rows with
        batches of 100, 50 on up to 300 rows); ``max_iter_`` is the number
        chosen. The clustering moves little after the first steps of this
        phase (``benchmarks/bench_clustering.py --timing``; see the README
        for its figures). 0 pretrains and initialises the mixture without
        further training. The "auto" budgets (``batch_size``,
        ``pretrain_max_iter``, ``max_iter``) are capped where a network is
        wide for its rows (the paper's network on fewer than about 4,000
        rows, narrow data below about 600): together they cost at most
        about 120 epochs of a plain
        (512, 256) autoencoder, the main phase gets at most an eighth of
        that, and an "auto" pretraining runs under bfloat16 autocast where
        the device computes it natively and ``precision="auto"`` (else in
        batches of down to 50 rows): such fits differ between machines with
        and without native bfloat16.
        The rule, and its reasons, are in the user guide's training
        budgets.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows and stop when the
        validation loss stops improving; the best weights are restored.
    validation_fraction : float, default=0.1
        Share of rows held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` (of the validation
        loss with early stopping, else the training loss) before stopping.
        Counting starts after any warm-up of the regulariser's weight; on
        the training loss under ``kl_schedule="cyclical"``, only the last
        epoch of each period counts (the KL weight ramps up in each).
    tol : float, default=1e-4
        Minimal improvement of the loss (nats per row).
    objective : {"elbo", "iwae"}, default="elbo"
        Training objective. "elbo": the beta-ELBO with one posterior draw.
        "iwae": the importance-weighted bound of Burda et al. (2016) with
        ``n_iwae_samples`` draws per row, which is tighter and trains a
        better density model (slower: the decoder runs k times).
    n_iwae_samples : int, default=5
        Draws per row of ``objective="iwae"``.
    n_importance_samples : int, default=1
        Samples for ``score_samples``: 1 gives the ELBO, more the tighter
        importance-weighted bound (IWAE). It does not change the fit: compare
        models' scores at one value of it (a search over it picks the
        largest).
    max_grad_norm : float or None, default=None
        Clip the gradients' global norm to this value at each step.
    compile : bool, default=False
        Compile the training step's forward pass with ``torch.compile``. The
        first epoch then takes tens of seconds longer (compilation); later
        epochs run faster, most on GPUs. Inference stays eager.
    precision : {"auto", "float32", "bfloat16"}, default="auto"
        Arithmetic of the training step's networks. "bfloat16" runs them
        under bfloat16 autocast (the loss's sums stay float32); a model
        whose training step is not safe under autocast refuses it, as
        VaDE's main phase is. "auto" trains the main phase in float32, and
        an "auto" pretraining whose budget is capped (see ``max_iter``; a
        plain autoencoder, safe under autocast) under bfloat16 autocast on
        any device that computes bfloat16
        natively (CUDA GPUs from Ampere, CPUs with AVX512-BF16 or AMX), in
        float32 elsewhere; the "auto" batch follows (see ``max_iter``), so
        a fit under "auto" differs between machines with and without native
        bfloat16, and from one under "float32" on a machine with it.
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
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training row; after ``partial_fit``, of the rows of
        its last chunk (as ``MiniBatchKMeans`` sets it).
    weights_ : ndarray of shape (n_clusters,)
        Mixture weights of the fitted prior.
    means_ : ndarray of shape (n_clusters, n_components)
        Component means in the latent space.
    covariances_ : ndarray of shape (n_clusters, n_components)
        Component variances (diagonal).
    pretrain_history_ : list of dict
        One record per pretraining epoch.
    module_ : VaDEModule
        The trained network.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when X has string names.
    device_ : str
        The device the model is on: where it was trained ("cpu", "cuda:0",
        "mps"), or where it was loaded or unpickled.
    n_iter_ : int
        Number of epochs trained after pretraining.
    max_iter_ : int
        The epochs the last ``fit`` could train after the pretraining:
        ``max_iter``, or the number that "auto" chose.
    hidden_layer_sizes_ : tuple of int
        The built-in networks' hidden widths (channels with ``input_shape``)
        as the last first fit built them: ``hidden_layer_sizes``, or those
        "auto" chose; a network passed as ``encoder`` or ``decoder`` has its
        own. A loaded model keeps them, whatever "auto" gives today.
    pretrain_max_iter_ : int
        The pretraining epochs the last first fit could train:
        ``pretrain_max_iter``, or the number that "auto" chose
        (``len(pretrain_history_)`` were trained).
    history_ : list of dict
        One record per epoch (see :class:`skvae.VAE`).
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
        Best validation loss with early stopping, else best training loss
        after the warm-up.

    Notes
    -----
    The KL of the ``kl_schedule`` and ``max_capacity`` options is the whole
    KL, of z and of the cluster assignment; ``free_bits`` applies per
    dimension of z. The pretraining has no KL term and keeps no warm-up.

    See Also
    --------
    sklearn.mixture.GaussianMixture : The mixture without the network.
    sklearn.cluster.KMeans : Clustering in the input space.

    References
    ----------
    .. [1] Z. Jiang, Y. Zheng, H. Tan, B. Tang and H. Zhou, "Variational Deep
       Embedding: An Unsupervised and Generative Approach to Clustering",
       IJCAI 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import VaDE
    >>> rng = np.random.RandomState(0)
    >>> X = np.r_[rng.normal(-3, 1, (40, 4)), rng.normal(3, 1, (40, 4))]
    >>> vade = VaDE(n_clusters=2, n_components=2, pretrain_max_iter=10,
    ...             max_iter=10, random_state=0)
    >>> labels = vade.fit_predict(X)
    >>> len(set(labels[:40])), len(set(labels[40:])), bool(labels[0] != labels[-1])
    (1, 1, True)
    >>> vade.predict_proba(X[:2]).shape
    (2, 2)
    """

    _unread_with_user_networks = ("hidden_layer_sizes", "activation")

    _auto_batch_size = 100  # the paper's
    #: ``max_iter="auto"``: the epochs that give about ``_auto_steps`` steps
    #: of the main phase, within ``_auto_epochs`` (min, max).
    _auto_steps = 150
    _auto_epochs = (2, 50)
    #: ``pretrain_max_iter="auto"``: about this many steps, at least this
    #: many epochs.
    _auto_pretrain_steps = 1000
    _auto_pretrain_min_epochs = 10
    #: ``hidden_layer_sizes="auto"``: the paper's widths, scaled by
    #: ``n_features / _auto_full_width_features`` below that many features,
    #: each at least ``_auto_min_width``.
    _auto_hidden = (500, 500, 2000)
    _auto_full_width_features = 125
    _auto_min_width = 16
    #: ``hidden_layer_sizes="auto"`` on few rows: the widths shrink by a
    #: common factor (at least ``_auto_min_row_scale`` and
    #: ``n_features / _auto_full_width_features``) until the default
    #: budget's epochs (pretraining and main phase) cost at most
    #: ``_auto_width_epochs`` epochs of an MLP of ``_auto_reference``
    #: hidden widths (multiply-adds per row); None: of the network above.
    _auto_width_epochs = 95
    _auto_reference = (512, 256)
    _auto_min_row_scale = 0.25
    #: ``hidden_layer_sizes="auto"`` with ``input_shape``: the channels.
    _auto_channels = (32, 64)
    #: The "auto" budgets (pretraining and main phase) cost at most
    #: ``_auto_budget_epochs`` epochs of the ``_auto_reference`` MLP at
    #: batches of ``_auto_reference_batch``, a step counted as
    #: ``_auto_step_rows`` more rows; over it, the "auto" batch shrinks (to
    #: ``_auto_min_batch``) and the epochs are cut, the main phase to at most
    #: ``1 / _auto_main_share`` of them; a pretraining under bfloat16
    #: autocast counts ``_auto_bfloat16_cost`` of a float32 epoch's cost.
    _auto_budget_epochs = 120
    _auto_reference_batch = 256
    _auto_step_rows = 32
    _auto_min_batch = 50
    _auto_main_share = 8
    _auto_bfloat16_cost = 1 / 2

    _network_params = (
        *BaseVAE._network_params,
        "n_clusters",
        "shared_variance",
        "objective",
        "n_iwae_samples",
        # the first fit's pretraining and mixture initialisation
        "pretrain_max_iter",
        "init_params",
    )
    _parameter_constraints = {
        **BaseVAE._parameter_constraints,
        **KL_PARAMS,
        **OBJECTIVE_PARAMS,
        **SCORING_PARAMS,
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "pretrain_max_iter": [
            Interval(Integral, 0, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "max_iter": [
            StrOptions({"auto"}),
            Interval(Integral, 0, None, closed="left"),
        ],
        "hidden_layer_sizes": [
            *BaseVAE._parameter_constraints["hidden_layer_sizes"],
            StrOptions({"auto"}),
        ],
        "init_params": [StrOptions({"spherical", "gmm"})],
        "shared_variance": ["boolean"],
        "input_shape": ["array-like", None],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        n_components=10,
        pretrain_max_iter="auto",
        init_params="spherical",
        beta=1.0,
        hidden_layer_sizes="auto",
        input_shape=None,
        activation="relu",
        likelihood="gaussian",
        min_variance=1e-3,
        shared_variance=True,
        kl_warmup=0,
        kl_schedule="linear",
        max_capacity=25.0,
        free_bits=0.0,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter="auto",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        objective="elbo",
        n_iwae_samples=5,
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
        super().__init__(**self._shared_params(locals()))
        self.n_clusters = n_clusters
        self.n_components = n_components
        self.pretrain_max_iter = pretrain_max_iter
        self.init_params = init_params
        self.shared_variance = shared_variance
        self.beta = beta
        self.input_shape = input_shape
        self.kl_warmup = kl_warmup
        self.kl_schedule = kl_schedule
        self.max_capacity = max_capacity
        self.free_bits = free_bits
        self.objective = objective
        self.n_iwae_samples = n_iwae_samples
        self.n_importance_samples = n_importance_samples

    # -------------------------------------------------------------- training
    def _kl_schedule(self) -> KLSchedule:
        return kl_schedule_of(self)

    def _n_score_draws(self) -> int:
        return self.n_importance_samples

    def _ignored_params(self) -> dict[str, str]:
        ignored = super()._ignored_params()
        if self.pretrain_max_iter != 0 and (
            "module_" not in vars(self) or not self.warm_start
        ):
            # a first fit's pretraining reads them, whatever the main phase
            ignored.pop("tol", None)
            ignored.pop("n_iter_no_change", None)
        if not self._models_gaussian_columns():
            ignored["shared_variance"] = (
                f"with likelihood={self.likelihood!r}, where no column is "
                "Gaussian (it shares the Gaussian columns' variance)"
            )
        return ignored

    def _sample_weight_refusal(self) -> str | None:
        return (
            "its mixture prior starts from an unweighted GaussianMixture or "
            "KMeans on the pretrained codes"
        )

    def _hidden_sizes(
        self, n_features: int | None = None, n_samples: int | None = None
    ) -> tuple[int, ...]:
        """The hidden widths, "auto" scaled to ``n_features`` and ``n_samples``."""
        if (
            isinstance(self.hidden_layer_sizes, str)
            and self.hidden_layer_sizes == "auto"
        ):
            if self.input_shape is not None:
                return self._auto_channels
            scale = 1.0
            if n_features is not None:
                scale = min(1.0, n_features / self._auto_full_width_features)
            widths = tuple(
                max(self._auto_min_width, round(w * scale)) for w in self._auto_hidden
            )
            if n_features is not None and n_samples is not None:
                widths = self._widths_for_rows(widths, n_features, n_samples)
            return widths
        return super()._hidden_sizes()

    def _widths_for_rows(
        self, widths: tuple[int, ...], n_features: int, n_samples: int
    ) -> tuple[int, ...]:
        """``widths`` shrunk so the default budget costs ``_auto_width_epochs``.

        An epoch's multiply-adds per row are taken as those of the encoder's
        layers (the decoder mirrors them); the "auto" budget's epochs
        (pretraining and main phase) on ``n_samples`` rows times that cost
        may be at most ``_auto_width_epochs`` epochs of the reference MLP:
        every width is scaled by the largest common factor that keeps it
        there, but not below ``_auto_min_row_scale`` nor below the
        features' own factor, ``n_features / _auto_full_width_features``:
        the narrower networks cluster narrow data (digits) as well or
        better, but images (MNIST) worse, so data of 125 features or more
        keeps the paper's network.
        """
        if self._auto_width_epochs is None:
            return widths
        epochs = sum(
            self._uncapped_plan(n_samples, min(self._auto_batch_size, n_samples))
        )

        def cost(ws):
            return self._row_cost(ws, n_features)

        full = cost(widths)
        reference = full if self._auto_reference is None else cost(self._auto_reference)
        share = self._auto_width_epochs * reference / (epochs * full)
        if share >= 1:
            return widths

        def scaled(f):
            return tuple(max(self._auto_min_width, round(w * f)) for w in widths)

        # wide data (images) keeps more of the network: the wide layers are
        # what clusters them better than narrow networks do
        lo = max(
            self._auto_min_row_scale,
            min(1.0, n_features / self._auto_full_width_features),
        )
        if lo >= 1:
            return widths
        hi = 1.0
        for _ in range(30):
            mid = (lo + hi) / 2
            if cost(scaled(mid)) <= share * full:
                lo = mid
            else:
                hi = mid
        return scaled(lo)

    def _uncapped_plan(self, n_samples: int, batch: int) -> tuple[int, int]:
        """The "auto" pretraining and main-phase epochs before any cap.

        About ``_auto_pretrain_steps`` pretraining steps (at least
        ``_auto_pretrain_min_epochs`` epochs), then ``_auto_steps`` steps
        within ``_auto_epochs``.
        """
        pre = epochs_for_steps(
            self._auto_pretrain_steps, n_samples, batch, self._auto_pretrain_min_epochs
        )
        return pre, auto_epochs(n_samples, batch, self._auto_steps, *self._auto_epochs)

    def _row_cost(self, widths: tuple[int, ...], n_features: int) -> int:
        """Multiply-adds per row of an encoder of hidden ``widths``."""
        layers = (n_features, *widths, self.n_components)
        return sum(a * b for a, b in itertools.pairwise(layers))

    def _auto_plan(
        self, n_samples: int, batch_size: int | None = None
    ) -> tuple[int, int, int, torch.dtype | None]:
        """Batch, pretraining epochs, main-phase epochs and pretraining autocast.

        Without a cap: batches of ``min(100, n_samples)`` (or
        ``batch_size``), about 1,000 pretraining steps (at least 10 epochs)
        and about 150 main-phase steps (2 to 50 epochs), all in float32. The
        cap: an epoch costs the encoder's multiply-adds per row times the
        rows plus, per optimisation step, as many as ``_auto_step_rows``
        rows more (Adam updates every weight once a step, whatever the
        batch); the plan may cost at most ``_auto_budget_epochs`` epochs of
        the reference MLP (hidden widths (512, 256), batches of 256), the
        unit in which skvae times its deep models. A network wide for its
        rows reaches it: the paper's network on fewer than about 4,000
        rows of images, narrow data's "auto" widths (which already follow
        the rows) below about 600 rows. Over it, the main phase gets at
        most an eighth of
        the epochs the cap allows (at least 2: the clustering moves little
        after its first steps) and the pretraining the rest. With
        ``precision="auto"`` on a device that computes bfloat16 natively (a
        CUDA device that supports it, a CPU with AVX512-BF16 or AMX), the
        pretraining, a plain autoencoder whose loss is safe under autocast,
        then runs under bfloat16 autocast, its epochs counted at
        ``_auto_bfloat16_cost`` of a float32 one's: on few rows the codes
        improve with the pretraining's epochs, which bfloat16 makes
        cheaper. Elsewhere an "auto" batch shrinks towards
        ``_auto_min_batch`` until the capped pretraining reaches its 1,000
        steps (more steps for the cost of fewer epochs). Networks passed as
        ``encoder`` or ``decoder``, and convolutional ones, keep the
        uncapped plan.
        """
        fixed = batch_size is not None or self.batch_size != "auto"
        if batch_size is None:
            batch_size = self._auto_batch_size if not fixed else self.batch_size
        first = min(batch_size, n_samples)

        def uncapped(b):
            return self._uncapped_plan(n_samples, b)

        pre, main = uncapped(first)
        widths = getattr(self, "hidden_layer_sizes_", None)
        if (
            self._auto_budget_epochs is None
            or widths is None
            or self.input_shape is not None
            or self.encoder is not None
            or self.decoder is not None
        ):
            return first, pre, main, None
        n_features = self.n_features_in_
        per_row = self._row_cost(tuple(widths), n_features)

        def epoch_cost(ws_cost, b):
            steps = math.ceil(n_samples / b)
            return ws_cost * (n_samples + self._auto_step_rows * steps)

        budget = self._auto_budget_epochs * epoch_cost(
            self._row_cost(self._auto_reference, n_features),
            min(self._auto_reference_batch, n_samples),
        )
        if (pre + main) * epoch_cost(per_row, first) <= budget:
            return first, pre, main, None

        def capped(b, pre_share):
            pre, main = uncapped(b)
            epoch = epoch_cost(per_row, b)
            total = int(budget // epoch)
            main = min(main, max(self._auto_epochs[0], total // self._auto_main_share))
            rest = int((budget - main * epoch) // (pre_share * epoch))
            return min(pre, max(1, rest)), main

        device = getattr(self, "_device", None) or torch.device("cpu")
        if self.precision == "auto" and _native_bfloat16(device):
            return (first, *capped(first, self._auto_bfloat16_cost), torch.bfloat16)
        last = first if fixed else min(first, self._auto_min_batch)
        for b in range(first, last - 1, -1):
            pre, main = capped(b, 1.0)
            if pre * math.ceil(n_samples / b) >= self._auto_pretrain_steps:
                break
        return b, pre, main, None

    def _batch_size(self, n_samples: int) -> int:
        if self.batch_size == "auto":
            return self._auto_plan(n_samples)[0]
        return super()._batch_size(n_samples)

    def _epoch_budget(self, n_train: int, batch_size: int) -> int:
        """``max_iter``, or the main phase's epochs of :meth:`_auto_plan`."""
        if self.max_iter != "auto":
            return int(self.max_iter)
        return self._auto_plan(n_train, batch_size)[2]

    def _check_params(self, X) -> None:
        super()._check_params(X)
        check_input_shape(self.input_shape, X.shape[1])
        check_objective(self)

    def _data_likelihood(
        self, X: np.ndarray, floor_weight: np.ndarray | None = None
    ) -> Likelihood:
        """The observation model; with ``shared_variance``, one Gaussian variance."""
        likelihood = super()._data_likelihood(X, floor_weight)
        if not self.shared_variance:
            return likelihood
        if type(likelihood) is GaussianLikelihood:
            return _shared(likelihood)
        if isinstance(likelihood, MixedLikelihood):  # a table's number columns
            for i, block in enumerate(likelihood.blocks):
                if type(block) is GaussianLikelihood:
                    likelihood.blocks[i] = _shared(block)
        return likelihood

    def _rebuild_module(self, n_rows: int, likelihood: Likelihood | None):
        """The saved model's network: its widths as built, not as "auto" gives."""
        _SAVED_WIDTHS[self] = getattr(self, "hidden_layer_sizes_", None)
        try:
            return super()._rebuild_module(n_rows, likelihood)
        finally:
            _SAVED_WIDTHS.pop(self, None)

    def _build_module(self, X, likelihood: Likelihood) -> VaDEModule:
        saved = _SAVED_WIDTHS.get(self)
        self.hidden_layer_sizes_ = (
            tuple(saved)
            if saved is not None
            else self._hidden_sizes(X.shape[1], X.shape[0])
        )
        return VaDEModule(
            X.shape[1],
            self.n_clusters,
            self.n_components,
            self.hidden_layer_sizes_,
            self.activation,
            likelihood,
            check_input_shape(self.input_shape, X.shape[1]),
            encoder=self._network_spec("encoder"),
            decoder=self._network_spec("decoder"),
            objective=self.objective,
            n_iwae_samples=self.n_iwae_samples,
        )

    def _prepare_training(self, train: list[torch.Tensor], batch_size: int) -> None:
        """Pretrain as an autoencoder, then initialise the mixture prior."""
        if train[0].shape[0] < self.n_clusters:
            raise ValueError(
                f"n_samples={train[0].shape[0]} training rows (after any "
                f"validation split) should be >= n_clusters={self.n_clusters}."
            )
        module = self.module_
        self.pretrain_history_: list[dict[str, Any]] = []
        _, planned, _, cast = self._auto_plan(train[0].shape[0], batch_size)
        if self.pretrain_max_iter != "auto":  # the user's budget: as asked
            cast = None
        epochs = planned if self.pretrain_max_iter == "auto" else self.pretrain_max_iter
        self.pretrain_max_iter_ = epochs
        interrupted = None
        if epochs > 0:
            module.pretraining = True
            try:
                # The same optimiser as the main phase: a fresh Adam at the
                # switch would move every weight by ~learning_rate_init at its
                # first steps, which shifts a wide encoder's codes by more
                # than the clusters' spread. No KL term: an autoencoder, whose
                # loss is safe under autocast where the bound's is not: the
                # module says so for this trainer only (see _auto_plan).
                if cast is not None:
                    module.supports_autocast = True
                try:
                    trainer = self._make_trainer(
                        self._get_optimizer(),
                        batch_size,
                        kl=None,
                        streams=(Stream.PRETRAIN, Stream.PRETRAIN_VALID),
                        autocast=cast,
                    )
                finally:
                    module.__dict__.pop("supports_autocast", None)
                trainer.fit(
                    train,
                    None,
                    history=self.pretrain_history_,
                    max_epochs=epochs,
                    n_iter_no_change=self.n_iter_no_change,
                    tol=self.tol,
                    # a converged autoencoder stops: its reconstruction
                    # loss (on the training rows: a held-out share would
                    # be rows the mixture starts without)
                    stop_early=True,
                )
            except KeyboardInterrupt as exc:
                # Ctrl-C ends the fit here, with a usable model: the mixture
                # prior is still initialised from the codes reached, and the
                # interrupt is raised again below (no main phase).
                interrupted = exc
            finally:
                module.pretraining = False
        # the training tensor (or sparse rows), read chunk by chunk
        Z = self._map_batches(module.embed, train[0], np.float64)
        weights, means, variances = self._initial_mixture(Z)
        module.prior.set_parameters(
            *(
                torch.as_tensor(a, dtype=torch.float32, device=self._device)
                for a in (weights, means, variances)
            )
        )
        # Pretraining trains only the means of q(z | x). Its log-variance head
        # starts at a fixed width, a fraction of the clusters' spread:
        # untrained, it would draw z with variance ~1, which can swamp
        # clusters of a much smaller scale and send every row to one cluster.
        module.start_posterior_variance(0.1 * float(variances.mean()))
        if interrupted is not None:
            raise interrupted

    def _after_stopped_fit(self, X: np.ndarray, incremental: bool) -> None:
        """After Ctrl-C or a non-finite loss: the clusters of the model reached."""
        self._after_fit(X, incremental)

    def _initial_mixture(
        self, Z: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Weights, means and diagonal variances of the prior's first mixture.

        "gmm" fits a diagonal GaussianMixture to the pretrained codes (the
        paper's). "spherical" clusters the codes' directions (k-means on the
        codes scaled to unit length) and takes each cluster's share, mean and
        variance: an autoencoder's codes of one class tend to share a
        direction and differ in length (stroke weight, contrast), which a
        diagonal Gaussian per cluster fits poorly.
        """
        reg = 1e-4 * max(float(Z.var(0).mean()), 1e-12)
        seed = spawn(self._seed, Stream.INIT)
        if self.init_params == "gmm":
            gmm = GaussianMixture(
                self.n_clusters,
                covariance_type="diag",
                reg_covar=reg,
                n_init=10,
                random_state=seed,
            ).fit(Z)
            return gmm.weights_, gmm.means_, gmm.covariances_
        norms = np.linalg.norm(Z, axis=1, keepdims=True)
        directions = Z / np.maximum(norms, 1e-12)
        labels = KMeans(self.n_clusters, n_init=10, random_state=seed).fit_predict(
            directions
        )
        counts = np.bincount(labels, minlength=self.n_clusters)
        weights = counts / len(labels)
        means = np.empty((self.n_clusters, Z.shape[1]))
        variances = np.empty((self.n_clusters, Z.shape[1]))
        for c in np.flatnonzero(counts):
            members = Z[labels == c]
            means[c] = members.mean(0)
            variances[c] = members.var(0) + reg
        # fewer distinct directions than clusters (duplicated rows): an empty
        # cluster, of weight 0, sits at the codes' mean with the others' mean
        # variance. With the codes' whole variance it was broader than the
        # clusters of duplicates (variance reg), and once training moved the
        # codes it took every row, which then shared one label.
        empty = counts == 0
        means[empty] = Z.mean(0)
        variances[empty] = variances[~empty].mean(0)
        return weights, means, variances

    def _after_fit(self, X: np.ndarray, incremental: bool) -> None:
        """The training rows' clusters and the mixture's arrays.

        After ``partial_fit``, the chunk's clusters, as MiniBatchKMeans gives.
        """
        self.labels_ = np.argmax(self._cluster_log_proba(X), axis=1)
        prior = self.module_.prior
        with torch.no_grad():
            self.weights_ = to_numpy(prior.log_weights().exp(), np.float64)
            self.means_ = to_numpy(prior.means, np.float64)
            self.covariances_ = to_numpy(prior.log_vars.exp(), np.float64)

    # ------------------------------------------------------------ prediction
    def _cluster_log_proba(self, X: np.ndarray) -> np.ndarray:
        """Log responsibilities of validated rows."""
        return self._map_batches(self.module_.cluster_log_proba, X, X.dtype)

    def predict_proba(self, X):
        """Responsibilities p(c | z) of the clusters at each row's posterior mean.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to assign.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_clusters)
            Cluster probabilities; rows sum to 1.
        """
        check_is_fitted(self)
        return np.exp(self._cluster_log_proba(self._validate_X(X)))

    def predict(self, X):
        """The most responsible cluster of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to assign.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Cluster indices in ``[0, n_clusters)``.
        """
        check_is_fitted(self)
        return np.argmax(self._cluster_log_proba(self._validate_X(X)), axis=1)

    def sample(self, n_samples=1, random_state=None, *, cluster=None, noise=False):
        """Generate rows from the mixture prior (or from given clusters).

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows.
        random_state : int, RandomState instance or None, default=None
            Seed of the draw; ``None`` uses the estimator's ``random_state``.
        cluster : int, array-like of shape (n_samples,) or None, default=None
            One cluster for every row, one per row, or ``None`` to draw
            clusters from the mixture weights (keyword only).
        noise : bool, default=False
            Draw every value from p(x | z) instead of taking the decoder's
            point value (keyword only; see ``VAE.sample``).

        Returns
        -------
        X : ndarray of shape (n_samples, `n_features_in_`)
            Generated rows (decoder means).
        """
        check_is_fitted(self)
        n = check_n_samples(n_samples)
        clusters = None
        if cluster is not None:
            given = np.asarray(cluster)
            if given.ndim > 1 or given.size not in (1, n):
                raise ValueError(
                    f"cluster must be one cluster or one per row ({n}); got "
                    f"{given.size} values of shape {given.shape}."
                )
            clusters = np.broadcast_to(given.reshape(-1) if given.ndim else given, (n,))
            if (
                not np.issubdtype(clusters.dtype, np.integer)
                or clusters.min() < 0
                or clusters.max() >= self.n_clusters
            ):
                raise ValueError(
                    f"cluster must hold integers in [0, {self.n_clusters}), "
                    f"got {cluster!r}."
                )
        # sampled in blocks: the clusters go to the module block by block
        return self._draw(n, random_state, clusters, noise=noise)


def _shared(likelihood: GaussianLikelihood) -> SharedVarianceGaussian:
    """``likelihood``'s columns with one shared variance (and its floors)."""
    return SharedVarianceGaussian(
        likelihood.n_params, min_variance=likelihood.min_variance
    )
