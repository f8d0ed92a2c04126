"""The conditional VAE (Sohn et al. 2015): a decoder conditioned on a label."""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
import torch

from skvae._base import (
    KL_PARAMS,
    MISSING_PARAMS,
    OBJECTIVE_PARAMS,
    SCORING_PARAMS,
    BaseVAE,
    check_objective,
    kl_schedule_of,
)
from skvae._sklearn_compat import Interval
from skvae._training import KLSchedule
from skvae.models._labels import LabelledModelMixin, split_strata
from skvae.nn.conditional import ConditionalVAEModule
from skvae.nn.conv import check_input_shape
from skvae.nn.likelihoods import Likelihood

__all__ = ["ConditionalVAE", "ConditionalVAEModule"]


class ConditionalVAE(LabelledModelMixin, BaseVAE):
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
      class prior ``class_prior_`` (typed values for a mixed likelihood).
    - ``score_samples(X, y)`` bounds log p(x | y); without ``y`` it bounds
      log p(x) = log sum_y p(y) p(x | y).
    - ``sample(n, y)`` decodes prior latents with the given labels (one label,
      or one per row); without ``y`` labels are drawn from the class
      prior.

    The prior p(z) is N(0, I): the label-marginal bounds are built for it.

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
        their stride-2 layers (each halves the image), e.g. ``(32, 64)``. The
        one-hot label joins the code at the decoder's input, whose first
        layer is linear.
    activation : {"relu", "tanh", "logistic", "identity", "elu", "gelu", "silu"}, \
default="relu"
        Activation of the hidden layers.
    likelihood : {"gaussian", "bernoulli", "auto"} or dict, default="gaussian"
        The observation model p(x | z, y). "gaussian" has a mean from the
        decoder and a learned per-feature variance (floored by
        ``min_variance``), for real-valued data (standardise it first);
        "bernoulli" is for data in [0, 1], such as binary features or pixel
        intensities. For tables of mixed columns, "auto" reads the types off
        the data (one-hot groups as ``OneHotEncoder`` writes them are
        categorical, other 0/1 columns Bernoulli, the rest Gaussian), and a
        dict such as
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
        encoded from zeros. A one-hot group with some columns missing is
        scored by what the others say (a column observed 1 is the category;
        columns observed 0 rule theirs out), and imputation fills it so.
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
        "capacity" the epochs over which the capacity grows. With
        ``max_iter="auto"`` it is at most a quarter of the epochs chosen.
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
        Share of rows held out when ``early_stopping=True``: of each class's
        rows, rounded down, so that every class keeps training rows (a class
        of fewer than ``1 / validation_fraction`` rows is not held out).
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
        Your own networks in place of the built-in ones. The encoder maps
        rows ``(batch, n_features)`` to features and the decoder maps codes
        with the one-hot label appended ``(batch, n_components + n_classes)``
        to features; skvae adds the linear layer to what the model needs (a
        class that takes an ``n_outputs`` argument is asked for exactly that
        width instead; one that takes ``n_inputs`` is given its input width).
        A class is built at each fit with the parameters routed to it,
        skorch-style: ``encoder__hidden=64`` passes ``hidden=64``, so
        ``GridSearchCV`` can search them and ``clone`` keeps them. An
        instance is deep-copied (never trained in place). They replace
        ``hidden_layer_sizes``, ``activation`` and ``input_shape`` for their
        role.
    **kwargs
        ``encoder__<name>`` and ``decoder__<name>``: parameters of the
        network classes.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels seen in ``fit``.
    class_prior_ : ndarray of shape (n_classes,)
        Their frequencies, weighted by ``sample_weight`` (the label prior
        p(y)): ``class_count_`` over its sum.
    class_count_ : ndarray of shape (n_classes,)
        The (weighted) number of rows of each class trained on since the
        model was initialised: a ``fit``'s, plus those of later
        ``partial_fit`` chunks and ``warm_start`` fits (the weights of each
        call scaled to a mean of 1, so that its rows count as that many);
        each class starts at 1 when the first ``partial_fit`` was given
        ``classes``.
    module_ : ConditionalVAEModule
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
        One record per epoch (see :class:`skvae.VAE`).
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

    _unread_with_user_networks = ("hidden_layer_sizes", "activation")

    _network_params = (*BaseVAE._network_params, "objective", "n_iwae_samples")
    _parameter_constraints = {
        **BaseVAE._parameter_constraints,
        **KL_PARAMS,
        **OBJECTIVE_PARAMS,
        **SCORING_PARAMS,
        **MISSING_PARAMS,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "input_shape": ["array-like", None],
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
        super().__init__(**self._shared_params(locals()))
        self.n_components = n_components
        self.beta = beta
        self.input_shape = input_shape
        self.missing = missing
        self.kl_warmup = kl_warmup
        self.kl_schedule = kl_schedule
        self.max_capacity = max_capacity
        self.free_bits = free_bits
        self.objective = objective
        self.n_iwae_samples = n_iwae_samples
        self.n_importance_samples = n_importance_samples

    def _masks_missing(self) -> bool:
        return self.missing == "mask"

    def _kl_schedule(self) -> KLSchedule:
        return kl_schedule_of(self)

    def _n_score_draws(self) -> int:
        return self.n_importance_samples

    def _check_params(self, X: np.ndarray) -> None:
        super()._check_params(X)
        check_input_shape(self.input_shape, X.shape[1])
        check_objective(self)

    def _training_arrays(
        self, X: np.ndarray, y: Any, reset: bool, classes: Any = None
    ) -> list[np.ndarray]:
        y = self._check_y(y, X.shape[0])
        self._learn_labels(y, reset, classes)
        return [X, np.eye(len(self.classes_), dtype=X.dtype)[self._codes(y)]]

    def _split_strata(self, arrays: list[Any]) -> np.ndarray:
        return split_strata(np.asarray(arrays[1]).argmax(axis=1), arrays)

    def _build_module(
        self, X: np.ndarray, likelihood: Likelihood
    ) -> ConditionalVAEModule:
        return ConditionalVAEModule(
            X.shape[1],
            len(self.classes_),
            self.n_components,
            self._hidden_sizes(),
            self.activation,
            likelihood,
            torch.as_tensor(np.log(self.class_prior_), dtype=torch.float32),
            input_shape=check_input_shape(self.input_shape, X.shape[1]),
            encoder=self._network_spec("encoder"),
            decoder=self._network_spec("decoder"),
            objective=self.objective,
            n_iwae_samples=self.n_iwae_samples,
        )

    def fit(self, X, y=None, sample_weight=None):
        """Fit the model to X with labels y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels (ints, strings, ...).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows, as in :meth:`skvae.VAE.fit`.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return super().fit(X, y, sample_weight=sample_weight)
