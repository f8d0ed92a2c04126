"""BaseVAE: the scikit-learn contract, written once for every skvae model."""

from __future__ import annotations

import contextlib
import contextvars
import copy
import dataclasses
import inspect
import math
import warnings
import weakref
from abc import ABCMeta, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from numbers import Integral, Real
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_array, check_is_fitted

from skvae._columns import (
    LIKELIHOOD_CONSTRAINT,
    check_column_values,
    check_likelihood_range,
    column_moments,
    column_peaks,
    make_data_likelihood,
)
from skvae._data import (
    FLOATS,
    SparseRows,
    _known_rows,
    blocks,
    check_n_samples,
    check_sparse,
    epochs_for_steps,
    is_out_of_core,
    to_dense,
)
from skvae._frames import TableEncoder, is_frame
from skvae._sklearn_compat import (
    Interval,
    StrOptions,
    _check_sample_weight,
    _fit_context,
    validate_data,
)
from skvae._torch import (
    Stream,
    adam,
    autocast_dtype,
    broadcast_seed,
    device_name,
    distributed_world,
    draw_seed,
    in_worker,
    make_generator,
    resolve_device,
    resolve_load_device,
    row_noise,
    seeded_global_generator,
    spawn,
    to_cpu,
    to_numpy,
    to_tensor,
    torch_threads,
    worker_threads,
)
from skvae._training import (
    Callback,
    KLSchedule,
    MultiOptimizer,
    NonFiniteLossError,
    Trainer,
    _clone_tree,
)
from skvae.nn.base import LatentModule
from skvae.nn.likelihoods import (
    BernoulliLikelihood,
    GaussianLikelihood,
    Likelihood,
    MixedLikelihood,
    drawing,
)
from skvae.nn.networks import ACTIVATIONS, NetworkSpec

#: Parameter groups: a family takes a group whole or not at all.
#: The KL term's weight and schedule (models with a Gaussian latent's KL).
KL_PARAMS: dict[str, list[Any]] = {
    "beta": [Interval(Real, 0, None, closed="left")],
    "kl_warmup": [Interval(Integral, 0, None, closed="left")],
    "kl_schedule": [StrOptions({"linear", "cyclical", "capacity"})],
    "max_capacity": [Interval(Real, 0, None, closed="left")],
    "free_bits": [Interval(Real, 0, None, closed="left")],
}
#: The training objective: the ELBO or the importance-weighted bound.
OBJECTIVE_PARAMS: dict[str, list[Any]] = {
    "objective": [StrOptions({"elbo", "iwae"})],
    "n_iwae_samples": [Interval(Integral, 1, None, closed="left")],
}
#: Draws of ``score_samples``'s importance-weighted bound.
SCORING_PARAMS: dict[str, list[Any]] = {
    "n_importance_samples": [Interval(Integral, 1, None, closed="left")],
}
#: What NaN in X means.
MISSING_PARAMS: dict[str, list[Any]] = {
    "missing": [StrOptions({"error", "mask"})],
}

_ACTIVE_UNIT_THRESHOLD = 0.01  # Burda et al. 2016: Cov_x(E_q[z_u]) > 0.01


class PosteriorCollapseWarning(ConvergenceWarning):
    """Warning raised when almost no latent dimension carries information.

    Examples
    --------
    >>> issubclass(PosteriorCollapseWarning, UserWarning)
    True
    """


class BaseVAE(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator, metaclass=ABCMeta
):
    """Base class of skvae's estimators: fitting, inference and persistence.

    A model family subclasses this directly (plus single-purpose mixins such
    as ``ClusterMixin``). Its ``__init__`` passes the shared parameters to
    ``BaseVAE.__init__`` and assigns only its own; its
    ``_parameter_constraints`` adds whole groups (``KL_PARAMS``,
    ``OBJECTIVE_PARAMS``, ``SCORING_PARAMS``, ``MISSING_PARAMS``) and its own
    entries to the base's. It implements :meth:`_build_module`, which returns
    a :class:`skvae.nn.LatentModule`, and may override the named hooks:
    :meth:`_check_params`, :meth:`_training_arrays`, :meth:`_kl_schedule`,
    :meth:`_n_score_draws`, :meth:`_masks_missing`, :meth:`_prepare_training`
    and :meth:`_after_fit`. Training runs through
    :class:`skvae._training.Trainer`; ``fit`` is overridden only to document
    ``y``.

    Parameters
    ----------
    See the subclasses, e.g. :class:`skvae.VAE`.

    Examples
    --------
    A family needs only its parameters and a module (here, VAE's own):

    >>> import numpy as np
    >>> from skvae import VAE
    >>> from skvae.nn.gaussian import GaussianVAEModule
    >>> from skvae.nn import BernoulliLikelihood
    >>> class TinyBernoulliVAE(VAE):
    ...     def _build_module(self, X, likelihood):
    ...         n = X.shape[1]
    ...         return GaussianVAEModule(n, 2, (8,), "relu", BernoulliLikelihood(n))
    >>> X = np.random.RandomState(0).uniform(size=(20, 4))
    >>> TinyBernoulliVAE(max_iter=2).fit(X).transform(X).shape
    (20, 2)
    """

    #: Rows per step of ``batch_size="auto"`` (fewer rows: all of them).
    _auto_batch_size = 200
    #: ``max_iter="auto"``: the epochs that give about ``_auto_steps``
    #: optimisation steps, clipped to ``_auto_epochs`` (min, max); see
    #: :func:`auto_epochs` and the user guide, "Training budgets".
    _auto_steps = 5000
    _auto_epochs = (2, 200)
    #: Parameters the network is built from. A continued fit (``warm_start``,
    #: ``partial_fit``) keeps the fitted network, so it refuses a change of
    #: any of them (and of parameters routed to user networks).
    _network_params: tuple[str, ...] = (
        "hidden_layer_sizes",
        "activation",
        "n_components",
        "input_shape",
        "likelihood",
        "min_variance",
        "missing",
        "encoder",
        "decoder",
    )
    #: Whether ``hidden_layer_sizes`` may be empty (no hidden layer).
    _empty_hidden_ok = True

    _parameter_constraints: dict[str, list[Any]] = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "likelihood": LIKELIHOOD_CONSTRAINT,
        "min_variance": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [
            StrOptions({"auto"}),
            Interval(Integral, 0, None, closed="left"),
        ],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "compile": ["boolean"],
        "precision": [StrOptions({"auto", "float32", "bfloat16"})],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "device": [str, torch.device],
        "callbacks": [list, None],
        "encoder": [type, torch.nn.Module, None],
        "decoder": [type, torch.nn.Module, None],
    }

    @abstractmethod
    def __init__(
        self,
        *,
        hidden_layer_sizes,
        activation,
        likelihood,
        min_variance,
        batch_size,
        learning_rate_init,
        max_iter,
        early_stopping,
        validation_fraction,
        n_iter_no_change,
        tol,
        max_grad_norm,
        compile,
        precision,
        warm_start,
        verbose,
        random_state,
        device,
        callbacks,
        encoder,
        decoder,
        **kwargs,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
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
        self.precision = precision
        self.warm_start = warm_start
        self.verbose = verbose
        self.random_state = random_state
        self.device = device
        self.callbacks = callbacks
        self.encoder = encoder
        self.decoder = decoder
        self._set_routed_params(kwargs)

    @staticmethod
    def _shared_params(given: dict[str, Any]) -> dict[str, Any]:
        """The shared parameters among a family ``__init__``'s ``locals()``.

        They come with the ``**kwargs`` routed to user networks, so that a
        family passes them up in one line:
        ``super().__init__(**self._shared_params(locals()))``.
        """
        return {
            **{name: given[name] for name in _SHARED_PARAMS},
            **given.get("kwargs", {}),
        }

    # Roles of user networks (``encoder=``, ``decoder=``...): parameters named
    # ``<role>__<name>`` are routed to that network's class, as skorch does.
    _network_roles: tuple[str, ...] = ("encoder", "decoder")
    #: The parameters of the built-in networks that nothing else reads: with
    #: both ``encoder`` and ``decoder`` given they are unread (a family whose
    #: other parts, a classifier or a discriminator, read them lists fewer).
    _unread_with_user_networks: tuple[str, ...] = ()
    # Rows read at once from out-of-core arrays (memmap, HDF5, zarr, dask).
    _STREAM_ROWS = 65536
    # score takes sample_weight (a Pipeline routes weights to it once asked,
    # set_score_request(sample_weight=True)); with routing on and not asked,
    # it takes none, so that weights routed to fit alone raise nothing (with
    # routing off, scikit-learn's searches pass fit's weights to it)
    __metadata_request__score = {"sample_weight": False}
    # Rows per module call of inference (transform, inverse_transform...);
    # results do not depend on it.
    _BATCH_ROWS = 4096
    # Rows per block of ``sample``: each block draws from its own sub-stream,
    # so this is part of what a seed means (changing it changes the rows).
    _SAMPLE_ROWS = 4096

    # ------------------------------------------------- user networks' params
    def _set_routed_params(self, params: dict[str, Any]) -> None:
        """Store the ``**kwargs`` of ``__init__`` (``<role>__<name>`` ones).

        Nothing is checked here (sklearn's rule: ``__init__`` never raises);
        :meth:`_check_routed_params` rejects other names at fit.
        """
        self._extra_params = tuple(params)
        for key, value in params.items():
            setattr(self, key, value)

    def _routed_params(self) -> dict[str, Any]:
        names = getattr(self, "_extra_params", ())
        return {k: getattr(self, k) for k in names if hasattr(self, k)}

    def _check_routed_params(self) -> None:
        for key in self._routed_params():
            if "__" not in key or key.split("__", 1)[0] not in self._network_roles:
                raise ValueError(
                    f"{type(self).__name__} got an unexpected parameter {key!r}; "
                    "only parameters of its networks may be routed, as "
                    f"<role>__<name> with role in {self._network_roles}."
                )

    def get_params(self, deep=True):
        """Get the parameters, including those routed to user networks.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of sub-estimators.

        Returns
        -------
        params : dict
            Parameter names mapped to their values; ``encoder__hidden`` and
            the like are parameters of the user's network classes.
        """
        params = super().get_params(deep=deep)
        params.update(self._routed_params())
        return params

    def set_params(self, **params):
        """Set the parameters, including ``<role>__<name>`` ones of user networks.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : estimator instance
            The estimator.
        """
        extra = set(getattr(self, "_extra_params", ()))
        routed = {
            k: params.pop(k)
            for k in list(params)
            if k in extra or ("__" in k and k.split("__", 1)[0] in self._network_roles)
        }
        for key, value in routed.items():
            setattr(self, key, value)
        self._extra_params = tuple(dict.fromkeys((*extra, *routed)))
        return super().set_params(**params)

    def _network_spec(self, role: str) -> NetworkSpec | None:
        """The user's network for ``role`` with its routed parameters, or None."""
        network = getattr(self, role)
        prefix = f"{role}__"
        params = {
            k[len(prefix) :]: v
            for k, v in self._routed_params().items()
            if k.startswith(prefix)
        }
        if network is None:
            if params:
                raise ValueError(
                    f"Parameters {sorted(prefix + k for k in params)} were given "
                    f"without a network: set {role}= to a torch.nn.Module class."
                )
            return None
        return NetworkSpec(network, params)

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _build_module(self, X: np.ndarray, likelihood: Likelihood) -> LatentModule:
        """Return a new (untrained) torch module for data like ``X``.

        ``X`` is the validated training data (the first chunk for
        ``partial_fit``; rows of zeros of the training width when a saved
        model is loaded); modules take their width and any data-dependent
        initialisation from it. ``likelihood`` is the observation model
        (:meth:`_data_likelihood` at fit, the saved one at load).
        """

    def _check_params(self, X: np.ndarray) -> None:
        """Checks that span several parameters or depend on the data.

        The base checks the hidden layers and that X suits ``likelihood``;
        families add their own after ``super()._check_params(X)``.
        """
        self._hidden_sizes()
        check_likelihood_range(self._likelihood_spec(), X)

    #: Parameters of :meth:`_ignored_params` that the module is built from
    #: all the same: a continued fit refuses a change of them.
    _built_though_unread: tuple[str, ...] = ()

    def _ignored_params(self) -> dict[str, str]:
        """The parameters that the other parameters leave unread, with why.

        ``fit`` warns about each one set away from its default
        (:func:`warn_ignored_params`): a value that does nothing is never
        taken silently. Families add theirs to ``super()``'s.
        """
        ignored = {}
        params = self.get_params(deep=False)
        # parameters of one setting that several families share
        if "n_iwae_samples" in params and params.get("objective") != "iwae":
            ignored["n_iwae_samples"] = (
                f"with objective={params.get('objective')!r} (it sets the draws "
                "of objective='iwae')"
            )
        if "log_var_penalty" in params and params.get("encoder_type") == (
            "deterministic"
        ):
            ignored["log_var_penalty"] = (
                "with encoder_type='deterministic' (it weighs the Gaussian "
                "encoder's variances)"
            )
        if self.encoder is not None and self.decoder is not None:
            for name in self._unread_with_user_networks:
                ignored[name] = "when both encoder and decoder are given"
        if isinstance(self.likelihood, str) and self.likelihood == "bernoulli":
            ignored["min_variance"] = "under likelihood='bernoulli' (no variance)"
        elif not self._models_gaussian_columns():
            ignored["min_variance"] = (
                "where no column is Gaussian (it floors Gaussian variances)"
            )
        if (
            "input_shape" in params
            and self.encoder is not None
            and (self.decoder is not None)
        ):
            ignored["input_shape"] = "when both encoder and decoder are given"
        encoder = vars(self).get("table_encoder_")
        if (
            encoder is not None
            and isinstance(self.likelihood, str)
            and self.likelihood != "auto"  # (it reads every column's type)
            and set(encoder.kinds_) <= {"category", "bool"}
            and ("category" in encoder.kinds_ or self.likelihood == "bernoulli")
        ):
            ignored["likelihood"] = (
                "on a table of category and boolean columns only (a likelihood "
                "named by a string is that of the number columns)"
            )
        if params.get("beta") == 0:
            for name in ("kl_warmup", "kl_schedule", "free_bits", "max_capacity"):
                if name in params:
                    ignored[name] = "with beta=0 (they shape the KL term's weight)"
        warmup, budget = params.get("kl_warmup"), params.get("max_iter")
        if "module_" in vars(self):
            # a continued fit (warm_start, partial_fit): its epochs follow
            # those trained (the warm-up's)
            trained = len(vars(self).get("history_") or ())
            budget = budget + trained if isinstance(budget, Integral) else budget
        if (
            isinstance(warmup, Integral)
            and isinstance(budget, Integral)
            and 0 < budget <= warmup
            and params.get("beta") != 0
            and not params.get("early_stopping")  # (warned about in fit)
        ):
            for name in ("tol", "n_iter_no_change"):
                ignored[name] = (
                    f"with a fit that ends by epoch {budget}, within "
                    f"kl_warmup={warmup} (the training loss is compared only "
                    "once the KL warm-up is over)"
                )
        if "activation" in params and not self._has_hidden_layers():
            why = (
                "where no built-in network has a hidden layer (hidden_layer_sizes"
                "=(), or user networks in their place)"
            )
            for name in ("activation", "batch_norm"):
                if name in params:
                    ignored.setdefault(name, why)
        if "validation_fraction" in params and not params.get("early_stopping"):
            ignored["validation_fraction"] = (
                "with early_stopping=False (no rows are held out)"
            )
        schedule = params.get("kl_schedule")
        if "max_capacity" in params and schedule != "capacity":
            ignored["max_capacity"] = (
                f"with kl_schedule={schedule!r} (it is the final KL target of "
                "kl_schedule='capacity')"
            )
        if schedule == "cyclical" and params.get("kl_warmup") == 0:
            ignored["kl_schedule"] = (
                "with kl_warmup=0 (the period of the cycles: without one, beta "
                "holds from the first step, as under 'linear')"
            )
        return ignored

    def _has_hidden_layers(self) -> bool:
        """Whether a built-in network has a hidden layer (or convolutions).

        Where none has, ``activation`` (and ``batch_norm``) have nothing to
        act on. Families with other built-in networks add theirs.
        """
        if self.get_params(deep=False).get("input_shape") is not None:
            return True
        try:
            hidden = self._hidden_sizes()
        except (TypeError, ValueError):  # fit's checks say what is wrong
            return True
        return bool(hidden) and (self.encoder is None or self.decoder is None)

    def _models_gaussian_columns(self) -> bool:
        """Whether the fitted likelihood has Gaussian columns (True before a fit)."""
        likelihood = getattr(vars(self).get("module_"), "likelihood", None)
        if not isinstance(likelihood, torch.nn.Module):
            return True
        return any(isinstance(m, GaussianLikelihood) for m in likelihood.modules())

    def _sample_weight_refusal(self) -> str | None:
        """Why this model cannot take ``sample_weight`` (None: it can).

        Weights need an objective that is a sum over rows; a family whose
        objective has a batch-level part (an MMD, an aggregate estimate, a
        statistic of the batch) returns the reason, and ``fit`` refuses
        weights with it. The base refuses the KL options that compare a
        batch's unweighted mean KL with a threshold.
        """
        kl = self._kl_schedule()
        if kl is not None and kl.free_bits > 0:
            return (
                "free_bits > 0 compares each batch's unweighted mean KL per "
                "dimension with the threshold; set free_bits=0"
            )
        if kl is not None and kl.kind == "capacity":
            return (
                "kl_schedule='capacity' compares each batch's unweighted mean "
                "KL with the capacity; use kl_schedule='linear'"
            )
        return None

    def _masks_missing(self) -> bool:
        """Whether NaN in X marks missing entries (families with ``missing``)."""
        return False

    def _kl_schedule(self) -> KLSchedule | None:
        """The schedule of the KL term's weight (None: the model has none)."""
        return None

    def _n_score_draws(self) -> int:
        """Draws per row of :meth:`score_samples` (``n_importance_samples``)."""
        return 1

    def _hidden_sizes(self) -> tuple[int, ...]:
        """``hidden_layer_sizes`` as a tuple of positive ints, or a clear error."""
        return layer_sizes(
            self.hidden_layer_sizes,
            "hidden_layer_sizes",
            allow_empty=self._empty_hidden_ok,
        )

    def _validate_X(
        self, X: Any, *, reset: bool = False, sample_weight: Any = None, **kwargs: Any
    ) -> np.ndarray:
        """``validate_data`` for X, letting NaN through with ``missing="mask"``.

        Every method that reads rows of X validates them here, so that the
        missing-value rule, the float32 range of the networks and the fitted
        column types are checked alike. A pandas DataFrame at fit is encoded
        by a :class:`skvae._frames.TableEncoder` (``table_encoder_``), and so
        are later rows of a model fitted on one. Sparse X (any scipy format)
        comes back as CSR, checked by :func:`skvae._data.check_sparse`; it is
        densified one batch at a time by the methods that read it. The
        ``sample_weight`` of a fit (``reset``) weighs the table's encoding
        (:meth:`skvae._frames.TableEncoder.fit`).
        """
        if reset:
            vars(self).pop("table_encoder_", None)  # from an earlier fit
            if is_frame(X):
                return self._validate_table(
                    X, reset=True, sample_weight=sample_weight, **kwargs
                )
        elif "table_encoder_" in vars(self):
            return self._validate_table(X, reset=False, **kwargs)
        if not self._masks_missing():
            X = validate_data(
                self, X, dtype=FLOATS, reset=reset, accept_sparse="csr", **kwargs
            )
        else:
            X = validate_data(
                self,
                X,
                dtype=FLOATS,
                reset=reset,
                ensure_all_finite="allow-nan",
                accept_sparse="csr",
                **kwargs,
            )
        if sp.issparse(X):
            X = check_sparse(X)
        elif self._masks_missing() and np.isinf(X).any():
            raise ValueError(
                "Input X contains infinity; with missing='mask' only NaN marks "
                "a missing entry."
            )
        check_float32_range(X, vars(self).get("feature_names_in_"))
        if not reset:
            self._check_columns(X)
        return X

    def _validate_table(
        self, X: Any, *, reset: bool, sample_weight: Any = None, **kwargs: Any
    ) -> np.ndarray:
        """Rows of a table (a DataFrame, or rows of a model fitted on one), encoded.

        The column names and count are checked as ``validate_data`` checks
        them; the encoded rows as an array's are, with holes (NaN, ``pd.NA``,
        ``None``) named by column when ``missing="mask"`` is not set.
        """
        validate_data(self, X, skip_check_array=True, reset=reset)
        if reset:
            # the rows' weights, checked as the fit checks them later (its
            # own check may also learn from them: the class prior)
            weight = BaseVAE._check_weights(self, sample_weight, X)
            encoder = TableEncoder(self.likelihood).fit(X, sample_weight=weight)
        else:
            encoder = self.table_encoder_
            encoder.check_not_array(X, type(self).__name__)
            if not is_frame(X):
                import pandas as pd

                X = pd.DataFrame(to_dense(X), columns=encoder._labels)
        A = encoder.transform(X)
        holes = encoder.hole_columns(A)
        if holes and not self._masks_missing():
            remedy = (
                "fit with missing='mask' to model them"
                if "missing" in self.get_params(deep=False)
                else f"{type(self).__name__} has no 'missing' parameter: fill them "
                "first (e.g. with skvae.VAEImputer)"
            )
            raise ValueError(
                f"Input X contains NaN: columns {holes[:10]} hold missing values "
                f"(NaN, pd.NA or None); {remedy}."
            )
        infinite = np.isinf(A).any(axis=0)
        if infinite.any():
            named = [encoder.encoded_names()[j] for j in np.flatnonzero(infinite)]
            raise ValueError(
                f"Input X contains infinity in columns {named[:10]}; only finite "
                "numbers can be modelled (NaN marks a missing entry under "
                "missing='mask')."
            )
        A = check_array(
            A,
            dtype=FLOATS,
            ensure_all_finite="allow-nan" if self._masks_missing() else True,
            **kwargs,
        )
        check_float32_range(A, encoder.encoded_names())
        if reset:
            empty = encoder.hole_columns(A, how="all")
            if empty:
                raise ValueError(
                    f"Columns {empty[:10]} have no observed value (all missing); "
                    "drop them before fitting."
                )
            self.table_encoder_ = encoder
        else:
            self._check_columns(A)
        return A

    def _likelihood_spec(self) -> str | dict:
        """``likelihood``, over the encoded columns for a model fitted on a table."""
        encoder = vars(self).get("table_encoder_")
        return self.likelihood if encoder is None else encoder.spec_

    def _n_model_features(self) -> int:
        """Width of the rows the module reads (encoded columns for a table)."""
        encoder = vars(self).get("table_encoder_")
        return int(self.n_features_in_) if encoder is None else encoder.n_encoded_

    def _typed_rows(self, X: np.ndarray | None, like: Any = None) -> Any:
        """Model rows as the user's rows: a typed DataFrame after a table fit.

        ``like`` is the input they decode (latents): a DataFrame's index is
        kept, so that the rows align with the ones they came from.
        """
        encoder = vars(self).get("table_encoder_")
        if encoder is None or X is None:
            return X
        return encoder.decode(X, index=like.index if is_frame(like) else None)

    def _fitted_column_types(self, width: int) -> list | None:
        """The fitted model's column types (None: every column Gaussian)."""
        types = vars(self).get("column_types_")
        if types is not None:
            return types
        likelihood = getattr(vars(self).get("module_"), "likelihood", None)
        if isinstance(likelihood, BernoulliLikelihood):
            return [("bernoulli", list(range(width)))]
        return None

    def _check_columns(self, X: np.ndarray) -> None:
        """Values of later data must suit the column types of the fit.

        A model fitted with ``likelihood="bernoulli"`` checks every column
        as the dict form checks its Bernoulli columns: a value outside [0, 1]
        has no probability, and scores of such rows would mean nothing.
        """
        types = self._fitted_column_types(X.shape[1])
        if types is None:
            return
        encoder = vars(self).get("table_encoder_")
        names = (
            encoder.encoded_names()
            if encoder is not None
            else vars(self).get("feature_names_in_")
        )
        if not sp.issparse(X):
            check_column_values(types, X, names)
            return
        for block in blocks(X, self._BATCH_ROWS):  # one dense block at a time
            check_column_values(types, block, names)

    def _data_likelihood(
        self, X: np.ndarray, floor_weight: np.ndarray | None = None
    ) -> Likelihood:
        """The observation model for data like X, from ``likelihood``.

        Its variance floors are those of the rows weighted by
        ``floor_weight`` (None: every row alike).
        """
        encoder = vars(self).get("table_encoder_")
        return make_data_likelihood(
            self._likelihood_spec(),
            X,
            self.min_variance,
            floor_weight=floor_weight,
            missing=self._masks_missing(),
            names=(
                vars(self).get("feature_names_in_")
                if encoder is None
                else encoder.encoded_names()
            ),
        )

    def _training_arrays(
        self, X: np.ndarray, y: Any, reset: bool, classes: Any = None
    ) -> list[np.ndarray]:
        """Arrays the module's ``forward`` takes, row-aligned with ``X``.

        ``reset`` is true when the model is (re)initialised by this call, so
        that label encodings can be learnt then and reused by later calls;
        ``classes`` is ``partial_fit``'s list of all classes, where a family
        takes one.
        """
        return [X]

    def _prepare_training(self, train: list[torch.Tensor], batch_size: int) -> None:
        """Hook run once the module is built, before its first training.

        Families that pretrain or initialise from data (VaDE) override it;
        they train through :meth:`_make_trainer`, so through the same loop.
        """

    def _after_fit(self, X: np.ndarray, incremental: bool) -> None:
        """Hook run after each ``fit`` or ``partial_fit`` call with its X.

        Families that set fitted attributes from the trained model (VaDE's
        ``labels_``) or train a second model on it (VQ's code prior) do so
        here.
        """

    def _epoch_budget(self, n_train: int, batch_size: int) -> int:
        """Epochs a ``fit`` may train: ``max_iter``, or the number "auto" picks.

        "auto" gives about ``_auto_steps`` optimisation steps of
        ``batch_size`` rows over ``n_train`` training rows, within
        ``_auto_epochs`` (:func:`auto_epochs`).
        """
        if self.max_iter != "auto":
            return int(self.max_iter)
        return auto_epochs(n_train, batch_size, self._auto_steps, *self._auto_epochs)

    def _training_kl(self) -> KLSchedule | None:
        """:meth:`_kl_schedule` as trained: its warm-up capped under "auto".

        With ``max_iter="auto"`` the warm-up (``kl_warmup`` epochs, the
        period of a cyclical schedule, the capacity's ramp) is at most a
        quarter of the epochs chosen, so that large data, which gets few
        epochs, still trains most of them at the target weight.
        """
        kl = self._kl_schedule()
        budget = vars(self).get("max_iter_")
        if kl is None or budget is None or self.max_iter != "auto":
            return kl
        cap = budget / 4
        return kl if kl.warmup <= cap else dataclasses.replace(kl, warmup=cap)

    # -------------------------------------------------------------- training
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Fit the model to X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows (None: 1 each). The objective is
            the weighted mean over rows, so a weight of 2 counts as the row
            twice (in expectation over the batches; an epoch is still one
            pass over the rows given) and 0 as no row; the validation loss
            of ``early_stopping`` is weighted too. Models whose objective is
            not a sum over rows refuse weights, saying why.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit_with_thread_cap(
            X, y, incremental=False, sample_weight=sample_weight
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """Train for one epoch on X, keeping the weights and optimiser state.

        The first call initialises the model. Early stopping is not used.
        Arrays that are not in memory (a numpy memmap, an HDF5 or zarr
        array, a dask array) are read ``_STREAM_ROWS`` rows at a time, so one
        call is one pass over data of any length in bounded memory; each
        block counts as one epoch (in ``history_``, ``n_iter_`` and the KL
        warm-up), except a block whose rows all have ``sample_weight`` 0,
        which is skipped; a callback's ``should_stop`` ends the pass.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            One chunk of training data, or an out-of-core array.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows, as in :meth:`fit`.

        Returns
        -------
        self : object
            The estimator.
        """
        return self._partial_fit(X, y, sample_weight=sample_weight)

    def _stream_classes(self, y: np.ndarray) -> Any:
        """The classes of a whole out-of-core stream's labels (None: unlabelled)."""
        return None

    def _partial_fit(self, X, y, classes: Any = None, sample_weight: Any = None):
        """``partial_fit`` over in-memory data or the blocks of out-of-core data."""
        if not is_out_of_core(X):
            return self._fit_with_thread_cap(
                X, y, incremental=True, classes=classes, sample_weight=sample_weight
            )
        labels = None if y is None else np.asarray(y)
        weights = None if sample_weight is None else np.asarray(sample_weight)
        n_rows = _known_rows(X)
        for name, given in (("y", labels), ("sample_weight", weights)):
            # each block takes its slice: a longer array would lose its tail
            # silently, a shorter one fail on a block's shapes
            if given is not None and given.ndim > 0 and given.shape[0] != n_rows:
                raise ValueError(
                    f"{name} has {given.shape[0]} entries for the {n_rows} rows "
                    "of X: one a row."
                )
        if classes is None and labels is not None and "module_" not in vars(self):
            # the classes of every block, not the first block's alone
            classes = self._stream_classes(labels)
        # a block whose rows all weigh 0 trains nothing (if some block's do not)
        skip_empty = weights is not None and weights.ndim > 0 and np.any(weights)
        start = 0
        saved = self._fitted_state()
        try:
            _STOPPED.pop(self, None)
            for block in blocks(X, self._STREAM_ROWS):
                rows = slice(start, start + block.shape[0])
                start += block.shape[0]
                if skip_empty and not np.any(weights[rows]):
                    continue
                if _STOPPED.pop(self, False):  # a callback's should_stop
                    break
                self._fit_with_thread_cap(
                    block,
                    None if labels is None else labels[rows],
                    incremental=True,
                    classes=classes,
                    sample_weight=None if weights is None else weights[rows],
                )
        except (KeyboardInterrupt, NonFiniteLossError):
            raise  # the blocks trained are kept (see _fit)
        except BaseException:
            self._restore_fitted_state(saved)
            raise
        return self

    def _fit_with_thread_cap(
        self,
        X,
        y,
        *,
        incremental: bool,
        classes: Any = None,
        sample_weight: Any = None,
    ):
        """:meth:`_fit` with torch's threads capped in parallel workers."""
        with torch_threads(worker_threads(in_worker())):
            return self._fit(
                X,
                y,
                incremental=incremental,
                classes=classes,
                sample_weight=sample_weight,
            )

    def _fit(
        self, X, y, *, incremental: bool, classes: Any = None, sample_weight: Any = None
    ):
        """One ``fit`` or ``partial_fit`` call on in-memory data: all or nothing.

        An exception leaves the estimator as it was before the call
        (unfitted after a failed first fit, the previous model after a
        failed refit), with two exceptions that keep what was trained:
        ``KeyboardInterrupt`` (Ctrl-C) during training keeps the weights
        reached, and :class:`NonFiniteLossError` after at least one epoch of
        this call keeps the last finite weights; both are raised again.
        """
        saved = self._fitted_state()
        table = X  # as given (a table's integer ranges grow in a continued fit)
        training = False  # whether the model is being trained (not prepared)
        trainer = None
        try:
            # before the data: HierarchicalVAE(missing=...) with NaN was told
            # that it takes no NaN, not that it takes no such parameter
            self._check_routed_params()
            first_pass = not hasattr(self, "module_") or (
                not self.warm_start and not incremental
            )
            X = self._validate_X(
                X,
                reset=first_pass,
                sample_weight=sample_weight if first_pass else None,
                ensure_min_samples=1 if incremental else 2,
            )
            if self._masks_missing() and not sp.issparse(X):
                empty = np.flatnonzero(np.isnan(X).all(axis=0))
                if empty.size:
                    raise ValueError(
                        f"Columns {empty.tolist()} have no observed value (all "
                        "NaN); drop them before fitting."
                    )
            self._check_params(X)
            if not first_pass:
                self._check_same_network()
                self._continue_settings()
                self._warn_beyond_quantiles(X)
            arrays = self._training_arrays(X, y, first_pass, classes)
            weight = self._check_weights(sample_weight, X)
            if not first_pass and "table_encoder_" in vars(self):
                # new counts decode unclipped (rows of positive weight)
                self.table_encoder_ = self.table_encoder_.widened(table, weight)
            if weight is not None:  # split with the rows, taken off after
                arrays = [*arrays, weight]
            if first_pass:
                self._initialize(X, weight)
            warn_ignored_params(self)  # (some read the likelihood built)
            batch_size = self._batch_size(X.shape[0])
            train, valid = self._split(
                arrays, early_stopping=self.early_stopping and not incremental
            )
            weights = self._split_weights(train, valid, weight is not None)
            batch_size = min(batch_size, train[0].shape[0])
            epochs_before = len(self.history_)
            max_epochs = 1
            if not incremental:
                self.best_loss_ = math.inf  # until an epoch has been trained
                max_epochs = self._epoch_budget(train[0].shape[0], batch_size)
                self.max_iter_ = max_epochs
            training = True
            # Training draws from private generators (skvae._torch.Stream), so
            # concurrent fits cannot disturb each other or the caller's global
            # torch generator; user networks may draw from that generator
            # themselves (dropout): it is seeded for them, and restored.
            with self._user_network_draws(epochs_before):
                if first_pass:
                    self._prepare_training(train, batch_size)
                elif not incremental:
                    self._restart_learning_rate()
                trainer = self._make_trainer(self._get_optimizer(), batch_size)
                warmup = trainer.kl.warmup
                if valid is not None and epochs_before + max_epochs < warmup:
                    warnings.warn(
                        f"early_stopping=True compares validation losses once the "
                        f"KL warm-up is over (epoch {warmup:g}), which this fit of "
                        f"{max_epochs} epochs does not reach: it keeps its last "
                        "epoch's weights. Train longer or shorten kl_warmup.",
                        UserWarning,
                        stacklevel=_caller_level(),
                    )
                try:
                    result = trainer.fit(
                        train,
                        valid,
                        history=self.history_,
                        max_epochs=max_epochs,
                        n_iter_no_change=self.n_iter_no_change,
                        tol=self.tol,
                        stop_early=not incremental,
                        weights=weights,
                    )
                finally:
                    self._record_progress()
                    if not incremental:
                        self.best_loss_ = trainer.result.best_loss
            training = False
            if result.stopped:  # a callback asked: a stream's blocks end too
                _STOPPED[self] = True
            self._warn_after_fit(result, incremental)
            self._after_fit(X, incremental)
        except KeyboardInterrupt:
            if not training and trainer is None:  # before any training
                self._restore_fitted_state(saved)
                raise
            self._stopped_early(X, incremental, training)
            raise
        except NonFiniteLossError:
            if trainer is None or len(self.history_) == epochs_before:
                self._restore_fitted_state(saved)  # nothing of this call to keep
            else:
                self._stopped_early(X, incremental, training)
            raise
        except BaseException:
            self._restore_fitted_state(saved)
            raise
        return self

    def _check_weights(self, sample_weight: Any, X: Any) -> np.ndarray | None:
        """``sample_weight`` as float64 weights of mean 1, or None.

        Non-negative and finite, one per row, with a positive sum
        (scikit-learn's ``_check_sample_weight``); refused with the reason
        where the model's objective is not a sum over rows. Only the ratios
        matter (the objective is a weighted mean), so they are scaled to a
        mean of 1, which float32 holds.
        """
        if sample_weight is None:
            return None
        reason = self._sample_weight_refusal()
        if reason is not None:
            raise ValueError(
                f"{type(self).__name__} does not take sample_weight: {reason}."
            )
        weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True, copy=True
        )
        total = float(weight.sum())
        if not total > 0:
            raise ValueError(
                "sample_weight must have a positive sum; every row has weight 0."
            )
        return weight / (total / weight.shape[0])

    @staticmethod
    def _split_weights(
        train: list[Any], valid: list[Any] | None, weighted: bool
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Take the weights (the last array, when ``weighted``) off the splits."""
        if not weighted:
            return None, None
        w_train = train.pop()
        w_valid = None if valid is None else valid.pop()
        for w, part in ((w_train, "training"), (w_valid, "validation")):
            if w is not None and not bool(w.sum() > 0):
                raise ValueError(
                    f"Every row of the {part} split has weight 0; give more rows "
                    "a positive sample_weight or change validation_fraction."
                )
        return w_train, w_valid

    def _stopped_early(self, X: np.ndarray, incremental: bool, training: bool) -> None:
        """Leave a fit that stops in training (Ctrl-C, non-finite) usable.

        Progress is recorded, and, when training itself stopped (not a
        family's :meth:`_after_fit`), :meth:`_after_stopped_fit` sets the
        attributes a usable model needs.
        """
        self._record_progress()
        if training:
            self._after_stopped_fit(X, incremental)

    def _after_stopped_fit(self, X: np.ndarray, incremental: bool) -> None:
        """Hook run when training stops early, before the error is raised again.

        The cheap part of :meth:`_after_fit`: families whose fitted
        attributes come from the trained module (VaDE's mixture) set them
        here; nothing more is trained.
        """

    def _fitted_state(self) -> tuple[dict[str, Any], Any, Any, list]:
        """What a fit may change, to put back if it fails.

        The attributes (lists one level deep, as fits append to histories),
        copies of the module's weights and of the optimiser's state, which
        continued fits update in place, and the attributes of the
        ``callbacks`` (a learning-rate schedule's state, a checkpoint's best
        loss): a failed fit's epochs must not move them either. What a
        callback wrote to a file stays written.
        """

        def attributes(obj: Any) -> dict[str, Any]:
            return {
                k: [list(v) if isinstance(v, list) else v for v in value]
                if isinstance(value, list)
                else value
                for k, value in vars(obj).items()
            }

        state = attributes(self)
        module, optimizer = state.get("module_"), state.get("_optimizer")
        weights = None
        if isinstance(module, torch.nn.Module):
            weights = {k: v.detach().clone() for k, v in module.state_dict().items()}
        moments = None if optimizer is None else _clone_tree(optimizer.state_dict())
        given = self.callbacks if isinstance(self.callbacks, list | tuple) else ()
        callbacks = [
            (c, attributes(c))
            for c in given
            if not isinstance(c, type) and hasattr(c, "__dict__")
        ]
        return state, weights, moments, callbacks

    def _restore_fitted_state(
        self, saved: tuple[dict[str, Any], Any, Any, list]
    ) -> None:
        """Put back what :meth:`_fitted_state` saved."""
        state, weights, moments, callbacks = saved
        vars(self).clear()
        vars(self).update(state)
        if weights is not None:
            state["module_"].load_state_dict(weights)
        if moments is not None:
            state["_optimizer"].load_state_dict(moments)
        for callback, attributes in callbacks:
            vars(callback).clear()
            vars(callback).update(attributes)

    def _make_trainer(
        self,
        optimizer: torch.optim.Optimizer | MultiOptimizer,
        batch_size: int,
        **overrides: Any,
    ) -> Trainer:
        """The training loop over ``module_`` (or ``module=``), from the parameters.

        ``overrides`` replace the trainer's settings, e.g. ``kl=None`` and
        ``streams=`` for a pretraining phase, or ``module=`` for a prior.
        """
        settings: dict[str, Any] = dict(
            batch_size=batch_size,
            kl=self._training_kl(),
            max_grad_norm=self.max_grad_norm,
            compile=self.compile,
            autocast=autocast_dtype(self.precision, self._device),
            seed=self._seed,
            callbacks=self._callbacks(),
            summarize=self._summarize_epoch,
            estimator=self,
        )
        module = overrides.pop("module", self.module_)
        settings.update(overrides)
        return Trainer(module, optimizer, **settings)

    def _network_settings(self) -> dict[str, Any]:
        """The values of :attr:`_network_params` and the routed parameters."""
        params = self.get_params(deep=False)
        settings = {k: params[k] for k in self._network_params if k in params}
        settings.update(self._routed_params())
        return {k: _plain(v) for k, v in settings.items()}

    def _check_same_network(self) -> None:
        """Refuse a continued fit whose network parameters have changed.

        Parameters that the others leave unread (:meth:`_ignored_params`,
        ``min_variance`` under ``likelihood="bernoulli"``) may change: the
        network never read them. Those it was built from though they have
        no effect (:attr:`_built_though_unread`: WAE's kernel at ``beta=0``)
        may not: a saved model is rebuilt from its parameters.
        """
        changed = self._changed_network_setting()
        if changed is not None:
            key, before, after = changed
            raise ValueError(
                f"{key}={after!r} differs from the {before!r} that the "
                "fitted network was built with, and a continued fit "
                "(warm_start=True or partial_fit) keeps that network: set "
                "it back, or fit with warm_start=False to build a new one."
            )

    def _user_network_draws(self, first_epoch: int) -> Any:
        """Where user networks train, torch's global generators seeded.

        A user network's random layers (dropout) draw from the global
        generators, not from the fit's streams: seeded from ``random_state``
        (and the call's first epoch), and restored after, they give the same
        fit for the same seed and leave the caller's draws alone. Fits of
        user networks in concurrent threads then take turns.
        """
        if self.encoder is None and self.decoder is None:
            return contextlib.nullcontext()
        seed = spawn(self._seed, Stream.USER, first_epoch) % 2**63
        return seeded_global_generator(seed, self._device)

    def _changed_network_setting(self) -> tuple[str, Any, Any] | None:
        """The first network parameter changed since the build, with both values.

        (None: none, or a model unpickled from an older version.)
        """
        built = getattr(self, "_built_with", None)
        if built is None:
            return None
        now = self._network_settings()
        unread = set(self._ignored_params()) - set(self._built_though_unread)
        for key in sorted((set(built) | set(now)) - unread):
            before, after = built.get(key), now.get(key)
            try:
                same = bool(before == after)
            except Exception:  # values that do not compare: take them as changed
                same = before is after
            if not same:
                return key, before, after
        return None

    def _warn_beyond_quantiles(self, X: np.ndarray) -> None:
        """Warn where a continued fit's rows pass a quantile map's range."""
        encoder = vars(self).get("table_encoder_")
        names = [] if encoder is None else encoder.beyond_quantiles(X)
        if names:
            warnings.warn(
                f"Columns {names} ('quantile') hold values beyond those of the "
                "first fit, which their maps were fitted on: beyond them the "
                "maps extrapolate and the model learns little there. Fit first "
                "on rows that cover each column's range, or model the column "
                "as 'gaussian'.",
                UserWarning,
                stacklevel=_caller_level(),
            )

    def _continue_settings(self) -> None:
        """The per-fit settings of a continued fit, checked as a first fit's.

        The model stays on the device it was fitted (or loaded) on: a
        changed ``device`` is refused rather than ignored, and one that is
        not available here is refused as in a first fit. ``precision`` is
        checked against the fitted module. ``random_state`` seeds this
        call's draws, as it seeds a first fit's: the same value gives the
        same continuation, another value another one.
        """
        try:
            device = resolve_device(self.device)
        except ValueError as exc:  # e.g. a GPU model loaded where there is none
            raise ValueError(
                f"{exc} The fitted model is on {self.device_!r}: set "
                f"device={self.device_!r} to continue training it there."
            ) from exc
        if not _same_device(device, self._device):
            raise ValueError(
                f"device={self.device!r} resolves to {device_name(device)!r}, but "
                f"the fitted model is on {self.device_!r} and a continued fit "
                "(warm_start=True or partial_fit) trains it where it is: set "
                "device back, or fit with warm_start=False to train a new "
                "model there."
            )
        self._check_precision(self.module_)
        # every rank of distributed training continues from rank 0's seed
        self._seed = broadcast_seed(draw_seed(self.random_state))

    def _initialize(self, X: np.ndarray, weight: np.ndarray | None = None) -> None:
        self._built_with = self._network_settings()
        self._device = resolve_device(self.device)
        self.device_ = device_name(self._device)
        # every rank of distributed training starts from rank 0's seed
        self._seed = broadcast_seed(draw_seed(self.random_state))
        self._dtype = X.dtype
        # the variance floors count each row its weight (weight 0: no row;
        # equal weights: as none, exactly); the scale warning below reads the
        # rows of positive weight
        rows = None if weight is None or weight.all() else np.flatnonzero(weight)
        equal = weight is None or bool(np.all(weight == weight[0]))
        module = self._new_module(
            X, self._data_likelihood(X, None if equal else weight)
        )
        self._check_precision(module)
        likelihood = module.likelihood
        encoder = vars(self).get("table_encoder_")
        names = (
            encoder.encoded_names()
            if encoder is not None
            else vars(self).get("feature_names_in_")
        )
        warning = _far_from_order_one(X, likelihood, rows, names)
        if warning is not None:
            warnings.warn(warning, UserWarning, stacklevel=_caller_level())
        vars(self).pop("column_types_", None)  # from an earlier fit
        if isinstance(likelihood, MixedLikelihood):
            self.column_types_ = list(
                zip(likelihood.kinds, likelihood.columns, strict=True)
            )
        self.module_ = module.to(self._device)
        self._optimizer = None
        self._optimizer_state = None
        vars(self).pop("max_iter_", None)  # from an earlier fit
        self.history_: list[dict[str, Any]] = []
        self._record_progress()

    def _new_module(self, X: np.ndarray, likelihood: Likelihood) -> LatentModule:
        """Build the module as a fit does: the one seam that ``skvae.load`` uses.

        The weights are initialised from the fit's seed (``_seed``): torch's
        global generator (which layers and user networks draw their initial
        weights from) is seeded under a lock shared by all threads and
        restored before the lock is released, so concurrent fits neither
        interleave their draws nor change the caller's random state. Rows
        with missing entries are let in when ``missing="mask"``.
        """
        with seeded_global_generator(self._seed):
            module = self._build_module(X, likelihood)
            if self._masks_missing():
                module.accept_missing()
        return module

    def _rebuild_module(
        self, n_rows: int, likelihood: Likelihood | None
    ) -> LatentModule:
        """A new module for a fitted model being loaded, built as ``fit`` builds it.

        The seam :func:`skvae.load` uses: :meth:`_new_module` on ``n_rows``
        rows of zeros of the training width, after the fitted attributes the
        build reads (``classes_``, ``_seed``...) are restored. ``likelihood``
        is the saved observation model where it was read off the training
        data (a mixed likelihood's column types), else None. The caller then
        copies the saved weights in and calls :meth:`_attach_module`.
        """
        X = np.zeros((n_rows, self._n_model_features()), dtype=self._dtype)
        if likelihood is None:
            likelihood = self._data_likelihood(X)
        return self._new_module(X, likelihood)

    def _attach_module(self, module: LatentModule) -> None:
        """Make ``module`` the fitted module, on ``device`` (else the CPU)."""
        self._device = resolve_load_device(self.device)
        self.device_ = device_name(self._device)
        self.module_ = module.to(self._device)
        self._optimizer = None
        self._optimizer_state = None
        # built from the saved parameters, which a continued fit must keep
        self._built_with = self._network_settings()

    def _check_precision(self, module: LatentModule) -> None:
        """``precision="bfloat16"`` only for modules that are safe under autocast."""
        if self.precision == "bfloat16" and not module.supports_autocast:
            raise ValueError(
                f"precision='bfloat16' is not supported by {type(self).__name__}: "
                "its training step is not safe under bfloat16 autocast. Use "
                "precision='float32' (or 'auto', which trains its step in float32)."
            )

    def _record_progress(self) -> None:
        self.n_iter_ = len(self.history_)
        self.loss_curve_ = [record["train_loss"] for record in self.history_]

    def _get_optimizer(self) -> torch.optim.Optimizer:
        if getattr(self, "_optimizer", None) is None:
            groups = getattr(self.module_, "parameter_groups", None)
            if groups is None:
                params = [p for p in self.module_.parameters() if p.requires_grad]
                self._optimizer = adam(params, self.learning_rate_init)
            else:  # one Adam per group, e.g. an autoencoder and a discriminator
                self._optimizer = MultiOptimizer(
                    [
                        adam(
                            [p for p in group["params"] if p.requires_grad],
                            self.learning_rate_init * group.get("lr_scale", 1.0),
                            group.get("betas", (0.9, 0.999)),
                        )
                        for group in groups()
                    ]
                )
            if getattr(self, "_optimizer_state", None) is not None:
                self._optimizer.load_state_dict(self._optimizer_state)
                self._optimizer_state = None
        return self._optimizer

    def _restart_learning_rate(self) -> None:
        """Set the rate a warm-started fit steps at: ``learning_rate_init``.

        Times each group's ``lr_scale``, as a new fit would, Adam's moments
        kept: whatever rate the last fit ended at, a changed
        ``learning_rate_init`` is honoured.
        """
        optimizer = self._get_optimizer()
        if isinstance(optimizer, MultiOptimizer):
            pairs = zip(
                optimizer.optimizers, self.module_.parameter_groups(), strict=True
            )
            rates = [
                (o, self.learning_rate_init * g.get("lr_scale", 1.0)) for o, g in pairs
            ]
        else:
            rates = [(optimizer, self.learning_rate_init)]
        for opt, rate in rates:
            for group in opt.param_groups:
                group["lr"] = rate
                # a torch scheduler built now starts from this rate, not from
                # the one an earlier scheduler recorded (LambdaLR multiplies
                # initial_lr); a resumed one restores its own from its state
                group.pop("initial_lr", None)

    def _batch_size(self, n_samples: int) -> int:
        if self.batch_size == "auto":
            return min(self._auto_batch_size, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                f"Got batch_size={self.batch_size} larger than n_samples={n_samples}; "
                "it is clipped to n_samples.",
                UserWarning,
                stacklevel=4,
            )
            return n_samples
        return self.batch_size

    def _split(
        self, arrays: list[np.ndarray], *, early_stopping: bool
    ) -> tuple[list[torch.Tensor], list[torch.Tensor] | None]:
        if not early_stopping:
            return [self._as_tensor(a) for a in arrays], None
        train_rows, valid_rows = self._split_rows(
            arrays[0].shape[0], self._split_strata(arrays)
        )
        train = [self._as_tensor(a, train_rows) for a in arrays]
        valid = [self._as_tensor(a, valid_rows) for a in arrays]
        return train, valid

    def _split_rows(
        self, n_samples: int, strata: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The training and validation rows of the early-stopping split.

        ``validation_fraction`` of ``n_samples`` rows (of each stratum's,
        rounded down, with ``strata``), drawn from the fit's own stream:
        the same rows at every call with the same seed and rows.
        """
        n_valid = math.ceil(self.validation_fraction * n_samples)
        if strata is not None:  # (each stratum's share, rounded down)
            _, counts = np.unique(strata, return_counts=True)
            if counts.max() < 2:  # no class can spare a row: as without
                strata = None
            else:
                n_valid = int(np.floor(self.validation_fraction * counts).sum())
                n_valid = max(n_valid, 1)
        if n_valid < 1 or n_samples - n_valid < 1:
            raise ValueError(
                f"early_stopping=True needs at least one training and one validation "
                f"row; got n_samples={n_samples} with "
                f"validation_fraction={self.validation_fraction}."
            )
        # the split of the row indices (the same as of the arrays), then each
        # part's rows copied once, into its tensor: no copy of X in between
        seed = spawn(self._seed, Stream.SPLIT)
        if strata is None:
            train_rows, valid_rows = train_test_split(
                np.arange(n_samples), test_size=n_valid, random_state=seed
            )
        else:
            train_rows, valid_rows = _stratified_split(
                strata, self.validation_fraction, seed
            )
        return train_rows, valid_rows

    def _split_strata(self, arrays: list[Any]) -> np.ndarray | None:
        """Each row's stratum for the early-stopping split (None: no strata).

        The labelled families return the rows' classes, so that the split
        holds out each class in its share and never a class's last row.
        """
        return None

    def _as_tensor(
        self, a: np.ndarray, rows: np.ndarray | None = None
    ) -> torch.Tensor | SparseRows:
        """Rows ``rows`` (None: all) of an array as a tensor on the device.

        Float arrays become float32 and are copied block by block, so that
        memory beyond the result is one block (no float64 copy of X);
        integer arrays (labels) become int64; sparse matrices stay sparse
        (:class:`skvae._data.SparseRows`).
        """
        if sp.issparse(a):  # densified batch by batch by the training loop
            return SparseRows(a if rows is None else a[rows], self._device)
        if np.issubdtype(a.dtype, np.integer):
            a = np.asarray(a) if rows is None else np.asarray(a)[rows]
            return torch.as_tensor(a, dtype=torch.long, device=self._device)
        if rows is None:
            return to_tensor(a, self._device)
        out = torch.empty((rows.shape[0], *a.shape[1:]), dtype=torch.float32)
        step = 8192  # rows a block: temporaries of a few MB
        for start in range(0, rows.shape[0], step):
            block = np.asarray(a[rows[start : start + step]], dtype=np.float32)
            out[start : start + block.shape[0]] = torch.from_numpy(block)
        return out.to(self._device)

    def _callbacks(self) -> list[Callback]:
        from skvae.callbacks import fit_callbacks

        world = distributed_world()
        writes = world is None or world[0] == 0  # only rank 0 reports
        hooks = [h for h in vars(Callback) if h.startswith("on_")]
        for i, callback in enumerate(self.callbacks or []):
            if isinstance(callback, type):
                raise TypeError(
                    f"callbacks[{i}] is the class {callback.__name__}: give an "
                    f"instance, e.g. {callback.__name__}()."
                )
            missing = [h for h in hooks if not callable(getattr(callback, h, None))]
            if missing and not isinstance(callback, Callback):
                raise TypeError(
                    f"callbacks[{i}] is a {type(callback).__name__}, which has no "
                    f"{', '.join(missing)}: give instances of skvae.Callback "
                    "(subclass it and override the hooks you need)."
                )
        return fit_callbacks(self.verbose, writes) + list(self.callbacks or [])

    def _summarize_epoch(self, means: dict[str, torch.Tensor]) -> dict[str, Any]:
        """History entries of an epoch from the means of the module's terms."""
        record = {k: float(v) for k, v in means.items() if v.ndim == 0 and k != "loss"}
        if "kl_per_dim" in means:
            record["kl_per_dim"] = means["kl_per_dim"].tolist()
        if "mu" in means and "mu_sq" in means:
            variance = means["mu_sq"] - means["mu"].square()
            record["active_units"] = int((variance > _ACTIVE_UNIT_THRESHOLD).sum())
        record.pop("mu_sq", None)
        return record

    def _warn_after_fit(self, result: Any, incremental: bool) -> None:
        if incremental or result.interrupted or not self.history_:
            return
        if not (result.converged or result.stopped) and self.max_iter_ > 0:
            chosen = " (max_iter='auto')" if self.max_iter == "auto" else ""
            warnings.warn(
                f"Maximum iterations ({self.max_iter_}){chosen} reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=4,
            )
        active = self.history_[-1].get("active_units")
        n_latent = self.module_.n_latent
        kl = self._training_kl()
        warmed_up = self.n_iter_ >= (0 if kl is None else kl.warmup)
        if (
            active is not None
            and warmed_up
            and active < max(1, math.ceil(0.1 * n_latent))
        ):
            warnings.warn(
                f"Posterior collapse: {active} of {n_latent} latent dimensions are "
                "active (Cov_x E[z|x] > 0.01). Remedies: a longer kl_warmup, "
                "free_bits > 0 (e.g. 0.1-0.5 nats), or a smaller beta.",
                PosteriorCollapseWarning,
                stacklevel=4,
            )

    # ------------------------------------------------------------- inference
    def transform(self, X):
        """Encode X to the posterior mean of its latent variables.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to encode.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            The posterior means, in X's float dtype. A VQ model gives its
            quantised latents instead: the codebook vector of each position
            of the row's code map (``encode_codes``), flattened, of width
            ``n_positions * code_dim`` (VQVAE2: the bottom map's, then the
            top's), which ``inverse_transform`` decodes.
        """
        check_is_fitted(self)
        if is_out_of_core(X):
            return self._over_blocks(self.transform, X)
        X = self._validate_X(X)
        return self._map_batches(self.module_.embed, X, X.dtype, overflow="nonfinite")

    def inverse_transform(self, X):
        """Decode latent vectors to the mean of p(x | z).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Latent vectors, e.g. the output of :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, `n_features_in_`) or DataFrame
            The decoder's means: rows of the input space. After a fit on a
            pandas DataFrame, a DataFrame with its columns and dtypes (see
            the user guide, "Tables").
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=FLOATS)
        check_float32_range(Z)  # latents past float32 would decode to NaN
        n_latent = self.module_.n_latent
        if Z.shape[1] != n_latent:
            raise ValueError(
                f"X has {Z.shape[1]} features, but {type(self).__name__}."
                f"inverse_transform is expecting {n_latent} latent dimensions."
            )
        decoded = self._map_batches(
            self.module_.decode_mean, Z, Z.dtype, overflow="codes"
        )
        return self._typed_rows(decoded, like=X)

    def score_samples(self, X):
        """Estimate the log-likelihood log p(x) of each row (higher = more typical).

        With ``n_importance_samples=1`` this is the evidence lower bound (ELBO);
        with ``k > 1`` the importance-weighted bound of Burda et al. (2016),
        which is tighter. Each row's noise draws are a function of the row's
        values and the fitted model's seed, so the result is deterministic
        and a row's score does not depend on the other rows; different rows
        draw independently, so the draws' errors average out in a mean over
        many rows (:meth:`score`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Per-row log-likelihood estimates in nats. For a table with
            ``"quantile"`` columns, in the table's own units (the quantile
            maps' log-derivative is added).
        """
        check_is_fitted(self)
        if is_out_of_core(X):
            return self._over_blocks(self.score_samples, X)
        table = X
        X = self._validate_X(X)
        scores = self._row_scores(X, "log_likelihood", self._n_score_draws())
        return scores + self._table_log_jacobian(table)

    def reconstruction_log_likelihood(self, X, n_samples=8):
        """Expected reconstruction log-likelihood E_q(z|x)[log p(x | z)] per row.

        The part of the ELBO that measures how well a row is reconstructed,
        without the KL term: an outlier score that ignores where the row lands
        in the latent space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.
        n_samples : int, default=8
            Posterior draws averaged per row (fixed for a fitted model).

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Per-row expected log-likelihood in nats (higher = better
            reconstructed).
        """
        check_is_fitted(self)
        if is_out_of_core(X):
            return self._over_blocks(
                lambda B: self.reconstruction_log_likelihood(B, n_samples), X
            )
        table = X
        X = self._validate_X(X)
        k = check_n_samples(n_samples)
        scores = self._row_scores(X, "reconstruction_log_likelihood", k)
        return scores + self._table_log_jacobian(table)

    def _table_log_jacobian(self, table: Any) -> np.ndarray | float:
        """Log-derivative of a table's ``"quantile"`` column maps, per row.

        Scores of a model fitted on a table with quantile columns are
        densities on the normal-score scale; adding this gives densities in
        the table's own units (0 for every other model).
        """
        encoder = vars(self).get("table_encoder_")
        if encoder is None or not getattr(encoder, "_quantiles", None):
            return 0.0
        if not is_frame(table):  # rows of the fitted columns, already checked
            import pandas as pd

            table = pd.DataFrame(
                to_dense(table).astype(object), columns=encoder.columns_
            )
        return encoder.log_jacobian(table)

    def _over_blocks(self, method: Callable[[Any], np.ndarray], X: Any) -> np.ndarray:
        """``method`` over row blocks of an out-of-core array, concatenated."""
        return np.concatenate(by_blocks(method, blocks(X, self._STREAM_ROWS)))

    def _row_scores(
        self,
        X: np.ndarray,
        method: str,
        k: int,
        extra: tuple[np.ndarray, ...] = (),
        shared: bool = False,
        overflow: str | None = "nan",
    ) -> np.ndarray:
        """Apply a per-row scoring method of the module with ``k`` fixed draws.

        The seam that meta-estimators (:class:`skvae.VAEOutlierDetector`) and
        families score rows through: ``method`` names a method of ``module_``,
        called as ``method(x, *extra_rows, eps)`` on batches of rows. ``eps``
        holds each row's own ``k`` draws, a function of the row's values and
        the scoring stream (:func:`skvae._torch.row_noise`), so a row's score
        does not depend on the other rows, and the draws' errors average out
        over rows (a mean score, as :meth:`score`, is then as good as its
        rows are many). ``shared=True`` gives every row the same ``k`` draws
        instead (common random numbers: the draws' error moves every score
        alike, which a ranking of rows does not see). ``overflow``: as
        :meth:`_map_batches` (a NaN score is refused by default).
        """
        seed = spawn(self._seed, Stream.SCORE)
        d = self.module_.noise_dim
        score_rows = getattr(self.module_, method)
        # Modules that score each row once per class say so (rows_per_input).
        fan_out = k * int(getattr(self.module_, "rows_per_input", 1))
        if shared or d == 0:
            gen = make_generator(self._seed, Stream.SCORE, device=self._device)
            eps = torch.randn(k, d, generator=gen, device=self._device)

            def score(*tensors: torch.Tensor) -> torch.Tensor:
                return score_rows(*tensors, eps)

        else:

            def score(x: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
                return score_rows(x, *rest, row_noise(x, k, d, seed))

        return self._map_batches(
            score,
            X,
            X.dtype,
            rows=max(1, int(self._BATCH_ROWS) // fan_out),
            extra=extra,
            overflow=overflow,
        )

    def _impute_rows(self, X: np.ndarray, k: int, seed: int | None) -> np.ndarray:
        """Rows of X (on the model's scale) with their NaN entries filled.

        The seam that :class:`skvae.VAEImputer` imputes through: the module's
        ``impute`` with ``k`` fixed draws of the scoring stream, and with a
        ``seed``, one draw from the imputation stream (multiple imputation)
        instead of the conditional mean.
        """
        device = self._device
        gen = make_generator(self._seed, Stream.SCORE, device=device)
        eps = torch.randn(k, self.module_.noise_dim, generator=gen, device=device)
        draws = None
        if seed is not None:
            draws = make_generator(seed, Stream.IMPUTE, device=device)
        self.module_.eval()
        rows = max(1, 8192 // k)
        out = []
        with torch.inference_mode():
            for start in range(0, X.shape[0], rows):
                x = to_tensor(X[start : start + rows], device)
                out.append(to_numpy(self.module_.impute(x, eps, draws), X.dtype))
        return np.concatenate(out)

    def interpolate(self, x_start, x_end, n_steps=8, spherical=False):
        """Decode evenly spaced points between the latent codes of two rows.

        The rows are encoded with :meth:`transform`, the path between the two
        codes is sampled at ``n_steps`` points (both ends included), and each
        point is decoded with :meth:`inverse_transform`.

        Parameters
        ----------
        x_start, x_end : array-like of shape (n_features,) or (n_pairs, n_features)
            The rows (or row pairs) to interpolate between.
        n_steps : int, default=8
            Points on each path, ends included (at least 2).
        spherical : bool, default=False
            Interpolate along the great circle between the codes (slerp),
            which keeps intermediate codes at a typical norm under a Gaussian
            prior; else linearly.

        Returns
        -------
        X_path : ndarray of shape (n_steps, n_features) or \
(n_pairs, n_steps, n_features)
            Decoded points, one path per pair (no pair axis for 1-D inputs).
            After a fit on a DataFrame, a DataFrame of the decoded rows
            (indexed by ``(pair, step)`` for several pairs).

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import VAE
        >>> X = np.random.RandomState(0).normal(size=(30, 4))
        >>> vae = VAE(n_components=2, max_iter=2, random_state=0).fit(X)
        >>> vae.interpolate(X[0], X[1], n_steps=5).shape
        (5, 4)
        """
        check_is_fitted(self)
        if not isinstance(n_steps, Integral) or n_steps < 2:
            raise ValueError(f"n_steps must be an integer >= 2, got {n_steps!r}.")
        single = np.ndim(x_start) == 1
        starts, ends = (_as_rows(x) for x in (x_start, x_end))
        if starts.shape != ends.shape:
            raise ValueError(
                f"x_start and x_end must have the same shape, got {starts.shape} "
                f"and {ends.shape}."
            )
        z0, z1 = self._latents(starts), self._latents(ends)
        steps = np.linspace(0.0, 1.0, n_steps)
        omega = None
        if spherical:
            cos = np.sum(z0 * z1, axis=1) / np.maximum(
                np.linalg.norm(z0, axis=1) * np.linalg.norm(z1, axis=1), 1e-12
            )
            omega = np.arccos(np.clip(cos, -1.0, 1.0))

        def codes(start: int, stop: int) -> np.ndarray:
            """The path's codes of rows [start, stop) of the (pair, step) grid."""
            pair, step = np.divmod(np.arange(start, stop), n_steps)
            t = steps[step][:, None]
            if omega is None:
                w0, w1 = 1 - t, t
            else:
                angle = omega[pair][:, None]
                sin = np.sin(angle)
                safe = sin > 1e-6  # nearly parallel codes: fall back to linear
                w0 = np.where(
                    safe, np.sin((1 - t) * angle) / np.where(safe, sin, 1), 1 - t
                )
                w1 = np.where(safe, np.sin(t * angle) / np.where(safe, sin, 1), t)
            return (w0 * z0[pair] + w1 * z1[pair]).astype(z0.dtype)

        n_pairs = z0.shape[0]
        decoded = self._decode_rows(n_pairs * n_steps, codes)
        if is_frame(decoded):
            return _grid_frame(decoded, n_pairs, n_steps, single, ("pair", "step"))
        decoded = decoded.reshape(n_pairs, n_steps, -1)
        return decoded[0] if single else decoded

    def traverse(self, X, dim, values):
        """Decode codes of X with one latent dimension set to each of ``values``.

        The traversal of one latent dimension, to see what it encodes
        (interpretability, disentanglement).

        Parameters
        ----------
        X : array-like of shape (n_features,) or (n_samples, n_features)
            Rows whose codes (:meth:`transform`) are the starting points.
        dim : int
            The latent dimension to vary, in ``[0, n_features_out)``.
        values : array-like of shape (n_values,)
            The values given to that dimension.

        Returns
        -------
        X_traversal : ndarray of shape (n_values, n_features) or \
(n_samples, n_values, n_features)
            Decoded rows (no sample axis for a 1-D X). After a fit on a
            DataFrame, a DataFrame of the decoded rows (indexed by
            ``(row, value)`` for several rows).

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import VAE
        >>> X = np.random.RandomState(0).normal(size=(30, 4))
        >>> vae = VAE(n_components=2, max_iter=2, random_state=0).fit(X)
        >>> vae.traverse(X[0], dim=1, values=[-2, 0, 2]).shape
        (3, 4)
        """
        check_is_fitted(self)
        single = np.ndim(X) == 1
        Z = self._latents(_as_rows(X))
        n_latent = Z.shape[1]
        if (
            isinstance(dim, bool)
            or not isinstance(dim, Integral)
            or not 0 <= dim < n_latent
        ):
            raise ValueError(f"dim must be an integer in [0, {n_latent}), got {dim!r}.")
        values = np.asarray(values, dtype=Z.dtype).ravel()
        check_float32_range(values[None, :])
        if values.size == 0:
            raise ValueError("values must hold at least one value.")

        def codes(start: int, stop: int) -> np.ndarray:
            """Codes of rows [start, stop) of the (row, value) grid."""
            row, value = np.divmod(np.arange(start, stop), len(values))
            block = Z[row]
            block[:, dim] = values[value]
            return block

        decoded = self._decode_rows(Z.shape[0] * len(values), codes)
        if is_frame(decoded):
            n_rows = Z.shape[0]
            return _grid_frame(decoded, n_rows, len(values), single, ("row", "value"))
        decoded = decoded.reshape(Z.shape[0], len(values), -1)
        return decoded[0] if single else decoded

    def _latents(self, X: Any) -> np.ndarray:
        """:meth:`transform`'s codes as an array, whatever ``set_output`` asks."""
        return np.asarray(self.transform(X))

    def _decode_rows(
        self, n_rows: int, codes: Callable[[int, int], np.ndarray]
    ) -> np.ndarray:
        """:meth:`inverse_transform` of ``n_rows`` codes made chunk by chunk.

        ``codes(start, stop)`` returns the codes of rows ``[start, stop)``;
        each chunk of ``_BATCH_ROWS`` rows is made, decoded and written into
        one preallocated array, so memory beyond the result is bounded by the
        chunk however many rows there are.
        """
        rows = max(1, int(self._BATCH_ROWS))
        out = None
        frames = []  # the typed rows of a model fitted on a table
        bad = []  # rows whose codes overflowed, named among all the rows
        for start in range(0, n_rows, rows):
            stop = min(start + rows, n_rows)
            try:
                part = self.inverse_transform(codes(start, stop))
            except RowOverflowError as error:
                bad.append(start + error.rows)
                continue
            if is_frame(part):
                frames.append(part)
                continue
            if out is None:
                out = np.empty((n_rows, *part.shape[1:]), dtype=part.dtype)
            out[start:stop] = part
        if bad:
            _raise_overflow(np.concatenate(bad), codes=True)
        if frames:
            import pandas as pd

            return pd.concat(frames, ignore_index=True)
        return out

    def score(self, X, y=None, sample_weight=None):
        """Mean of :meth:`score_samples` (so model selection needs no scorer).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the mean (as ``fit`` weighs them), so that
            weights routed through a ``Pipeline`` or a search reach it.

        Returns
        -------
        score : float
            The (weighted) mean per-row log-likelihood estimate.
        """
        return _weighted_mean(self.score_samples(X), sample_weight)

    def sample(self, n_samples=1, random_state=None, *, noise=False):
        """Generate rows: latents from the prior, decoded to the mean of p(x | z).

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows.
        random_state : int, RandomState instance or None, default=None
            Seed of the draw; ``None`` uses the estimator's ``random_state``
            (so an int there gives the same rows at each call, as
            ``GaussianMixture.sample`` does).
        noise : bool, default=False
            Draw every value from p(x | z) instead of taking the decoder's
            point value: Gaussian values with the learned variance, Bernoulli
            and categorical draws, Poisson and negative binomial counts
            (keyword only). Use it to synthesise data; the point values are
            smoother than real rows.

        Returns
        -------
        X : ndarray of shape (n_samples, `n_features_in_`) or DataFrame
            Generated rows: rows of the input space. After a fit on a pandas
            DataFrame, a DataFrame with its columns and dtypes (see the user
            guide, "Tables").

        Notes
        -----
        Rows are drawn and decoded in blocks of 4,096, each block from its
        own sub-stream of the seed, so memory beyond the result stays bounded
        however many rows are asked for.
        """
        check_is_fitted(self)
        return self._draw(check_n_samples(n_samples), random_state, noise=noise)

    def _draw(
        self, n_samples: int, random_state: Any, *extra: Any, noise: Any = False
    ) -> np.ndarray:
        """``module_.sample(n, generator, *extra)`` in blocks, as the user's rows.

        ``extra`` holds arrays or tensors with one row per sample (or None),
        passed block by block. The rows are made by :meth:`_draw_blocks`
        (see there for the random streams) and written into one
        preallocated array; within :func:`sample_in_blocks`, each block is
        handed to its writer instead and nothing is returned. With ``noise``
        the decoder draws from p(x | z) instead of giving its point value.
        """
        noise = check_noise(noise)
        blocks = self._draw_blocks(n_samples, random_state, *extra, noise=noise)
        write = _SAMPLE_WRITER.get()
        if write is not None:
            for _, block in blocks:
                write(self._typed_rows(block))
            return None
        out = None
        for start, block in blocks:
            if out is None:
                out = np.empty((n_samples, *block.shape[1:]), dtype=block.dtype)
            out[start : start + block.shape[0]] = block
        return self._typed_rows(out)

    def _draw_blocks(
        self, n_samples: int, random_state: Any, *extra: Any, noise: bool = False
    ) -> Iterator[tuple[int, np.ndarray]]:
        """``(start, rows)`` of ``sample``: blocks of ``_SAMPLE_ROWS`` rows.

        Each block is drawn and decoded on its own, so memory is bounded by
        the block whatever ``n_samples`` is. Block ``b`` draws from its own
        sub-stream ``(seed, SAMPLE, b)`` of the sampling stream (block 0 from
        the stream itself), so the rows depend only on the seed and on where
        they fall, never on other threads or on the global generators.
        """
        rs = self.random_state if random_state is None else random_state
        seed = draw_seed(rs)
        rows = max(1, int(self._SAMPLE_ROWS))
        device = self._device
        self.module_.eval()
        for block, start in enumerate(range(0, n_samples, rows)):
            stop = min(start + rows, n_samples)
            ids = (block,) if block else ()
            gen = make_generator(seed, Stream.SAMPLE, *ids, device=device)
            parts = [_row_block(e, start, stop, device) for e in extra]
            with torch.inference_mode(), drawing(gen if noise else None):
                X = self.module_.sample(stop - start, gen, *parts)
                X = to_numpy(X, self._dtype)
            yield start, X

    def _map_batches(
        self,
        fn: Callable[..., torch.Tensor],
        X: np.ndarray,
        dtype: np.dtype,
        rows: int | None = None,
        extra: tuple[np.ndarray, ...] = (),
        overflow: str | None = "nan",
    ) -> np.ndarray:
        """Apply ``fn`` to row chunks of X (and of the row-aligned ``extra``).

        Chunks have ``rows`` rows (default ``_BATCH_ROWS``, divided among the
        rows the module makes of each input: ``rows_per_input``) and their
        results are written into one preallocated array, so memory beyond
        the result is bounded by the chunk. X may be sparse (a scipy matrix
        or :class:`skvae._data.SparseRows`, densified chunk by chunk) or a
        tensor.

        Rows whose result is NaN (``overflow="nan"``, for scores and
        log-probabilities, which may be -inf) or not finite
        (``"nonfinite"``, for codes; ``"codes"``, for rows decoded from
        codes, which the message names) are refused with a
        :class:`RowOverflowError` naming them: values that
        float32 holds (up to about 3.4e38, which validation accepts) can
        still overflow in the networks' sums and products, and their result
        would otherwise be returned as NaN, or read as class 0 by an
        argmax. ``None`` returns them as they are (the detector calls such
        rows outliers).
        """
        if rows is None:
            fan_out = int(getattr(self.module_, "rows_per_input", 1))
            rows = int(self._BATCH_ROWS) // max(1, fan_out)
        rows = max(1, int(rows))
        n_rows = X.shape[0]
        self.module_.eval()
        out = None
        broken: list[np.ndarray] = []
        with torch.inference_mode():
            for start in range(0, max(n_rows, 1), rows):
                chunk = [
                    _chunk_tensor(a, start, start + rows, self._device)
                    for a in (X, *extra)
                ]
                part = to_numpy(fn(*chunk), dtype)
                if out is None:
                    out = np.empty((n_rows, *part.shape[1:]), dtype=part.dtype)
                out[start : start + part.shape[0]] = part
                if overflow is not None and part.dtype.kind == "f" and part.size:
                    flat = part.reshape(part.shape[0], -1)
                    bad = np.isnan(flat) if overflow == "nan" else ~np.isfinite(flat)
                    broken.append(start + np.flatnonzero(bad.any(axis=1)))
        if broken and sum(len(b) for b in broken):
            _raise_overflow(np.concatenate(broken), codes=overflow == "codes")
        return out

    @property
    def _n_features_out(self) -> int:
        return self.module_.n_latent

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = True
        # missing="mask" reads NaN as a missing entry (scikit-learn's tools
        # then pass NaN through instead of refusing it)
        tags.input_tags.allow_nan = self._masks_missing()
        return tags

    # ----------------------------------------------------------- persistence
    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        module = state.get("module_")
        if module is not None and any(
            p.device.type != "cpu" for p in module.parameters()
        ):
            state["module_"] = copy.deepcopy(module).to("cpu")
        optimizer = state.pop("_optimizer", None)
        if optimizer is not None:
            state["_optimizer_state"] = to_cpu(optimizer.state_dict())
        state["_optimizer"] = None
        state.pop("_device", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        if "module_" in state:
            self._device = resolve_load_device(self.device)
            self.device_ = device_name(self._device)
            self.module_.to(self._device)


def check_noise(noise: Any) -> bool:
    """``sample``'s ``noise``: a boolean, or a ``TypeError`` naming it.

    Parameters
    ----------
    noise : bool
        The value passed.

    Returns
    -------
    noise : bool

    Examples
    --------
    >>> check_noise(True)
    True
    """
    if not isinstance(noise, (bool, np.bool_)):
        raise TypeError(f"noise must be True or False, got {noise!r}.")
    return bool(noise)


def _as_rows(x: Any) -> Any:
    """A row or rows as 2-D: a pandas row (Series) as a one-row DataFrame.

    2-D input (a DataFrame, an array) is returned as given.
    """
    if is_frame(x) or np.ndim(x) == 2:
        return x
    if type(x).__name__ == "Series" and hasattr(x, "to_frame"):
        return x.to_frame().T.infer_objects()
    return np.atleast_2d(np.asarray(x))


def _grid_frame(
    frame: Any, n_outer: int, n_inner: int, single: bool, names: tuple[str, str]
) -> Any:
    """Decoded rows of an (outer, inner) grid as one DataFrame.

    One outer row keeps the plain index ``0..n_inner-1``; several are
    indexed by the pairs ``(outer, inner)``.
    """
    if single:
        return frame
    import pandas as pd

    frame.index = pd.MultiIndex.from_product(
        [range(n_outer), range(n_inner)], names=list(names)
    )
    return frame


#: Where ``_draw`` hands its blocks within :func:`sample_in_blocks` (None:
#: it returns them as one array). A context variable, so threads never mix.
_SAMPLE_WRITER: contextvars.ContextVar[Callable[[np.ndarray], Any] | None] = (
    contextvars.ContextVar("skvae_sample_writer", default=None)
)


def sample_in_blocks(
    estimator: BaseVAE, n_samples: int, write: Callable[[np.ndarray], Any], **kwargs
) -> None:
    """Call ``estimator.sample(n_samples, **kwargs)``, handing rows to ``write``.

    The rows come in blocks as they are decoded (the same rows as
    ``sample`` returns, in order), so that they can be written out without
    ever holding all of them: the command line's ``sample -n`` streams
    through this.

    Parameters
    ----------
    estimator : BaseVAE
        A fitted estimator.
    n_samples : int
        Number of rows.
    write : callable
        Called with each block, an ndarray of shape (n_rows, n_features) (a
        DataFrame for a model fitted on one).
    **kwargs
        Passed to ``sample`` (``random_state``, a family's ``y=`` or
        ``cluster=``).

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import VAE
    >>> vae = VAE(max_iter=2, random_state=0).fit(np.eye(4).repeat(5, axis=0))
    >>> blocks = []
    >>> sample_in_blocks(vae, 10, blocks.append)
    >>> np.array_equal(np.concatenate(blocks), vae.sample(10))
    True
    """
    token = _SAMPLE_WRITER.set(write)
    try:
        estimator.sample(n_samples, **kwargs)
    finally:
        _SAMPLE_WRITER.reset(token)


def _chunk_tensor(a: Any, start: int, stop: int, device: torch.device) -> torch.Tensor:
    """Rows ``[start, stop)`` of X as a float32 tensor on ``device``.

    X is an array, a scipy sparse matrix (only these rows are densified),
    :class:`skvae._data.SparseRows` or a tensor.
    """
    if isinstance(a, (torch.Tensor, SparseRows)):
        return a[start:stop].to(device=device, dtype=torch.float32)
    return to_tensor(to_dense(a[start:stop]), device)


def _row_block(a: Any, start: int, stop: int, device: torch.device) -> Any:
    """Rows ``[start, stop)`` of an array or tensor as a tensor (None stays)."""
    if a is None:
        return None
    if isinstance(a, torch.Tensor):
        return a[start:stop].to(device)
    block = np.ascontiguousarray(a[start:stop])
    if np.issubdtype(block.dtype, np.integer):
        # torch warns of a read-only array (a broadcast one); indices are small
        return torch.tensor(block, dtype=torch.long, device=device)
    return to_tensor(block, device)


#: Models whose last training call was stopped by a callback (``should_stop``):
#: an out-of-core ``partial_fit`` then reads no more blocks.
_STOPPED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

#: The parameters that ``BaseVAE.__init__`` assigns: those of every family.
_SHARED_PARAMS = tuple(
    name
    for name in inspect.signature(BaseVAE.__init__).parameters
    if name not in ("self", "kwargs")
)


def auto_epochs(
    n_train: int,
    batch_size: int,
    steps: int,
    min_epochs: int,
    max_epochs: int,
) -> int:
    """The epochs of a ``"auto"`` budget: about ``steps`` steps, within bounds.

    ``clip(ceil(steps / ceil(n_train / batch_size)), min_epochs, max_epochs)``:
    small data gets ``max_epochs`` (as an integer ``max_iter`` would), larger
    data fewer epochs over the same number of steps, and data so large that
    ``min_epochs`` epochs exceed the steps gets ``min_epochs``, so the cost of
    a fit grows at most linearly with the rows.

    Parameters
    ----------
    n_train : int
        Training rows (less a validation split).
    batch_size : int
        Rows per step.
    steps : int
        Target number of optimisation steps.
    min_epochs, max_epochs : int
        Bounds of the result.

    Returns
    -------
    epochs : int

    Examples
    --------
    >>> [auto_epochs(n, 200, 5000, 2, 200) for n in (150, 10_000, 100_000, 10**6)]
    [200, 100, 10, 2]
    """
    return epochs_for_steps(steps, n_train, batch_size, min_epochs, max_epochs)


#: Real columns whose mean or spread passes this are warned about: a network
#: learns values of order 1 (a VAE reconstructed iris moved by 20, or its
#: units times 10, worse than by the columns' means; iris as it is, better).
_LARGE_VALUES = 10.0
#: ... and those whose values all lie within this of 0.
_SMALL_VALUES = 1e-3
#: Count columns whose mean passes this: the encoder reads them raw (a
#: Poisson column of mean 1,000 was decoded as 0, of mean 300 as 385).
_LARGE_COUNTS = 100.0


def _far_from_order_one(
    X: Any, likelihood: Likelihood, rows: np.ndarray | None = None, names: Any = None
) -> str | None:
    """A warning for real columns far from order 1, or for large counts; else None.

    A network's weights start, and Adam moves them, at order 1: a Gaussian
    column with a mean or spread past ``_LARGE_VALUES`` (a year, a price, a
    blood pressure) or whose values all lie within ``_SMALL_VALUES`` of 0 is
    reconstructed no better than by its mean, and the fit still reports
    convergence; a count of mean past ``_LARGE_COUNTS`` is read raw by the
    encoder, whose units saturate. ``rows``: the rows that count (None: all); ``names``:
    the columns' names (a table's), by which the warning names them.

    Examples
    --------
    >>> from skvae.nn.likelihoods import GaussianLikelihood
    >>> X = np.random.RandomState(0).normal(size=(50, 2))
    >>> _far_from_order_one(X, GaussianLikelihood(2)) is None
    True
    >>> print(_far_from_order_one(X + 1e4, GaussianLikelihood(2))[:40])
    Columns [0, 1] of X are far from order 1
    """
    if isinstance(likelihood, MixedLikelihood):
        blocks = list(zip(likelihood.kinds, likelihood.columns, strict=True))
        real = [c for kind, cols in blocks if kind == "gaussian" for c in cols]
        counts = [
            c for kind, cols in blocks if kind in ("poisson", "negbin") for c in cols
        ]
    elif isinstance(likelihood, GaussianLikelihood):
        real, counts = list(range(X.shape[1])), []
    else:
        return None
    if not real and not counts:
        return None
    means, variances = column_moments(X, rows)  # no copy of X
    mean = dict(enumerate(means.tolist()))
    spread = dict(enumerate(np.sqrt(np.maximum(variances, 0.0)).tolist()))
    far = [c for c in real if max(abs(mean[c]), spread[c]) > _LARGE_VALUES]
    small = [c for c in real if 0 < max(abs(mean[c]), spread[c]) < _SMALL_VALUES]
    if small:
        # only columns whose values all lie near 0: a dark pixel, 0 in all
        # but a few images (mean 1e-5, spread 2e-4, one value 0.01), is of
        # order 1 where it is not 0, and standardising it would make that 40
        peaks = zip(small, column_peaks(X, small, rows).tolist(), strict=True)
        tiny = [c for c, p in peaks if p < _SMALL_VALUES]
        far = sorted(far + tiny)
    large = [c for c in counts if mean[c] > _LARGE_COUNTS]

    def named(columns):
        return [columns_names[c] for c in columns] if names is not None else columns

    columns_names = None if names is None else [str(n) for n in names]
    if far:
        c = max(far, key=lambda c: abs(np.log10(max(abs(mean[c]), spread[c]))))
        return (
            f"Columns {named(far)[:10]} of X are far from order 1 (column "
            f"{named([c])[0]}: mean {mean[c]:.3g}, standard deviation "
            f"{spread[c]:.3g}): the networks learn values of order 1, and the "
            "model would reconstruct such a column no better than by its mean. "
            "Standardise them first (e.g. StandardScaler in a pipeline, or the "
            "command line's --standardize), or in "
            f"a DataFrame declare them likelihood={{'quantile': {named(far)[:10]}}}."
        )
    if large:
        return (
            f"Count columns {named(large)[:10]} of X have means past "
            f"{_LARGE_COUNTS:g} (column {named(large)[0]}: {mean[large[0]]:.3g}): "
            "the encoder reads the raw counts, far from order 1, and the model "
            "may decode such a column as about 0; their losses, that large, "
            "can leave the other columns fitted poorly too. Model them as real "
            "columns after np.log1p and standardising, or in a DataFrame as "
            "'quantile'."
        )
    return None


def restore_attributes(est: Any, saved: dict[str, Any]) -> None:
    """Put back the attributes an estimator had before a failed ``fit``.

    The meta-estimators save ``vars(self)`` before fitting and call this on
    failure, so no half-set attribute stays: the imputer and the oversampler
    through :func:`restored_on_failure`, the detector directly (its Ctrl-C
    keeps a threshold too).

    Examples
    --------
    >>> from skvae import VAE
    >>> est = VAE()
    >>> saved = dict(vars(est))
    >>> est.n_iter_ = 3
    >>> restore_attributes(est, saved)
    >>> hasattr(est, "n_iter_")
    False
    """
    vars(est).clear()
    vars(est).update(saved)


@contextlib.contextmanager
def restored_on_failure(est: Any) -> Iterator[dict[str, Any]]:
    """Run a meta-estimator's ``fit`` body; on failure, put its attributes back.

    Any exception restores the attributes the estimator had before (no
    half-set attribute stays). Ctrl-C keeps a model trained in this call
    (a new ``estimator_``), as a stopped ``fit`` of the models does; without
    one it restores too. Yields the saved attributes.

    Examples
    --------
    >>> from skvae import VAEImputer
    >>> imputer = VAEImputer()
    >>> try:
    ...     with restored_on_failure(imputer):
    ...         imputer.n_features_in_ = 3
    ...         raise ValueError("bad data")
    ... except ValueError:
    ...     pass
    >>> hasattr(imputer, "n_features_in_")
    False
    """
    saved = dict(vars(est))
    try:
        yield saved
    except KeyboardInterrupt:
        if vars(est).get("estimator_") is saved.get("estimator_"):
            restore_attributes(est, saved)
        raise
    except BaseException:
        restore_attributes(est, saved)
        raise


def kl_schedule_of(est: Any) -> KLSchedule:
    """The KL schedule of an estimator that takes the ``KL_PARAMS`` group.

    Examples
    --------
    >>> from skvae import VAE
    >>> kl_schedule_of(VAE(beta=2.0, kl_warmup=0)).weight_at(0.5)
    (2.0, None)
    """
    return KLSchedule(
        beta=float(est.beta),
        warmup=int(est.kl_warmup),
        kind=est.kl_schedule,
        capacity=float(est.max_capacity),
        free_bits=float(est.free_bits),
    )


def warn_ignored_params(est: Any) -> None:
    """Warn about each parameter that ``est``'s other parameters leave unread.

    ``est._ignored_params()`` names them, with the reason; only those set
    away from the class's default are reported (as scikit-learn's
    LogisticRegression does for ``l1_ratio`` without an elastic net), so
    that a grid over both parameters still runs.

    Examples
    --------
    >>> import warnings
    >>> from skvae import VAE
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_ignored_params(VAE(n_iwae_samples=20))
    >>> "n_iwae_samples=20" in str(caught[0].message)
    True
    """
    defaults = {
        name: p.default
        for name, p in inspect.signature(type(est).__init__).parameters.items()
    }
    params = est.get_params(deep=False)
    for name, reason in est._ignored_params().items():
        value = params[name]
        try:
            changed = not bool(_plain(value) == _plain(defaults.get(name)))
        except Exception:  # values that do not compare
            changed = True
        if changed:
            warnings.warn(
                f"{type(est).__name__}({name}={value!r}) has no effect {reason}; "
                "it is ignored.",
                UserWarning,
                stacklevel=_caller_level(),
            )


def _weighted_mean(scores: np.ndarray, sample_weight: Any) -> float:
    """The mean of per-row scores, weighted as ``fit`` weighs rows."""
    if sample_weight is None:
        return float(np.mean(scores))
    weight = _check_sample_weight(sample_weight, scores, ensure_non_negative=True)
    if not weight.sum() > 0:
        raise ValueError("sample_weight must hold a positive weight.")
    counted = weight > 0  # a row of weight 0 is no row (a score of -inf too)
    return float(np.average(scores[counted], weights=weight[counted]))


def warn_replaced_draws(meta: Any, estimator: Any) -> None:
    """Warn where a meta-estimator's draws replace its model's own.

    ``meta`` (the detector, the imputer) draws with its own
    ``n_importance_samples``, not the one set on the model it was given:
    a value set there (away from the model's default) is not read.

    Examples
    --------
    >>> import warnings
    >>> from skvae import VAE, VAEOutlierDetector
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_replaced_draws(VAEOutlierDetector(), VAE(n_importance_samples=50))
    >>> "n_importance_samples=50 is not read" in str(caught[0].message)
    True
    """
    if not isinstance(estimator, BaseVAE):
        return
    own = estimator.get_params(deep=False).get("n_importance_samples")
    signature = inspect.signature(type(estimator).__init__).parameters
    if own is None or "n_importance_samples" not in signature:
        return
    default = signature["n_importance_samples"].default
    if own != default and own != meta.n_importance_samples:
        name = type(meta).__name__
        warnings.warn(
            f"{name} draws with its own n_importance_samples="
            f"{meta.n_importance_samples}: the {type(estimator).__name__}'s "
            f"n_importance_samples={own} is not read. Set {name}"
            f"(n_importance_samples={own}) instead.",
            UserWarning,
            stacklevel=_caller_level(),
        )


def _same_device(a: torch.device, b: torch.device) -> bool:
    """Whether two devices are one (``cuda`` is the current ``cuda:N``)."""
    if a.type != b.type:
        return False
    if a.index is None or b.index is None:
        current = torch.cuda.current_device() if a.type == "cuda" else 0
        return (a.index if a.index is not None else current) == (
            b.index if b.index is not None else current
        )
    return a.index == b.index


def _caller_level() -> int:
    """``stacklevel`` for a warning raised at the user's line.

    Counted from the function that calls this one (level 1) up to the first
    frame outside skvae and scikit-learn (whose fit wrappers and searches
    sit between the user's call and skvae's code).
    """
    import os
    import sys

    import sklearn

    roots = tuple(
        os.path.dirname(os.path.abspath(path)) + os.sep
        for path in (__file__, sklearn.__file__)
    )
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(roots):
        frame, level = frame.f_back, level + 1
    return level


def check_objective(est: Any) -> None:
    """Refuse KL options that the importance-weighted objective cannot honour.

    For an estimator that takes the ``KL_PARAMS`` and ``OBJECTIVE_PARAMS``
    groups: ``objective="iwae"`` weighs whole importance samples, so there is
    no per-dimension KL for free bits and no KL total for a capacity.

    Examples
    --------
    >>> from skvae import VAE
    >>> check_objective(VAE(objective="iwae"))
    >>> check_objective(VAE(objective="iwae", free_bits=0.5))
    Traceback (most recent call last):
    ...
    ValueError: objective='iwae' weights whole importance samples, ...
    """
    if est.objective == "iwae" and (est.free_bits > 0 or est.kl_schedule == "capacity"):
        raise ValueError(
            "objective='iwae' weights whole importance samples, so it takes "
            "neither free_bits > 0 nor kl_schedule='capacity'."
        )


#: The largest magnitude float32, the dtype the networks compute in, holds.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_float32_range(X: np.ndarray, feature_names: Any = None) -> None:
    """Refuse values too large for float32, the dtype the networks compute in.

    A value of magnitude above ``np.finfo(np.float32).max`` (about 3.4e38)
    would become infinite in the networks and their outputs NaN.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Validated data (NaN, for missing entries, is ignored).
    feature_names : array-like of str, default=None
        Names of the columns, for the message.

    Raises
    ------
    ValueError
        Naming the columns that hold such values.

    Examples
    --------
    >>> check_float32_range(np.array([[1.0, -3e38]]))
    >>> check_float32_range(np.array([[1.0, 1e39]]))
    Traceback (most recent call last):
    ...
    ValueError: Input X has values of magnitude above 3.403e+38 ...
    """
    if sp.issparse(X):  # the stored values; the others are zeros
        X = X.tocsr()  # no copy for CSR: its indices are the columns
        if X.nnz == 0 or X.dtype.kind != "f" or X.dtype.itemsize <= 4:
            return
        big = np.abs(X.data) > FLOAT32_MAX
        if big.any():
            _raise_float32_range(np.unique(X.indices[big]), X.shape[1], feature_names)
        return
    if X.size == 0 or X.dtype.kind != "f" or X.dtype.itemsize <= 4:
        return
    # fmax/fmin skip NaN; per column, with no temporary the size of X
    high = np.fmax.reduce(X, axis=0)
    low = np.fmin.reduce(X, axis=0)
    bad = np.flatnonzero((high > FLOAT32_MAX) | (low < -FLOAT32_MAX))
    if bad.size:
        _raise_float32_range(bad, X.shape[1], feature_names)


class RowOverflowError(ValueError):
    """Rows whose result overflowed float32 in the networks (``rows``).

    A ValueError: values within float32's range (up to about 3.4e38, which
    validation accepts) can still grow past it in the networks' sums and
    products. ``codes``: the rows were latent codes to decode, not data.

    Examples
    --------
    >>> error = RowOverflowError(np.array([2, 7]))
    >>> error.rows.tolist(), isinstance(error, ValueError)
    ([2, 7], True)
    """

    def __init__(self, rows: np.ndarray, codes: bool = False):
        self.rows, self.codes = np.asarray(rows), codes
        shown = self.rows[:10].tolist()
        more = f" and {self.rows.size - 10} more" if self.rows.size > 10 else ""
        if codes:
            message = (
                f"Rows {shown}{more} of the codes overflow float32 in the "
                "decoder: codes this far from the latent space's scale decode "
                "past float32's range, and their result would not be a number. "
                "Pass codes of the scale of transform's output."
            )
        else:
            message = (
                f"Rows {shown}{more} of X overflow float32 in the model's "
                "networks: their values, though within float32's range (about "
                f"{FLOAT32_MAX:.4g}), grow past it in the networks' sums and "
                "products, and their result would not be a number. Scale the "
                "data first (e.g. with StandardScaler, or by dividing the large "
                "columns by a power of ten)."
            )
        super().__init__(message)


def _raise_overflow(rows: np.ndarray, codes: bool = False) -> None:
    """Raise :class:`RowOverflowError` for ``rows``.

    Examples
    --------
    >>> _raise_overflow(np.array([0, 5]))
    Traceback (most recent call last):
    ...
    skvae._base.RowOverflowError: Rows [0, 5] of X overflow float32 in the ...
    """
    raise RowOverflowError(rows, codes)


def by_blocks(method: Callable[[Any], Any], parts: Iterable[Any]) -> list:
    """``method`` of each block of rows in turn, overflowing rows named across them.

    A :class:`RowOverflowError` of a block counts its rows within the block;
    the blocks after it are still read, and one error names every such row
    by its place among all the blocks' rows.

    Examples
    --------
    >>> by_blocks(lambda b: b * 2, [np.ones(2), np.zeros(1)])
    [array([2., 2.]), array([0.])]
    """
    out, bad, start, codes = [], [], 0, False
    for part in parts:
        try:
            out.append(method(part))
        except RowOverflowError as error:
            bad.append(start + error.rows)
            codes = error.codes
        start += part.shape[0]
    if bad:
        _raise_overflow(np.concatenate(bad), codes)
    return out


def _raise_float32_range(bad: np.ndarray, n_features: int, feature_names: Any) -> None:
    """The error of :func:`check_float32_range` for the columns ``bad``."""
    named = ""
    if feature_names is not None and len(feature_names) == n_features:
        named = f" ({', '.join(repr(str(feature_names[i])) for i in bad[:10])})"
    more = f" and {bad.size - 10} more" if bad.size > 10 else ""
    raise ValueError(
        f"Input X has values of magnitude above {FLOAT32_MAX:.4g} (the float32 "
        f"range, in which the networks compute) in column(s) {bad[:10].tolist()}"
        f"{named}{more}. Scale the data first (e.g. with StandardScaler, or by "
        "dividing those columns by a power of ten)."
    )


def layer_sizes(value: Any, name: str, *, allow_empty: bool) -> tuple[int, ...]:
    """A tuple of positive layer widths from an int or a sequence, or a clear error.

    Examples
    --------
    >>> layer_sizes(8, "hidden_layer_sizes", allow_empty=False)
    (8,)
    >>> layer_sizes((), "hidden_layer_sizes", allow_empty=True)
    ()
    """
    sizes = (value,) if isinstance(value, Integral) else tuple(value)
    if any(
        not isinstance(s, Integral) or isinstance(s, bool) or s < 1 for s in sizes
    ) or (not sizes and not allow_empty):
        need = "positive integers" + ("" if allow_empty else " (at least one)")
        raise ValueError(f"{name} must contain {need}, got {name}={value!r}.")
    return tuple(int(s) for s in sizes)


def _plain(value: Any) -> Any:
    """``value`` with its sequences as tuples and numpy scalars as Python's."""
    if hasattr(value, "tolist"):  # numpy arrays and scalars, pandas Index
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _stratified_split(
    strata: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation rows, each stratum held out in its share.

    ``floor(fraction * count)`` rows of each stratum, drawn at random, go to
    validation, so that a stratum keeps at least one training row (a class
    of fewer than ``1 / fraction`` rows keeps them all); where that holds out
    no row at all, one row of the largest stratum is held out. The rows of
    each part come back in random order, as ``train_test_split`` gives them.

    Examples
    --------
    >>> train, valid = _stratified_split(np.repeat([0, 1, 2], [10, 20, 1]), 0.2, 0)
    >>> np.bincount(np.repeat([0, 1, 2], [10, 20, 1])[valid], minlength=3).tolist()
    [2, 4, 0]
    """
    rng = np.random.RandomState(seed)
    _, inverse, counts = np.unique(strata, return_inverse=True, return_counts=True)
    take = np.floor(fraction * counts).astype(np.int64)
    if not take.any():
        take[np.argmax(counts)] = 1
    held = np.zeros(strata.shape[0], dtype=bool)
    for k in np.flatnonzero(take):
        held[rng.choice(np.flatnonzero(inverse == k), take[k], replace=False)] = True
    order = rng.permutation(strata.shape[0])
    return order[~held[order]], order[held[order]]
