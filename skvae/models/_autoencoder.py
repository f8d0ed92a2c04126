"""What the regularised autoencoders (WAE, AdversarialAE) share as estimators.

Both are a :class:`skvae.nn.autoencoder.AutoencoderModule` with a regulariser
that pushes the codes towards N(0, I) as a whole: the parameters of that
autoencoder (:data:`AUTOENCODER_PARAMS`, a group taken whole), its checks and
build arguments, and the meaning of ``score_samples`` for models without a
posterior (:class:`LogJointScoreMixin`).
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np

from skvae._columns import check_likelihood_range
from skvae._sklearn_compat import Interval, StrOptions
from skvae.nn.autoencoder import ENCODER_TYPES
from skvae.nn.conv import check_input_shape
from skvae.nn.likelihoods import Likelihood

__all__ = [
    "AUTOENCODER_PARAMS",
    "LogJointScoreMixin",
    "autoencoder_args",
    "check_autoencoder_params",
]

#: The parameters of a regularised autoencoder: its code, the weight of its
#: regulariser (``beta``), its encoder and its image layout.
AUTOENCODER_PARAMS: dict[str, list[Any]] = {
    "n_components": [Interval(Integral, 1, None, closed="left")],
    "beta": [Interval(Real, 0, None, closed="left")],
    "encoder_type": [StrOptions(set(ENCODER_TYPES))],
    "log_var_penalty": [Interval(Real, 0, None, closed="left")],
    "input_shape": ["array-like", None],
}


def check_autoencoder_params(est: Any, X: np.ndarray) -> None:
    """The data-dependent checks of :data:`AUTOENCODER_PARAMS` and the networks.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import WAE
    >>> check_autoencoder_params(WAE(input_shape=(1, 2, 2)), np.zeros((3, 5)))
    Traceback (most recent call last):
    ...
    ValueError: input_shape=(1, 2, 2) must be (C, H, W) with C * H * W == n_features=5.
    """
    est._hidden_sizes()
    check_input_shape(est.input_shape, X.shape[1])
    check_likelihood_range(est.likelihood, X)


def autoencoder_args(est: Any, X: np.ndarray, likelihood: Likelihood) -> dict[str, Any]:
    """Keyword arguments of :class:`~skvae.nn.autoencoder.AutoencoderModule`.

    For the estimator ``est`` (which takes :data:`AUTOENCODER_PARAMS`), data
    like ``X`` and its observation model ``likelihood``.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import WAE
    >>> from skvae.nn import GaussianLikelihood
    >>> args = autoencoder_args(WAE(n_components=2), np.zeros((3, 5)),
    ...                         GaussianLikelihood(5))
    >>> args["n_components"], args["hidden_layer_sizes"], args["encoder_type"]
    (2, (256, 128), 'deterministic')
    """
    n_features = X.shape[1]
    return dict(
        n_features=n_features,
        n_components=est.n_components,
        hidden_layer_sizes=est._hidden_sizes(),
        activation=est.activation,
        likelihood=likelihood,
        input_shape=check_input_shape(est.input_shape, n_features),
        encoder_type=est.encoder_type,
        log_var_penalty=est.log_var_penalty,
        encoder=est._network_spec("encoder"),
        decoder=est._network_spec("decoder"),
    )


class LogJointScoreMixin:
    """``score_samples`` of a model without a posterior: the log-joint at the code.

    Placed before :class:`skvae.BaseVAE` among the bases, it documents what
    the score of WAE-like models is; the rows are scored as every skvae
    model scores them (``BaseVAE.score_samples``, one draw per row, which
    these modules do not use).

    Examples
    --------
    >>> from skvae import WAE
    >>> issubclass(WAE, LogJointScoreMixin)
    True
    """

    def score_samples(self, X):
        """Log-joint at the code, log p(x | z) + log p(z), per row (higher = typical).

        z is the code of the row (:meth:`transform`), p(x | z) the decoder's
        likelihood and p(z) the N(0, I) prior: a row scores high when it is
        well reconstructed from a code where the prior puts mass. It is not
        a bound on log p(x) (these models have no posterior to bound it
        with), but a deterministic, row-independent typicality score in
        nats, fit for ranking rows (outlier detection) and for ``score``
        between models of one latent size. Its prior term falls by about
        ``log(2 pi e) / 2`` nats per latent dimension, so a search over
        ``n_components`` by this score prefers the fewest dimensions: choose
        them by held-out reconstruction or by the codes' task instead.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Per-row log-joint densities at the code, in nats.
        """
        return super().score_samples(X)
