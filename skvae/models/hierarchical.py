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

One torch module (:class:`skvae.nn.hierarchical.HierarchicalVAEModule`,
``top_down`` flag) holds both; the two estimators share their methods through
:class:`LayeredLatentsMixin`, their constructor and parameter constraints, and
differ in the class attribute ``_top_down``.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import torch
from sklearn.utils.validation import check_array, check_is_fitted

from skvae._base import (
    KL_PARAMS,
    OBJECTIVE_PARAMS,
    SCORING_PARAMS,
    BaseVAE,
    by_blocks,
    check_float32_range,
    check_objective,
    kl_schedule_of,
    layer_sizes,
)
from skvae._data import FLOATS, blocks, is_out_of_core
from skvae._docstrings import with_parameters_of
from skvae._sklearn_compat import Interval
from skvae._training import KLSchedule
from skvae.nn.hierarchical import HierarchicalVAEModule
from skvae.nn.likelihoods import Likelihood

__all__ = [
    "HierarchicalVAE",
    "HierarchicalVAEModule",
    "LadderVAE",
    "LayeredLatentsMixin",
]


class LayeredLatentsMixin:
    """What the estimators with a stack of Gaussian latent layers share.

    :class:`HierarchicalVAE` and :class:`LadderVAE` have the same parameters
    and the same generative model; the class attribute ``_top_down`` chooses
    the inference. This mixin checks the parameters, builds the
    :class:`HierarchicalVAEModule`, answers the hooks of the parameter groups
    they take (the KL schedule, the scoring draws) and gives the methods that
    a stack of layers adds: :meth:`transform_layers`, and
    :meth:`inverse_transform` for the codes of any layer.

    Examples
    --------
    >>> from skvae.models.hierarchical import LadderVAE, LayeredLatentsMixin
    >>> issubclass(LadderVAE, LayeredLatentsMixin), LadderVAE._top_down
    (True, True)
    """

    _network_params = (
        *BaseVAE._network_params,
        "latent_hidden_layer_sizes",
        "objective",
        "n_iwae_samples",
        "batch_norm",
    )

    #: Ladder (top-down) inference instead of bottom-up.
    _top_down: bool = False

    def _layer_sizes(self) -> tuple[int, ...]:
        return layer_sizes(self.n_components, "n_components", allow_empty=False)

    def _latent_hidden_sizes(self) -> tuple[int, ...]:
        return layer_sizes(
            self.latent_hidden_layer_sizes,
            "latent_hidden_layer_sizes",
            allow_empty=True,
        )

    def _kl_schedule(self) -> KLSchedule:
        return kl_schedule_of(self)

    def _ignored_params(self) -> dict[str, str]:
        ignored = super()._ignored_params()
        try:
            single = len(self._layer_sizes()) == 1
        except (TypeError, ValueError):  # fit's checks say what is wrong
            single = False
        if single:
            ignored["latent_hidden_layer_sizes"] = (
                "with one stochastic layer (they sit between consecutive layers)"
            )
        return ignored

    def _has_hidden_layers(self) -> bool:
        if super()._has_hidden_layers():
            return True
        try:  # the networks between consecutive stochastic layers
            between = len(self._layer_sizes()) > 1 and self._latent_hidden_sizes()
        except (TypeError, ValueError):  # fit's checks say what is wrong
            return True
        return bool(between)

    def _n_score_draws(self) -> int:
        return self.n_importance_samples

    def _check_params(self, X) -> None:
        super()._check_params(X)
        self._layer_sizes()
        self._latent_hidden_sizes()
        check_objective(self)

    def _build_module(self, X, likelihood: Likelihood) -> HierarchicalVAEModule:
        return HierarchicalVAEModule(
            X.shape[1],
            self._layer_sizes(),
            self._hidden_sizes(),
            self._latent_hidden_sizes(),
            self.activation,
            likelihood,
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
        if (
            isinstance(layer, bool)  # True is not layer 1
            or not isinstance(layer, Integral)
            or not -len(sizes) <= layer < len(sizes)
        ):
            raise ValueError(
                f"layer must be an integer in [{-len(sizes)}, {len(sizes)}), "
                f"got layer={layer!r}."
            )
        Z = check_array(X, dtype=FLOATS)
        check_float32_range(Z)  # latents past float32 would decode to NaN
        if Z.shape[1] != sizes[layer]:
            raise ValueError(
                f"X has {Z.shape[1]} features, but {type(self).__name__}."
                f"inverse_transform is expecting {sizes[layer]} latent dimensions "
                f"(layer={layer})."
            )
        module = self.module_

        def decode(z: torch.Tensor) -> torch.Tensor:
            return module.decode_mean(z, int(layer))

        decoded = self._map_batches(decode, Z, Z.dtype, overflow="codes")
        return self._typed_rows(decoded, like=X)

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
        if is_out_of_core(X):
            parts = by_blocks(self.transform_layers, blocks(X, self._STREAM_ROWS))
            return [np.concatenate(layer) for layer in zip(*parts, strict=True)]
        X = self._validate_X(X)
        Z = self._map_batches(
            self.module_.embed_layers, X, X.dtype, overflow="nonfinite"
        )
        return np.split(Z, np.cumsum(self.module_.sizes)[:-1], axis=1)


#: The constraints of the parameters that both estimators add to the groups.
_LAYER_PARAMS = {
    "n_components": ["array-like", Interval(Integral, 1, None, closed="left")],
    "latent_hidden_layer_sizes": [
        "array-like",
        Interval(Integral, 1, None, closed="left"),
    ],
    "batch_norm": ["boolean"],
}


class HierarchicalVAE(LayeredLatentsMixin, BaseVAE):
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
        Weight of the KL terms of every layer; ``beta > 1`` is a beta-VAE.
    hidden_layer_sizes : array-like of int, default=(256, 128)
        Widths of the hidden layers between x and z_1; the decoder p(x | z_1)
        mirrors them.
    latent_hidden_layer_sizes : array-like of int, default=(128,)
        Hidden widths of the smaller networks between consecutive stochastic
        layers (the inference ones, for :class:`LadderVAE` its deterministic
        bottom-up pass, and the generative conditionals); may be empty.
    batch_norm : bool, default=True
        Batch normalisation after every hidden linear layer of the built-in
        networks, which Sønderby et al. (2016) found important for training
        several stochastic layers.
    activation : {"relu", "tanh", "logistic", "identity", "elu", "gelu", "silu"}, \
default="relu"
        Activation of the hidden layers.
    likelihood : {"gaussian", "bernoulli", "auto"} or dict, default="gaussian"
        The observation model p(x | z_1). "gaussian" has a mean from the decoder
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
    kl_warmup : int, default=50
        Epochs over which the KL weight grows linearly from 0 to ``beta``
        (a remedy for posterior collapse). Longer than :class:`skvae.VAE`'s
        10, a quarter of the 200 epochs that ``max_iter="auto"`` gives small
        data (a shorter "auto" budget caps it at a quarter of its epochs):
        the upper layers need it to become active (Sønderby et al. warm up
        over 200 epochs). 0
        disables the warm-up. With ``kl_schedule="cyclical"`` it is the
        period of the cycles, with "capacity" the epochs over which the
        capacity grows. With ``max_iter="auto"`` it is at most a quarter
        of the epochs chosen.
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
        Counting starts after any warm-up of the regulariser's weight; on
        the training loss under ``kl_schedule="cyclical"``, only the last
        epoch of each period counts (the KL weight ramps up in each).
    tol : float, default=1e-4
        Minimal improvement of the loss (nats per row).
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
        Your own networks in place of the built-in data-side ones. The
        encoder maps rows ``(batch, n_features)`` to features, which skvae
        maps to ``hidden_layer_sizes[-1]`` (``n_features`` without hidden
        layers) columns for the bottom layer's head; the decoder maps codes
        of the bottom layer ``(batch, n_components[0])`` to features, which
        skvae maps to the likelihood's parameters (a class that takes an
        ``n_outputs`` argument is asked for exactly that width instead; one
        that takes ``n_inputs`` is given its input width). A class is built
        at each fit with the parameters routed to it, skorch-style:
        ``encoder__hidden=64`` passes ``hidden=64``, so ``GridSearchCV`` can
        search them and ``clone`` keeps them. An instance is deep-copied
        (never trained in place). The networks between the latent layers
        stay built-in.
    **kwargs
        ``encoder__<name>`` and ``decoder__<name>``: parameters of the
        network classes.

    Attributes
    ----------
    module_ : HierarchicalVAEModule
        The trained network (``top_down=False``; :class:`LadderVAE`'s has
        ``top_down=True``).
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
        One record per epoch: ``epoch``, ``train_loss`` (negative beta-ELBO
        with warm-up and free bits, nats per row), ``recon``, ``kl``,
        ``kl_per_dim`` (every layer's dimensions, bottom first),
        ``active_units`` (of the top layer), ``beta``, ``dur`` (seconds) and
        ``valid_loss`` (negative beta-ELBO on the validation rows) with early
        stopping.
    loss_curve_ : list of float
        ``train_loss`` of each epoch.
    column_types_ : list of (str, list of int)
        With ``likelihood="auto"`` or a dict: each block of columns and its
        type ("gaussian", "bernoulli", "categorical" (one group), "poisson",
        "negbin"), as resolved on the training data.
    table_encoder_ : TableEncoder
        Only after a fit on a pandas DataFrame: how its columns are encoded
        and decoded (``types_``, ``kinds_``, ``dtypes_``, ``categories_``);
        see the user guide, "Tables (pandas DataFrames)".
    best_loss_ : float
        Best validation loss with early stopping, else best training loss
        after the warm-up.

    See Also
    --------
    LadderVAE : The same generative model with top-down inference.
    skvae.VAE : One stochastic layer.

    Notes
    -----
    Unlike :class:`skvae.VAE`, the hierarchical models take no
    ``input_shape`` (images are passed as flattened rows to MLPs),
    ``missing``, ``prior`` nor ``tc_weight``.
    The importance-weighted bounds (``objective="iwae"``,
    ``n_importance_samples > 1``) have the log weights
    log p(x | z_1) + sum_l log p(z_l | z_{l+1}) + log p(z_L)
    - sum_l log q(z_l | .) over draws of the whole hierarchy.
    ``precision="bfloat16"`` is refused: the training step has not been
    checked under autocast, so ``"auto"`` trains in float32.

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
        **BaseVAE._parameter_constraints,
        **KL_PARAMS,
        **OBJECTIVE_PARAMS,
        **SCORING_PARAMS,
        **_LAYER_PARAMS,
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
        objective="elbo",
        n_iwae_samples=5,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter="auto",
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
        # Not super(): LadderVAE shares this __init__ without subclassing us.
        BaseVAE.__init__(self, **self._shared_params(locals()))
        self.n_components = n_components
        self.beta = beta
        self.latent_hidden_layer_sizes = latent_hidden_layer_sizes
        self.batch_norm = batch_norm
        self.kl_warmup = kl_warmup
        self.kl_schedule = kl_schedule
        self.max_capacity = max_capacity
        self.free_bits = free_bits
        self.objective = objective
        self.n_iwae_samples = n_iwae_samples
        self.n_importance_samples = n_importance_samples


class LadderVAE(LayeredLatentsMixin, BaseVAE):
    """Ladder variational autoencoder (Sønderby et al. 2016): top-down inference.

    The generative model is :class:`HierarchicalVAE`'s: p(x | z_1)
    p(z_1 | z_2) ... p(z_{L-1} | z_L) p(z_L) with p(z_L) = N(0, I) and
    diagonal Gaussian conditionals given by MLPs. Inference first runs a
    deterministic bottom-up pass that gives, at each stochastic layer, a
    Gaussian (mu_hat_l, var_hat_l). Then, top-down, q(z_L | x) =
    N(mu_hat_L, var_hat_L) and for l < L the posterior of z_l is the
    precision-weighted merge of (mu_hat_l, var_hat_l) with the generative
    conditional p(z_l | z_{l+1}) at the drawn z_{l+1}:
    var_q = 1 / (1 / var_hat + 1 / var_p),
    mu_q = (mu_hat / var_hat + mu_p / var_p) * var_q. The generative
    conditionals are thus shared by inference and generation, and every KL
    term, KL(q(z_l | x, z_{l+1}) || p(z_l | z_{l+1})), is analytic.

    ``transform`` returns mu_hat_L, the mean of q(z_L | x)
    (:meth:`transform_layers` every layer's, each given the means above),
    ``inverse_transform`` decodes a top-layer code through the means of the
    conditionals, ``sample`` draws ancestrally from the prior.

    It takes exactly :class:`HierarchicalVAE`'s parameters, with the same
    defaults, and is fitted the same way.

    See Also
    --------
    HierarchicalVAE : The same generative model with bottom-up inference.
    skvae.VAE : One stochastic layer.

    Notes
    -----
    The paper's recipe is kept: batch normalisation in the deterministic
    layers and a linear warm-up of the KL weight.
    ``benchmarks/bench_likelihood.py`` compares the held-out log-likelihood
    of the ladder, :class:`HierarchicalVAE` and :class:`skvae.VAE` on
    binarised MNIST digits. ``module_`` is built with ``top_down=True``.
    The rest of :class:`HierarchicalVAE`'s Notes holds for the ladder: it
    takes no ``input_shape``, ``missing``, ``prior`` nor ``tc_weight``, its
    importance weights are over draws of the whole hierarchy, and it
    refuses ``precision="bfloat16"``.

    References
    ----------
    .. [1] C. K. Sønderby, T. Raiko, L. Maaløe, S. K. Sønderby and O. Winther,
       "Ladder Variational Autoencoders", NeurIPS 2016.
    .. [2] Y. Burda, R. Grosse and R. Salakhutdinov, "Importance Weighted
       Autoencoders", ICLR 2016.

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
    _parameter_constraints = HierarchicalVAE._parameter_constraints
    __init__ = HierarchicalVAE.__init__


LadderVAE.__doc__ = with_parameters_of(LadderVAE.__doc__, HierarchicalVAE)
