"""The tabular synthesis recipe: a VAE configured for synthetic tables.

:func:`tabular_synthesizer` returns a :class:`~skvae.VAE` (a
:class:`~skvae.ConditionalVAE` when the rows have a class) set up for a
table: every number column is a ``"quantile"`` column (scaled inside the
model by its training marginal, decoded back inside the range seen) but
those of a few values (categorical), the other columns typed by their
dtypes, and a training length set by the number of rows. Fit it on the
table and draw rows with ``sample(n, noise=True)``.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

from skvae._data import epochs_for_steps
from skvae._frames import _kind, is_frame

#: Optimisation steps per training row, and the fewest and most steps.
STEPS_PER_ROW = 2
STEP_BOUNDS = (400, 1500)
#: Fewest and most epochs of the recipe.
EPOCH_BOUNDS = (30, 300)
#: A number column of at most this many distinct values, each seen on
#: average at least ``DISCRETE_MIN_COUNT`` times, is categorical.
DISCRETE_MAX_VALUES = 10
DISCRETE_MIN_COUNT = 5


def tabular_synthesizer(
    X: Any, y: Any = None, *, random_state: Any = None, **params: Any
) -> Any:
    """The tabular synthesis recipe: a VAE configured for the table ``X``.

    Every float or integer column of ``X`` (a pandas DataFrame) is modelled
    as a ``"quantile"`` column: mapped through its training marginal to
    normal scores, Gaussian on that scale, and mapped back on decoding, so
    that skewed, heavy-tailed, multimodal or zero-inflated columns and
    columns of any scale are learnt alike and the drawn values stay inside
    the range seen in ``fit`` (integer columns rounded). A number column of
    at most 10 distinct values, each seen 5 times on average (a 0/1 flag, a
    rating, a count of children), is categorical instead, drawn among its
    own values with their shares, in its dtype: as a quantile column each
    value would be one point on the normal scale, and a 0/1 flag with 20%
    ones came back with 11%. Category, string and boolean columns get
    categorical and Bernoulli likelihoods. The batch size is an eighth of the rows
    (between 16 and 128) and the epochs give about two optimisation steps
    per row, 400 to 1,500 steps within 30 to 300 epochs (so a table of more
    than about 6,400 rows takes its 30 epochs, more steps), stopping
    earlier when the training loss has not improved for 50 epochs after
    the KL warm-up (a budget of over 60 epochs: tables of up to about
    3,000 rows; larger ones train their whole budget); the rule depends on
    the number of rows only, and the learning rate is ``2e-3``. A table
    with missing values (NaN, None, ``pd.NA``) is fitted on its observed
    entries (``missing="mask"``); the rows drawn have none.

    Draw synthetic rows with ``sample(n, noise=True)`` after ``fit(X)``
    (``fit(X, y)`` and ``sample(n, y=..., noise=True)`` for rows of a chosen
    class, with ``y`` given here).

    Parameters
    ----------
    X : pandas.DataFrame
        The table to synthesise (read to name its number columns and to
        find its holes; not fitted here).
    y : array-like of shape (n_samples,), default=None
        Class labels: a :class:`~skvae.ConditionalVAE` is returned, which
        draws rows of a chosen class.
    random_state : int, RandomState instance or None, default=None
        The model's ``random_state``.
    **params
        Other parameters of the model, which override the recipe's (for
        example ``likelihood`` or ``max_iter``).

    Returns
    -------
    VAE or ConditionalVAE
        An unfitted model.

    Raises
    ------
    TypeError
        Where ``X`` is not a DataFrame.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.datasets import load_iris
    >>> table = load_iris(as_frame=True).frame.drop(columns="target")
    >>> synth = tabular_synthesizer(table, random_state=0, max_iter=5)
    >>> synth.likelihood["quantile"][:2]
    ['sepal length (cm)', 'sepal width (cm)']
    >>> rows = synth.fit(table).sample(4, random_state=0, noise=True)
    >>> rows.shape, bool(rows.ge(table.min()).all().all())
    ((4, 4), True)
    """
    if not is_frame(X):
        raise TypeError(
            "tabular_synthesizer configures a model for a pandas DataFrame; got "
            f"{type(X).__name__}. For an array, use VAE and sample(n, noise=True)."
        )
    # columns by name where names are strings, else by position (an integer
    # label would be read as a position)
    named = all(isinstance(name, str) for name in X.columns)
    numbers, discrete = [], []
    for j, (name, dtype) in enumerate(zip(X.columns, X.dtypes, strict=True)):
        if _kind(dtype) not in ("float", "integer"):
            continue
        column = X.iloc[:, j]
        # (a few values first: most number columns show more than 10 there)
        head = column.iloc[:1000].nunique(dropna=True)
        distinct = head if head > DISCRETE_MAX_VALUES else column.nunique(dropna=True)
        seen = int(column.notna().sum())
        few = distinct <= min(DISCRETE_MAX_VALUES, seen / DISCRETE_MIN_COUNT)
        (discrete if few else numbers).append(name if named else j)
    likelihood = {}
    if numbers:
        likelihood["quantile"] = numbers
    if discrete:
        likelihood["categorical"] = discrete
    n_samples = X.shape[0]
    batch_size = int(np.clip(n_samples // 8, 16, 128))
    steps = int(np.clip(STEPS_PER_ROW * n_samples, *STEP_BOUNDS))
    max_iter = epochs_for_steps(steps, n_samples, batch_size, *EPOCH_BOUNDS)
    config = dict(
        likelihood=likelihood or "auto",
        batch_size=batch_size,
        learning_rate_init=2e-3,
        max_iter=max_iter,
        n_iter_no_change=50,
        random_state=random_state,
    )
    if bool(X.isna().to_numpy().any()):
        # a table with holes: trained on its observed entries; the drawn
        # rows are whole
        config["missing"] = "mask"
    config.update(params)
    from skvae.models.conditional import ConditionalVAE
    from skvae.models.vae import VAE

    cls = VAE if y is None else ConditionalVAE
    budget, warmup = config["max_iter"], config.get("kl_warmup", cls().kl_warmup)
    if (
        "n_iter_no_change" not in params
        and isinstance(budget, Integral)
        and isinstance(warmup, Integral)
        and budget <= warmup
    ):  # a budget within the warm-up compares no losses: nothing to set
        del config["n_iter_no_change"]
    return cls(**config)
