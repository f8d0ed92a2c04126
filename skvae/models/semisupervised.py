"""The semi-supervised VAE "M2" of Kingma, Rezende, Mohamed and Welling (2014)."""

from __future__ import annotations

import math
import warnings
import weakref
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import (
    _num_samples,
    check_is_fitted,
    column_or_1d,
)

from skvae._base import KL_PARAMS, SCORING_PARAMS, BaseVAE, kl_schedule_of
from skvae._data import take_rows
from skvae._sklearn_compat import Interval, StrOptions, _check_sample_weight
from skvae._torch import Stream, distributed_world, make_rng
from skvae._training import Callback, KLSchedule
from skvae.callbacks import _FitReport
from skvae.models._labels import LabelledModelMixin, check_labels, split_strata
from skvae.nn.conditional import SemiSupervisedTerms, SemiSupervisedVAEModule
from skvae.nn.conv import check_input_shape
from skvae.nn.likelihoods import Likelihood

__all__ = ["SemiSupervisedTerms", "SemiSupervisedVAE", "SemiSupervisedVAEModule"]

# "auto" virtual adversarial radius, as a share of the median distance from
# a row to its nearest neighbour (0.5-0.6 measured best on digits and MNIST).
_AUTO_VAT_SHARE = 0.6
_NEIGHBOUR_QUERIES = 1000
# The bound and the adversarial terms see a labelled row at one in this
# many of its repeated visits at least (see SemiSupervisedVAE, "Cost").
_MAX_SKIPPED_VISITS = 4
# The class-balance term has its full weight from this many labels a class
# on average (fewer: proportionally less; see SemiSupervisedVAE).
_FULL_BALANCE_LABELS = 10
# The self-training phase takes this share of the main phase's steps.
_SELF_TRAINING_SHARE = 0.16
# Under the cosine of max_iter="auto", the main phase ends once the learning
# rate is below this share of its start and at most this share of the
# unlabelled rows changed their predicted class over the last epoch.
_SETTLED_LR = 0.05
_SETTLED_CHANGE = 0.001


@dataclass
class _Phase:
    """What a fit's self-training phase needs of its main phase."""

    train: list  # the main phase's rows, labelled ones repeated after them
    n_rows: int  # the training rows (the first of ``train``)
    valid: list | None
    epochs_before: int  # history's length when the main phase began
    stopped: bool = False  # by a callback, or interrupted
    settled: bool = False  # ended by _SettledPredictions


# Each estimator's phase, during its fit only (not an attribute: a
# checkpoint saves the estimator's attributes while it trains).
_PHASE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class SemiSupervisedVAE(ClassifierMixin, LabelledModelMixin, BaseVAE):
    """Semi-supervised VAE classifier (M2 of Kingma et al. 2014); ``-1`` = unlabelled.

    A generative model p(x | y, z) p(y) p(z) learnt jointly with a classifier
    q(y | x) and an encoder q(z | x, y). Labelled rows contribute their
    evidence lower bound plus ``alpha`` times the classifier's cross-entropy;
    unlabelled rows (``y == -1``, scikit-learn's convention) contribute the
    bound summed over every class, weighted by q(y | x), plus the entropy of
    q(y | x) (the M2 objective). The classifier thus learns from unlabelled
    rows which label best explains each of them.

    Each epoch visits every unlabelled row once and each labelled row about
    ``n_unlabelled / n_labelled`` times, so that about half of every batch is
    labelled (labels are few; without this most batches would have none).
    The unlabelled term is ramped in over the ``kl_warmup`` epochs, together
    with the KL weight: before the decoder has learnt how the classes differ
    it explains every row equally well under every label, and the term would
    push q(y | x) towards uniform.

    Label-free regularisers of the classifier q(y | x) act on every row (on
    the labelled rows too: there they keep the classifier from fitting the
    few labels too closely, which they did when applied to unlabelled rows
    alone). Virtual adversarial training (Miyato et al. 2018) asks q(y | x)
    not to change within ``vat_epsilon`` of each row, in the direction where
    it changes fastest, so that the class boundaries pass between the
    clusters of rows rather than through them. Its manifold form (after Yu
    et al. 2019) does the same with the move found in latent space and
    carried to x through the decoder, within ``manifold_vat_epsilon`` of the
    row's code: the rows it asks about are plausible variants (a thicker
    stroke, a slant) that no radius in the units of X reaches. Entropy
    minimisation (Grandvalet and Bengio 2004) asks q(y | x) to be confident.
    A class-balance term asks the batch's mean prediction to match the
    class shares of the labelled rows, so that a confident classifier does
    not hand one class's cluster to another (one class's rows called
    another's). The M2 objective alone leaves the classifier to learn
    mostly from the labelled rows; the four terms raise its accuracy with
    few labels markedly, and when every row is labelled they make little
    difference, so ``vat_weight=0``, ``entropy_weight=0``,
    ``manifold_vat_weight=0`` and ``balance_weight=0`` are the settings for
    a fully supervised fit (the user guide and the README give the figures
    of ``benchmarks/bench_semisupervised.py``). The labelled rows' target
    is smoothed (``label_smoothing``): fitted to certainty, a few labels fix
    the classifier's boundaries by their quirks before the unlabelled terms
    ramp in; ``label_smoothing=0`` gives the plain cross-entropy.

    Cost. The sum over classes is the bulk of an M2 step (each unlabelled
    row decoded once per class), yet once the classifier is confident most
    classes carry almost none of q(y | x): each unlabelled row is decoded,
    in one batched call, only under its most probable classes that hold
    ``class_coverage`` of q(y | x), and the bound is averaged over them
    with q(y | x) renormalised; the built-in encoder's product with the row, the
    same under every class, is computed once a row (the label enters as
    extra columns of its first layer; with ``missing="mask"``, once a pair).
    A labelled row visited r times an epoch
    gets its bound and the virtual adversarial term at one in ``min(r, 4)``
    of its visits, and the manifold term, the costliest (three decoder
    passes a row), is computed on a quarter of the rows of a step; each
    drawn at random and weighted by the inverse of its probability, so
    that the expected objective is unchanged. The number of epochs follows the data
    (``max_iter="auto"``); ``benchmarks/bench_semisupervised.py --timing``
    measures the cost.

    Self-training. Once the main phase has trained, each unlabelled
    training row that q(y | x) gives one class with probability at least
    ``self_training`` is labelled with it, and the whole model trains on
    for about a sixth (0.16) as many optimisation steps as the main phase
    took (fewer if its loss stops improving: the validation loss with
    ``early_stopping``, whose best weights over both phases are kept), with
    the same optimiser (under ``max_iter="auto"`` the learning rate's cosine
    starts again from ``learning_rate_init``); the rows still unsure keep
    the unlabelled objective. Rows the classifier is that sure of are
    nearly always labelled right, and as labels they give the decoder and
    the encoder of each class many rows instead of a few: the model then
    explains the unsure rows better under their true class, and the
    classifier, trained on for them, moves its boundaries into the gaps
    between the classes. A few labels fix the classifier's view of the
    hard pairs early, which labelling rows before the main phase has
    ended would lock in; hence a phase after it. The rows are labelled
    afresh at each ``fit`` (never in ``partial_fit``).

    Parameters
    ----------
    n_components : int, default=8
        Dimension of the latent z (the style within a class).
    alpha : float or "auto", default="auto"
        Weight of the classification loss -log q(y | x) on labelled rows,
        relative to the per-row bound, which is measured in nats summed over
        features. Kingma et al. scale it with the data; "auto" is
        ``0.5 * n_features``, which keeps its share of the objective similar
        across data widths.
    label_smoothing : float, default=0.1
        Share of the classification loss's target spread evenly over the
        classes (Szegedy et al. 2016): a labelled row's target is
        ``1 - label_smoothing`` on its class plus ``label_smoothing /
        n_classes`` on each. A few labels, fitted to certainty, fix the
        classifier's boundaries by their quirks before the unlabelled terms
        ramp in; a softer target leaves the unlabelled rows a say. Also
        applies to the rows the self-training phase labels. 0 is the plain
        cross-entropy; must be in [0, 1).
    vat_epsilon : float or "auto", default="auto"
        Radius (Euclidean, in the units of X) of the virtual adversarial
        perturbation; 0 turns virtual adversarial training off. "auto" is
        0.6 times the median distance from a training row to its nearest
        other row (measured on up to 1,000 rows), which follows the scale of
        the data; the radius used is ``module_.vat_epsilon``.
    vat_weight : float, default=3.0
        Weight of the virtual adversarial loss KL(q(y | x) || q(y | x + r)),
        in units of ``alpha``; 0 turns it off.
    entropy_weight : float, default=1.0
        Weight of the entropy of q(y | x) on every row, in units of
        ``alpha``, ramped in over the ``kl_warmup`` epochs; 0 turns it off.
    manifold_vat_epsilon : float, default=1.0
        Radius of the manifold virtual adversarial perturbation, in latent
        units (prior standard deviations, so it needs no rescaling with X);
        0 turns that term off.
    manifold_vat_weight : float, default=1.0
        Weight of the manifold virtual adversarial loss, in units of
        ``alpha``, ramped in over the ``kl_warmup`` epochs; 0 turns it off.
    balance_weight : float, default=8.0
        Weight of the class-balance term KL(p(y) || mean of q(y | x) over the
        batch), in units of ``alpha``, ramped in over the ``kl_warmup``
        epochs: p(y) is the class share among the labelled rows, and the
        term keeps the classifier from handing one class's rows to another.
        Half of a batch is labelled rows, whose predictions already follow
        p(y), which dilutes the term; hence a weight above 1. The class
        shares of a few labels are a rough estimate, so the weight applies
        from 10 labels a class on average, and in proportion below that
        (the weight used is ``module_.balance_weight``, set with p(y) by the
        fit that builds the model and kept by ``warm_start`` and
        ``partial_fit``). 0 turns it off.
    class_coverage : float, default=0.95
        Share of q(y | x) over which an unlabelled row's bound is summed in
        training: the row is decoded under its most probable classes until
        they hold this share, and the bound is averaged over them with
        q(y | x) renormalised (the entropy term keeps every class). Once the
        classifier is confident most rows need one or two classes instead
        of all, the bulk of an epoch's work; 1.0 sums over every class
        (the exact M2 objective). Must be in (0, 1].
    self_training : float or None, default=0.99
        Confidence of the self-training phase (see "Self-training" above):
        after the main phase, the unlabelled training rows whose most
        probable class has at least this probability under q(y | x) are
        labelled with it, and the model trains on for about a sixth of the
        main phase's optimisation steps (those it was planned, where it ended
        as its predictions settled, see ``max_iter``). None skips the phase,
        as do a fit in which no unlabelled row (of positive weight) is that
        sure and a main phase that a callback stopped. Must be in (0, 1).
    beta : float, default=1.0
        Weight of the KL term; ``beta > 1`` is the beta-VAE of Higgins et al.
    hidden_layer_sizes : array-like of int, default=(256, 128)
        Widths of the hidden layers of the classifier and the encoder; the
        decoder mirrors them.
    input_shape : tuple of int or None, default=None
        (C, H, W) of images passed as flattened rows. The classifier, encoder
        and decoder are then convolutional, ``hidden_layer_sizes`` giving the
        channels of their stride-2 layers (each halves the image), e.g.
        ``(32, 64)``. The one-hot label joins the encoder's convolutional
        features at its linear layer, and the code at the decoder's input.
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
    min_variance : float, default=1e-3
        Floor of the Gaussian likelihood's variance, relative to the mean
        variance of the training features (so it follows the data's scale).
        Constant features would otherwise drive the likelihood to infinity; a
        larger floor makes ``score_samples`` less sensitive to features that
        barely vary.
    kl_warmup : int, default=30
        Epochs over which the KL weight grows linearly from 0 to ``beta``
        (a remedy for posterior collapse), and over which the unlabelled
        term and the classifier's entropy, manifold and balance terms are
        ramped in. 0 disables the warm-up. With ``kl_schedule="cyclical"`` it
        is the period of the KL weight's cycles, with "capacity" the epochs
        over which the capacity grows; the other terms ramp in once. With
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
    batch_size : int or "auto", default="auto"
        Rows per optimisation step; "auto" is ``min(200, n_samples)``.
    learning_rate_init : float, default=2e-3
        Adam's learning rate, twice other families' default, for the
        short budget of ``max_iter="auto"``; under "auto" it is the first
        epoch's, and decays along a cosine to 0 over the epochs chosen
        (each epoch's is the history's ``"lr"``), then again over those of
        the self-training phase, unless ``callbacks`` hold an
        :class:`~skvae.callbacks.LRScheduler`.
    max_iter : int or "auto", default="auto"
        Maximum number of epochs (an epoch covers every unlabelled row and
        about as many labelled ones). "auto" picks them from the number of
        training rows: the epochs that give about 2,400 optimisation steps,
        within 10 and 100, and at most 130 visits a training row on
        average (epochs times an epoch's rows at most 130 times the
        training rows: about 65 epochs where half the rows of an epoch are
        labelled visits), so that larger data gets fewer epochs and the cost per row
        is bounded on small data (see the user guide, "Training budgets");
        ``max_iter_`` is the number chosen, over which the learning rate
        decays (see ``learning_rate_init``); once it is below 5% of its
        start, the main phase ends after the first epoch over which at most
        0.1% of the unlabelled rows changed their predicted class (the last
        epochs would move the weights less still; the self-training phase
        keeps the length the full main phase gives it). 0 initialises the
        model without training. ``max_iter`` bounds the main phase; the self-training
        phase (see ``self_training``) adds its epochs.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows and stop when the
        validation loss stops improving; the best weights are restored.
    validation_fraction : float, default=0.1
        Share of rows held out when ``early_stopping=True``: of the
        unlabelled rows and of each class's labelled rows, rounded down, so
        that every class keeps its labels in training (a class of fewer than
        ``1 / validation_fraction`` labels keeps them all).
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
        Your own networks in place of the built-in encoder and decoder (the
        classifier q(y | x) stays built-in). The encoder maps rows with the
        one-hot label appended ``(batch, n_features + n_classes)`` to
        features and the decoder maps codes with the one-hot label appended
        ``(batch, n_components + n_classes)`` to features; skvae adds the
        linear layer to what the model needs (a class that takes an
        ``n_outputs`` argument is asked for exactly that width instead; one
        that takes ``n_inputs`` is given its input width). A class is built
        at each fit with the parameters routed to it, skorch-style:
        ``encoder__hidden=64`` passes ``hidden=64``, so ``GridSearchCV`` can
        search them and ``clone`` keeps them. An instance is deep-copied
        (never trained in place). They replace ``hidden_layer_sizes``,
        ``activation`` and ``input_shape`` for their role.
    **kwargs
        ``encoder__<name>`` and ``decoder__<name>``: parameters of the
        network classes.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels of the labelled rows.
    class_prior_ : ndarray of shape (n_classes,)
        Their frequencies among the labelled rows, weighted by
        ``sample_weight``: the generative model's p(y) (``class_count_``
        over its sum).
    class_count_ : ndarray of shape (n_classes,)
        The (weighted) number of labelled rows of each class trained on
        since the model was initialised: a ``fit``'s, plus those of later
        ``partial_fit`` chunks and ``warm_start`` fits (the weights of each
        call scaled to a mean of 1, so that its rows count as that many);
        each class starts at 1 when the first ``partial_fit`` was given
        ``classes``.
    module_ : SemiSupervisedVAEModule
        The trained network.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when X has string names.
    device_ : str
        The device the model is on: where it was trained ("cpu", "cuda:0",
        "mps"), or where it was loaded or unpickled.
    n_iter_ : int
        Number of epochs trained, those of the self-training phase included.
    max_iter_ : int
        The epochs the last ``fit``'s main phase could train: ``max_iter``,
        or the number that "auto" chose.
    n_pseudo_labels_ : int
        Unlabelled rows the last ``fit`` labelled for its self-training
        phase (0 without the phase).
    history_ : list of dict
        One record per epoch; ``classification`` is the mean cross-entropy
        on labelled rows.
    loss_curve_ : list of float
        Training loss of each epoch.
    best_loss_ : float
        Best (validation, else training) loss.

    See Also
    --------
    sklearn.semi_supervised.SelfTrainingClassifier : Another semi-supervised
        meta-estimator with the same ``-1`` convention.
    skvae.ConditionalVAE : Labels for every row, no classifier.

    References
    ----------
    .. [1] D. P. Kingma, D. J. Rezende, S. Mohamed and M. Welling,
       "Semi-Supervised Learning with Deep Generative Models", NeurIPS 2014.
    .. [2] T. Miyato, S. Maeda, M. Koyama and S. Ishii, "Virtual Adversarial
       Training: A Regularization Method for Supervised and Semi-Supervised
       Learning", IEEE TPAMI 2018.
    .. [3] Y. Grandvalet and Y. Bengio, "Semi-supervised Learning by Entropy
       Minimization", NeurIPS 2004.
    .. [4] B. Yu, J. Wu, J. Ma and Z. Zhu, "Tangent-Normal Adversarial
       Regularization for Semi-supervised Learning", CVPR 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import SemiSupervisedVAE
    >>> rng = np.random.RandomState(0)
    >>> X = np.r_[rng.normal(-2, 1, (30, 4)), rng.normal(2, 1, (30, 4))]
    >>> y = np.repeat([0, 1], 30)
    >>> y_partial = np.where(rng.uniform(size=60) < 0.8, -1, y)
    >>> clf = SemiSupervisedVAE(n_components=2, kl_warmup=10, max_iter=60,
    ...                         random_state=0)
    >>> clf.fit(X, y_partial).score(X, y) > 0.9
    True
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    """

    #: ``max_iter="auto"``: about 2,400 steps, within 10 and 100 epochs. An
    #: M2 step costs several VAE steps (the likely classes of each unlabelled
    #: row, two adversarial probes); the rows of an epoch include the labelled
    #: rows' repeated visits.
    _auto_steps = 2400
    # its accuracy always took weights: routed ones must be asked for or not
    __metadata_request__score = {"sample_weight": None}
    _auto_epochs = (10, 100)
    #: ... and at most this many visits a training row on average (labelled
    #: rows' repeats included): small data's epochs bounded by the cost per row.
    _auto_row_visits = 130

    _network_params = (
        *BaseVAE._network_params,
        "alpha",
        "label_smoothing",
        "vat_epsilon",
        "vat_weight",
        "entropy_weight",
        "manifold_vat_epsilon",
        "manifold_vat_weight",
        "balance_weight",
        "class_coverage",
    )
    _parameter_constraints = {
        **BaseVAE._parameter_constraints,
        **KL_PARAMS,
        **SCORING_PARAMS,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "input_shape": ["array-like", None],
        "alpha": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "vat_epsilon": [
            Interval(Real, 0, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "vat_weight": [Interval(Real, 0, None, closed="left")],
        "entropy_weight": [Interval(Real, 0, None, closed="left")],
        "manifold_vat_epsilon": [Interval(Real, 0, None, closed="left")],
        "manifold_vat_weight": [Interval(Real, 0, None, closed="left")],
        "balance_weight": [Interval(Real, 0, None, closed="left")],
        "class_coverage": [Interval(Real, 0, 1, closed="right")],
        "self_training": [Interval(Real, 0, 1, closed="neither"), None],
    }

    def __init__(
        self,
        n_components=8,
        *,
        alpha="auto",
        label_smoothing=0.1,
        vat_epsilon="auto",
        vat_weight=3.0,
        entropy_weight=1.0,
        manifold_vat_epsilon=1.0,
        manifold_vat_weight=1.0,
        balance_weight=8.0,
        class_coverage=0.95,
        self_training=0.99,
        beta=1.0,
        hidden_layer_sizes=(256, 128),
        input_shape=None,
        activation="relu",
        likelihood="gaussian",
        min_variance=1e-3,
        kl_warmup=30,
        kl_schedule="linear",
        max_capacity=25.0,
        free_bits=0.0,
        batch_size="auto",
        learning_rate_init=2e-3,
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
        self.alpha = alpha
        self.label_smoothing = label_smoothing
        self.vat_epsilon = vat_epsilon
        self.vat_weight = vat_weight
        self.entropy_weight = entropy_weight
        self.manifold_vat_epsilon = manifold_vat_epsilon
        self.manifold_vat_weight = manifold_vat_weight
        self.balance_weight = balance_weight
        self.class_coverage = class_coverage
        self.self_training = self_training
        self.beta = beta
        self.input_shape = input_shape
        self.kl_warmup = kl_warmup
        self.kl_schedule = kl_schedule
        self.max_capacity = max_capacity
        self.free_bits = free_bits
        self.n_importance_samples = n_importance_samples

    # -------------------------------------------------------------- training
    def _kl_schedule(self) -> KLSchedule:
        return kl_schedule_of(self)

    def _n_score_draws(self) -> int:
        return self.n_importance_samples

    def _callbacks(self) -> list[Callback]:
        from skvae.callbacks import LRScheduler

        callbacks = super()._callbacks()
        # "auto" knows its epochs in advance: the learning rate decays over
        # them (a user's scheduler takes its place). The cosine first, so that
        # a user's callback sees (and may set) the epoch's rate, and loggers
        # its "lr"
        if self.max_iter == "auto" and not any(
            isinstance(c, LRScheduler) for c in callbacks
        ):
            callbacks = [_CosineLearningRate(self.learning_rate_init), *callbacks]
            if _PHASE.get(self) is not None:  # a fit's main phase; last, so
                # that a user's stop at the same epoch stays a stop
                callbacks.append(_SettledPredictions(self, self.learning_rate_init))
        return callbacks

    def _sample_weight_refusal(self) -> str | None:
        if self.balance_weight > 0:
            return (
                "balance_weight > 0 compares the class prior with the batch's "
                "mean prediction; set balance_weight=0"
            )
        return super()._sample_weight_refusal()

    def _check_params(self, X: np.ndarray) -> None:
        super()._check_params(X)
        check_input_shape(self.input_shape, X.shape[1])
        if distributed_world() is not None:
            # each rank's noise is drawn for its share of the batch's rows,
            # while the bound sums over (row, class) pairs and the
            # adversarial terms over subsets of the rows: not yet shared out
            raise NotImplementedError(
                "SemiSupervisedVAE does not train under torch.distributed yet; "
                "run it in one process (SKVAE_DISTRIBUTED=0 turns the "
                "detection of a torchrun launch off)."
            )

    def _training_arrays(
        self, X: np.ndarray, y: Any, reset: bool, classes: Any = None
    ) -> list[np.ndarray]:
        # The mark comes first: -1 among string labels (in an object array,
        # as scikit-learn's semi-supervised estimators take them) is no label.
        y = self._label_column(y, X.shape[0])
        unlabelled = _unlabelled_mask(y)
        if reset and classes is None and not (~unlabelled).any():
            # (partial_fit with classes may begin on unlabelled rows)
            raise ValueError(
                "SemiSupervisedVAE needs at least one labelled row; every label "
                "is -1 (unlabelled)."
            )
        labels = check_labels(
            y[~unlabelled], unlabelled_mark=True, rows=np.flatnonzero(~unlabelled)
        )
        if classes is not None:  # -1 marks rows, it is not a class
            classes = column_or_1d(np.asarray(classes, dtype=object))
            classes = check_labels(
                classes[~_unlabelled_mask(classes)], unlabelled_mark=True
            )
        if reset:
            # a classifier of one class says nothing: the other classes'
            # rows would all be given it, with probability 1
            found = np.unique(labels if classes is None else classes)
            if found.size < 2:
                how = (
                    "label rows of at least two classes"
                    if classes is None
                    else "list every class in classes"
                )
                raise ValueError(
                    "SemiSupervisedVAE needs at least two classes, got only "
                    f"{found.tolist()}: {how}."
                )
        self._learn_labels(labels, reset, classes, rows=~unlabelled)
        # the balance term's weight follows the labels p(y) was learnt from:
        # set with a fresh model, kept by later calls (warm_start, partial_fit);
        # _split takes the flag back (a fit's own state, never saved)
        self._balance_reset = reset
        codes = np.full(X.shape[0], -1, dtype=np.int64)
        codes[~unlabelled] = self._codes(labels)
        return [X, codes]

    def _stream_classes(self, y: np.ndarray) -> Any:
        y = self._label_column(y, len(y))
        labelled = ~_unlabelled_mask(y)
        if not labelled.any():  # the first block refuses it, as fit does
            return None
        rows = np.flatnonzero(labelled)
        return unique_labels(check_labels(y[rows], unlabelled_mark=True, rows=rows))

    def _alpha(self, n_features: int) -> float:
        return 0.5 * n_features if self.alpha == "auto" else float(self.alpha)

    def _build_module(
        self, X: np.ndarray, likelihood: Likelihood
    ) -> SemiSupervisedVAEModule:
        return SemiSupervisedVAEModule(
            X.shape[1],
            len(self.classes_),
            self.n_components,
            self._hidden_sizes(),
            self.activation,
            likelihood,
            torch.as_tensor(np.log(self.class_prior_), dtype=torch.float32),
            alpha=self._alpha(X.shape[1]),
            label_smoothing=self.label_smoothing,
            input_shape=check_input_shape(self.input_shape, X.shape[1]),
            encoder=self._network_spec("encoder"),
            decoder=self._network_spec("decoder"),
            vat_epsilon=self._vat_epsilon(X),
            vat_weight=self.vat_weight,
            entropy_weight=self.entropy_weight,
            manifold_vat_epsilon=self.manifold_vat_epsilon,
            manifold_vat_weight=self.manifold_vat_weight,
            balance_weight=self.balance_weight,
            class_coverage=self.class_coverage,
        )

    def _ignored_params(self) -> dict[str, str]:
        ignored = super()._ignored_params()
        ignored.pop("kl_warmup", None)  # it ramps the classifier's terms too
        for radius, weight, what in (
            ("vat_epsilon", "vat_weight", "virtual adversarial term"),
            ("manifold_vat_epsilon", "manifold_vat_weight", "manifold term"),
        ):
            size, scale = getattr(self, radius), getattr(self, weight)
            if scale == 0:
                ignored[radius] = f"with {weight}=0 (it is the {what}'s radius)"
            elif not isinstance(size, str) and size == 0:
                ignored[weight] = f"with {radius}=0 (the {what} moves no row)"
        return ignored

    def _has_hidden_layers(self) -> bool:
        if super()._has_hidden_layers():
            return True
        try:  # the classifier q(y | x) is built-in with user networks too
            return bool(self._hidden_sizes())
        except (TypeError, ValueError):  # fit's checks say what is wrong
            return True

    def _vat_epsilon(self, X: np.ndarray) -> float:
        """The perturbation radius: ``vat_epsilon``, or "auto"'s rule.

        "auto" takes a share of the median distance from a row to its
        nearest other row, so that the radius follows the scale of X; the
        rows measured are drawn from the fit's noise stream.
        """
        if self.vat_epsilon != "auto":
            return float(self.vat_epsilon)
        rng = make_rng(self._seed, Stream.NOISE)
        return _AUTO_VAT_SHARE * _median_neighbour_distance(X, rng)

    def _epoch_budget(self, n_train: int, batch_size: int) -> int:
        """``max_iter``, or "auto"'s epochs: the step plan, visits capped.

        ``n_train`` counts the rows of an epoch (the labelled rows'
        repeats included). The step plan (about ``_auto_steps`` steps
        within ``_auto_epochs``) gives small data many epochs; the main
        phase then makes at most ``_auto_row_visits`` visits a training
        row on average (epochs x ``n_train`` <= visits x training rows), so
        that its cost per row is bounded.
        """
        epochs = super()._epoch_budget(n_train, batch_size)
        phase = _PHASE.get(self)
        if self.max_iter != "auto" or phase is None:
            return epochs
        cap = self._auto_row_visits * phase.n_rows // n_train
        return min(epochs, max(self._auto_epochs[0], cap))

    def _split_strata(self, arrays: list[Any]) -> np.ndarray:
        return split_strata(np.asarray(arrays[1]), arrays)  # (-1: unlabelled)

    def _split(self, arrays, *, early_stopping):
        train, valid = super()._split(arrays, early_stopping=early_stopping)
        self.n_pseudo_labels_ = 0  # until a self-training phase labels rows
        n_labelled = int((train[1] >= 0).sum())
        # The class shares of a few labels are a rough target: the balance
        # term reaches its weight at _FULL_BALANCE_LABELS labels a class.
        if vars(self).pop("_balance_reset"):
            full = _FULL_BALANCE_LABELS * self.module_.n_classes
            share = min(1.0, n_labelled / full)
            self.module_.balance_weight = self.balance_weight * share
        repeated = self._repeat_labelled(train, _MAX_SKIPPED_VISITS)
        # The self-training phase relabels the rows (the first n of the
        # repeated ones: see _self_train). Kept outside the estimator's
        # attributes, which a checkpoint saves during the fit.
        # (copies of the lists: the caller takes the weights off its own)
        _PHASE[self] = _Phase(
            list(repeated),
            train[0].shape[0],
            None if valid is None else list(valid),
            len(self.history_),
        )
        return repeated, valid

    def _repeat_labelled(self, train, max_skipped):
        """The rows of an epoch: each labelled row repeated to about half of them.

        A labelled row seen r times an epoch needs its bound and adversarial
        terms only at some of its visits: at one in ``min(r, max_skipped)``.
        The rows come first, in their order, then the repeats.
        """
        codes = train[1]
        labelled = torch.nonzero(codes >= 0)[:, 0]
        n_labelled, n_unlabelled = labelled.numel(), codes.numel() - labelled.numel()
        repeats = n_unlabelled // max(n_labelled, 1)
        self.module_.labelled_share = 1.0 / min(max(repeats, 1), max_skipped)
        if n_labelled and repeats > 1:
            extra = labelled.repeat(repeats - 1)
            index = torch.cat([torch.arange(codes.numel(), device=codes.device), extra])
            train = [take_rows(t, index) for t in train]  # sparse rows stay sparse
        return train

    def _fit(self, X, y, *, incremental, classes=None, sample_weight=None):
        try:
            return super()._fit(
                X,
                y,
                incremental=incremental,
                classes=classes,
                sample_weight=sample_weight,
            )
        finally:
            _PHASE.pop(self, None)  # a fit's own state

    def _warn_after_fit(self, result: Any, incremental: bool) -> None:
        super()._warn_after_fit(result, incremental)
        phase = _PHASE.get(self)
        if phase is not None:  # a callback that stopped training: no phase
            # settled only where that ended the phase, not a convergence
            phase.settled = phase.settled and result.stopped
            stopped = result.stopped and not phase.settled
            phase.stopped = bool(stopped or result.interrupted)

    def _after_fit(self, X: np.ndarray, incremental: bool) -> None:
        super()._after_fit(X, incremental)
        phase = _PHASE.pop(self, None)
        if incremental or phase is None or phase.stopped or self.self_training is None:
            return
        train = phase.train
        if train[0].shape[0] > phase.n_rows:  # without the labelled rows' repeats
            index = torch.arange(phase.n_rows, device=train[1].device)
            train = [take_rows(t, index) for t in train]
        # a main phase ended by settled predictions: the phase as planned
        n_epochs = len(self.history_) - phase.epochs_before
        if phase.settled:
            n_epochs = max(n_epochs, self.max_iter_)
        self._self_train(train, phase.valid, n_epochs)

    def _self_train(self, train, valid, n_epochs):
        """The self-training phase: sure unlabelled rows labelled, more epochs.

        Each unlabelled training row (of positive weight) that q(y | x)
        gives a class with probability at least ``self_training`` is
        labelled so, and the model trains on for about
        ``_SELF_TRAINING_SHARE`` of the steps the main phase took
        (``n_epochs`` epochs of its rows), with the same optimiser and the
        learning rate's schedule restarted. With a validation split, the
        weights with the lowest validation loss over both phases are kept.
        """
        codes = train[1]
        weighted = len(train) > 2
        candidates = codes < 0
        if weighted:
            candidates &= train[2] > 0  # a row of weight 0 is as if absent
        unlabelled = torch.nonzero(candidates)[:, 0]
        if n_epochs < 1 or unlabelled.numel() == 0:
            return
        log_q = self._map_batches(
            self.module_.class_log_proba, take_rows(train[0], unlabelled), np.float32
        )
        sure = np.flatnonzero(log_q.max(axis=1) >= np.log(self.self_training))
        codes = codes.clone()
        sure_rows = unlabelled[torch.as_tensor(sure, device=codes.device)]
        codes[sure_rows] = torch.as_tensor(
            log_q[sure].argmax(axis=1), dtype=codes.dtype, device=codes.device
        )
        n_sure = int((codes >= 0).sum()) - int((train[1] >= 0).sum())
        self.n_pseudo_labels_ = n_sure
        if not n_sure:
            return
        n_rows, n_labelled = codes.numel(), int((train[1] >= 0).sum())
        repeats = (n_rows - n_labelled) // max(n_labelled, 1)
        main_rows = n_rows + (n_labelled * (repeats - 1) if repeats > 1 else 0)
        phase = self._repeat_labelled([train[0], codes, *train[2:]], 1)
        weights = self._split_weights(phase, valid, weighted)
        # the main phase's batch size (that of all the rows, split included)
        n_all = n_rows + (0 if valid is None else valid[0].shape[0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the main phase warned
            batch_size = min(self._batch_size(n_all), phase[0].shape[0])
        main_steps = n_epochs * math.ceil(main_rows / batch_size)
        steps_per_epoch = math.ceil(phase[0].shape[0] / batch_size)
        epochs = max(1, round(_SELF_TRAINING_SHARE * main_steps / steps_per_epoch))
        best = None
        if valid is not None:  # the main phase's best, unless the phase beats it
            best = {k: v.detach().clone() for k, v in self.module_.state_dict().items()}
        # the phase's lines under a header of their own
        detail = (
            f", {n_sure} unlabelled rows labelled (q(y | x) >= {self.self_training:g})"
        )
        callbacks = [
            _FitReport(c.verbose, c.print_fn, phase="self-training", detail=detail)
            if type(c) is _FitReport
            else c
            for c in self._callbacks()
            if not isinstance(c, _SettledPredictions)
        ]
        trainer = self._make_trainer(
            self._get_optimizer(), batch_size, callbacks=callbacks
        )
        try:
            result = trainer.fit(
                phase,
                valid,
                history=self.history_,
                max_epochs=epochs,
                n_iter_no_change=self.n_iter_no_change,
                tol=self.tol,
                weights=weights,
            )
        finally:
            self._record_progress()
        if best is not None:
            if result.best_loss < self.best_loss_:
                self.best_loss_ = result.best_loss
            elif math.isfinite(self.best_loss_):
                self.module_.load_state_dict(best)
            # (no epoch of either phase compared, all in the KL warm-up: the
            # last weights stand, as the main phase's own warning says)

    def _summarize_epoch(self, means: dict[str, torch.Tensor]) -> dict[str, Any]:
        record = super()._summarize_epoch(means)
        share = record.pop("labelled", 0.0)
        if share > 0:
            record["classification"] = record["classification"] / share
        return record

    def fit(self, X, y=None, sample_weight=None):
        """Fit the model; rows with ``y == -1`` are unlabelled.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Labels, with -1 for unlabelled rows. String labels take the
            mark as scikit-learn's ``SelfTrainingClassifier`` does, the
            integer -1 in an object array, or as the string ``"-1"``. Labels
            of mixed types and missing values (``None``, NaN) are refused.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows, as in :meth:`skvae.VAE.fit`.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return super().fit(X, y, sample_weight=sample_weight)

    # ------------------------------------------------------------ prediction
    def predict_proba(self, X):
        """Class probabilities q(y | x) of the classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns in the order of ``classes_``.
        """
        return np.exp(self.predict_log_proba(X))

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities.
        """
        check_is_fitted(self)
        X = self._validate_X(X)
        return self._map_batches(self.module_.class_log_proba, X, X.dtype)

    def predict(self, X):
        """The most probable class of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted labels.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X, y, sample_weight=None):
        """Accuracy on the labelled rows of (X, y): rows marked -1 are left out.

        A row without a label can be neither right nor wrong, so semi-supervised
        labels (as ``fit`` takes them) score the labelled rows only, also in
        ``cross_val_score`` and ``GridSearchCV``. (scikit-learn's
        ``LabelSpreading`` and ``SelfTrainingClassifier`` count such rows as
        errors.)

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.
        y : array-like of shape (n_samples,)
            Their labels, -1 (or ``"-1"``) for a row without one.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows.

        Returns
        -------
        score : float
            The share of the labelled rows classified right (weighted).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_iris
        >>> from skvae import SemiSupervisedVAE
        >>> X, y = load_iris(return_X_y=True)
        >>> y_semi = np.where(np.arange(150) % 5 == 0, y, -1)
        >>> model = SemiSupervisedVAE(max_iter=5, random_state=0).fit(X, y_semi)
        >>> 0.0 <= model.score(X, y_semi) <= 1.0
        True
        """
        from sklearn.metrics import accuracy_score
        from sklearn.utils import _safe_indexing

        labels = self._label_column(y, _num_samples(X))
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, labels)
        rows = np.flatnonzero(~_unlabelled_mask(labels))
        if rows.size == 0:
            raise ValueError(
                "Every row of y is marked unlabelled (-1): score needs labelled rows."
            )
        # read as fit reads them: numbers or booleans in an object array (how
        # -1 is marked among booleans) as such, a missing label named
        truth = check_labels(labels[rows], unlabelled_mark=True, rows=rows)
        weight = None if sample_weight is None else sample_weight[rows]
        predicted = self.predict(_safe_indexing(X, rows))
        return float(accuracy_score(truth, predicted, sample_weight=weight))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags


class _CosineLearningRate(Callback):
    """The learning rate of each epoch of a fit: a cosine from ``lr`` to 0.

    Epoch ``e`` of the ``E`` a fit may train (counted from the fit's first)
    runs at ``lr * (1 + cos(pi * e / E)) / 2``, recorded as the history's
    ``"lr"``; ``lr`` comes back at the end of the fit, so that a later fit
    (``warm_start``, ``partial_fit``) starts from it.
    """

    def __init__(self, lr: float) -> None:
        self.lr = float(lr)

    def _set(self, trainer: Any, lr: float) -> None:
        for group in trainer.optimizer.param_groups:
            group["lr"] = lr

    def on_epoch_begin(self, trainer: Any, **kwargs: Any) -> None:
        if trainer.phase != "train":
            return
        progress = (kwargs["epoch"] - trainer.start_epoch) / max(trainer.n_epochs, 1)
        self._set(trainer, self.lr * (1.0 + math.cos(math.pi * progress)) / 2)

    def on_epoch_end(self, trainer: Any, **kwargs: Any) -> None:
        if trainer.phase == "train":
            kwargs["record"]["lr"] = float(trainer.optimizer.param_groups[0]["lr"])

    def on_train_end(self, trainer: Any, **kwargs: Any) -> None:
        if trainer.phase == "train":
            self._set(trainer, self.lr)


class _SettledPredictions(Callback):
    """Ends a main phase whose predictions have settled under a low rate.

    Once the cosine's learning rate is below ``_SETTLED_LR`` of its start,
    the unlabelled training rows are classified after each epoch; when at
    most ``_SETTLED_CHANGE`` of them changed class over the epoch, the last
    epochs, which would move the weights by less still, are skipped (the
    self-training phase keeps the length the full phase would give it).
    """

    def __init__(self, model: SemiSupervisedVAE, lr: float) -> None:
        self.model = weakref.ref(model)
        self.lr = float(lr)
        self.previous = None

    def on_epoch_end(self, trainer: Any, **kwargs: Any) -> None:
        model = self.model()
        phase = None if model is None else _PHASE.get(model)
        if trainer.phase != "train" or phase is None or trainer.should_stop:
            return  # a user's callback that stops first: its stop, no phase
        if trainer.optimizer.param_groups[0]["lr"] > _SETTLED_LR * self.lr:
            return
        rows = phase.train[1][: phase.n_rows] < 0
        if len(phase.train) > 2:
            rows &= phase.train[2][: phase.n_rows] > 0
        rows = torch.nonzero(rows)[:, 0]
        if rows.numel() == 0:
            return
        log_q = model._map_batches(
            model.module_.class_log_proba, take_rows(phase.train[0], rows), np.float32
        )
        labels = log_q.argmax(axis=1)
        previous, self.previous = self.previous, labels
        if previous is None:
            return
        if np.mean(labels != previous) <= _SETTLED_CHANGE:
            phase.settled = trainer.should_stop = True
            trainer.stop_reason = "its predictions settled"


def _median_neighbour_distance(
    X: np.ndarray, rng: np.random.Generator, n_queries: int = _NEIGHBOUR_QUERIES
) -> float:
    """Median Euclidean distance from a row to its nearest other row.

    Measured for up to ``n_queries`` rows drawn with ``rng``, against every
    row; rows that duplicate their neighbour (distance 0) are left out, and
    0 is returned when every row has a duplicate.
    """
    if X.shape[0] < 2:
        return 0.0
    queries = X[rng.choice(X.shape[0], min(n_queries, X.shape[0]), replace=False)]
    dist, _ = NearestNeighbors(n_neighbors=2).fit(X).kneighbors(queries)
    nearest = dist[:, 1][dist[:, 1] > 0]
    return float(np.median(nearest)) if nearest.size else 0.0


def _unlabelled_mask(y: np.ndarray) -> np.ndarray:
    """Rows marked unlabelled: -1, as sklearn's semi-supervised estimators use.

    The mark is the number -1 (in a numeric or an object array) or the
    string ``"-1"``; nothing else (``True``, ``"-1.0"``) is taken for it.
    """
    if y.dtype.kind in "iuf":
        return y == -1
    if y.dtype.kind == "U":
        return y == "-1"
    if y.dtype.kind == "S":
        return y == b"-1"
    if y.dtype.kind != "O":
        return np.zeros(y.shape, dtype=bool)
    return np.fromiter((_is_mark(v) for v in y), dtype=bool, count=y.size)


def _is_mark(value: Any) -> bool:
    """Whether one label of an object array is the unlabelled mark -1."""
    if isinstance(value, str):
        return value == "-1"
    if isinstance(value, bytes):
        return value == b"-1"
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, Real):
        return bool(value == -1)
    return False
