"""VQ-VAE (van den Oord et al. 2017) and VQ-VAE-2 (Razavi et al. 2019)."""

from __future__ import annotations

import itertools
import math
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import check_array, check_is_fitted

from skvae._base import BaseVAE, auto_epochs
from skvae._data import FLOATS
from skvae._docstrings import with_parameters_of
from skvae._frames import is_frame
from skvae._sklearn_compat import Interval, StrOptions
from skvae._torch import Stream, adam, distributed_world, to_numpy
from skvae.nn.conv import check_input_shape
from skvae.nn.likelihoods import Likelihood
from skvae.nn.vqvae import VQVAEModule

__all__ = ["VQVAE", "VQVAE2", "VQVAEModule"]

#: Mask-B layers of each PixelCNN code prior. After its 5x5 mask-A layer a
#: position sees six rows back: all of a 7x7 code map (28x28 images with the
#: default two halvings), so depth is not exposed; ``prior_channels`` is.
_PRIOR_LAYERS = 4


#: The parameters of the discrete codes and their prior (both VQ families).
_CODE_PARAMS: dict[str, list[Any]] = {
    "n_codes": [Interval(Integral, 2, None, closed="left")],
    "code_dim": [Interval(Integral, 1, None, closed="left")],
    "commitment_cost": [Interval(Real, 0, None, closed="left")],
    "codebook_update": [StrOptions({"ema", "loss"})],
    "ema_decay": [Interval(Real, 0, 1, closed="neither")],
    "dead_code_threshold": [Interval(Real, 0, None, closed="left")],
    "input_shape": ["array-like", None],
    "n_positions": [Interval(Integral, 1, None, closed="left")],
    "prior_max_iter": [
        StrOptions({"auto"}),
        Interval(Integral, 0, None, closed="left"),
    ],
    "prior_channels": [Interval(Integral, 1, None, closed="left")],
}


class DiscreteCodesMixin:
    """What makes a model's latents discrete codes with a learnt prior over them.

    Mixed into :class:`VQVAE` and :class:`VQVAE2` before ``BaseVAE``: the
    module's build from the code parameters, the codebook's statistics per
    epoch, the PixelCNN prior trained after each fit (:meth:`_after_fit`),
    and the methods that read codes (``encode_codes``, ``inverse_transform``
    of codes, ``score_samples`` under the prior). The class sets
    ``_n_levels``, the number of code maps (1 or 2).

    Examples
    --------
    >>> from skvae import VQVAE
    >>> issubclass(VQVAE, DiscreteCodesMixin), VQVAE._n_levels
    (True, 1)
    """

    _network_params = (
        *BaseVAE._network_params,
        "n_codes",
        "code_dim",
        "n_positions",
        "codebook_update",
        "prior_channels",
        "commitment_cost",
        "ema_decay",
        "dead_code_threshold",
    )

    #: Code maps: 1 (VQ-VAE) or 2 (VQ-VAE-2, a top map at half resolution).
    _n_levels: int
    # The quantiser needs at least one hidden layer to map features from.
    _empty_hidden_ok = False
    # "auto" budgets (BaseVAE._epoch_budget): the autoencoder's within 2 and
    # 100 epochs, the prior's half the steps within 2 and 50 (the ratio of
    # the integer defaults these replaced).
    _auto_epochs = (2, 100)
    _auto_prior_epochs = (2, 50)

    # -------------------------------------------------------------- training
    def _check_params(self, X: np.ndarray) -> None:
        super()._check_params(X)
        check_input_shape(self.input_shape, X.shape[1])
        if distributed_world() is not None:
            # the codebook's moving averages and dead-code restarts are each
            # rank's own (the averages of rank 0's share of the rows only,
            # the restarts from each rank's rows): the ranks' codebooks
            # would part, and so would their models
            raise NotImplementedError(
                f"{type(self).__name__} does not train under torch.distributed "
                "yet (its codebook updates are not shared out between ranks); "
                "run it in one process (SKVAE_DISTRIBUTED=0 turns the "
                "detection of a torchrun launch off)."
            )

    def _ignored_params(self) -> dict[str, str]:
        ignored = super()._ignored_params()
        convolutional = self.encoder is None and self.decoder is None
        if self.input_shape is not None and convolutional:
            ignored["n_positions"] = (
                "with input_shape (the convolutional encoder's code map sets "
                "the code positions)"
            )
        elif self.input_shape is not None and not convolutional:
            # (both given: BaseVAE says so)
            ignored.setdefault(
                "input_shape",
                "with a user encoder or decoder (the codes are then a row of "
                "n_positions, and the other role's built-in network is an MLP)",
            )
        # the code prior holds out validation_fraction of the rows' codes
        # with or without early_stopping
        ignored.pop("validation_fraction", None)
        if self.codebook_update == "loss" and self.dead_code_threshold == 0:
            # its one moving average left, the codes' use, restarts no code
            ignored["ema_decay"] = (
                "with codebook_update='loss' and dead_code_threshold=0 (no "
                "moving average of the codebook, and no code restarted)"
            )
        return ignored

    def _sample_weight_refusal(self) -> str | None:
        return (
            "its codebook follows batch statistics (moving averages, restarts "
            "of unused codes) and its code prior is trained on unweighted codes"
        )

    def _build_module(self, X: np.ndarray, likelihood: Likelihood) -> VQVAEModule:
        n_features = X.shape[1]
        return VQVAEModule(
            n_features,
            input_shape=check_input_shape(self.input_shape, n_features),
            hidden=self._hidden_sizes(),
            n_positions=self.n_positions,
            code_dim=self.code_dim,
            n_codes=self.n_codes,
            n_levels=self._n_levels,
            commitment_cost=self.commitment_cost,
            ema=self.codebook_update == "ema",
            decay=self.ema_decay,
            dead_code_threshold=self.dead_code_threshold,
            likelihood=likelihood,
            activation=self.activation,
            prior_channels=self.prior_channels,
            prior_layers=_PRIOR_LAYERS,
            encoder=self._network_spec("encoder"),
            decoder=self._network_spec("decoder"),
        )

    def _summarize_epoch(self, means: dict[str, torch.Tensor]) -> dict[str, Any]:
        record = super()._summarize_epoch(means)
        counts = means["code_counts"].reshape(self._n_levels, -1)
        for level, name in zip(range(self._n_levels), ("", "_top"), strict=False):
            p = counts[level] / counts[level].sum().clamp_min(1e-12)
            entropy = -(p * p.clamp_min(1e-12).log()).sum()
            record["perplexity" + name] = float(entropy.exp())
            record["codebook_usage" + name] = float((counts[level] > 0).float().mean())
        return record

    def _prepare_training(self, train: list[torch.Tensor], batch_size: int) -> None:
        # A new module has new priors: their histories start again.
        self._prior_histories: list[list[dict[str, Any]]] = []

    def _after_fit(self, X: np.ndarray, incremental: bool) -> None:
        """Train the prior over the codes of X: up to ``prior_max_iter`` epochs.

        ``partial_fit`` trains one epoch of it per call, on every row, with a
        fresh optimiser (its moment estimates are not kept, the
        autoencoder's are).
        """
        rows = held = None
        if incremental:
            epochs = 1
        else:
            rows, held = self._prior_split(X.shape[0])
            epochs = self.prior_max_iter
            if epochs == "auto":
                batch_size = min(self._batch_size(rows.size), rows.size)
                epochs = auto_epochs(
                    rows.size, batch_size, self._auto_steps // 2,
                    *self._auto_prior_epochs,
                )  # fmt: skip
            epochs = int(epochs)
        self.prior_max_iter_ = epochs
        self._fit_prior(X, epochs, rows, held)

    def _prior_split(self, n_samples: int) -> tuple[np.ndarray, np.ndarray | None]:
        """The rows whose codes train the prior, and those held out (or None).

        The early-stopping split's (:meth:`_split_rows`: with
        ``early_stopping=True`` the autoencoder's validation rows); where it
        would leave no training row (a handful of rows, or
        ``validation_fraction`` near 1, with ``early_stopping=False``),
        every row trains and none is held out.
        """
        n_valid = math.ceil(self.validation_fraction * n_samples)
        if n_samples - n_valid < 1 and not self.early_stopping:
            return np.arange(n_samples), None
        rows, held = self._split_rows(n_samples, None)
        return np.sort(rows), np.sort(held)

    def _fit_prior(
        self,
        X: np.ndarray,
        epochs: int,
        rows: np.ndarray | None,
        held: np.ndarray | None,
    ) -> None:
        """Train the code prior(s) on the codes of X's ``rows`` (None: all).

        A fit holds out the codes of ``held`` (:meth:`_prior_split`) and
        stops each prior when their negative log-likelihood has not improved
        by ``tol`` for ``n_iter_no_change`` epochs, keeping its best weights:
        a PixelCNN learns its training codes by heart long before its budget
        ends (the README gives ``bench_vq.py``'s held-out scores). Without
        held-out rows a fit stops on the training codes' loss by the same
        rule; ``partial_fit`` (``rows`` None) trains its one epoch.
        """
        codes = self._codes(X)
        take = slice(None) if rows is None else rows
        data = [torch.as_tensor(c[take], device=self._device) for c in codes]
        valid = None
        if held is not None:
            valid = [torch.as_tensor(c[held], device=self._device) for c in codes]
        module = self.module_
        # the bottom prior is conditioned on the top codes, when there are any
        priors = [(module.prior_bottom, data, valid)]
        if self._n_levels == 2:
            priors.append((module.prior_top, data[1:], valid and valid[1:]))
        n_train = data[0].shape[0]
        batch_size = min(self._batch_size(n_train), n_train)
        histories = self._prior_histories
        while len(histories) < len(priors):
            histories.append([])
        starts = [len(h) for h in histories]
        # the priors train from private generators only: no global state
        for level, (prior, arrays, held_out) in enumerate(priors):
            trainer = self._make_trainer(
                adam(list(prior.parameters()), self.learning_rate_init),
                batch_size,
                module=prior,
                kl=None,
                streams=(Stream.PRIOR, Stream.PRIOR_VALID),
                stream_ids=(level,),
                max_grad_norm=None,
                compile=False,
                summarize=None,
            )
            trainer.fit(
                arrays,
                held_out,
                history=histories[level],  # its length sets the epoch's stream
                max_epochs=epochs,
                n_iter_no_change=self.n_iter_no_change,
                tol=self.tol,
                stop_early=rows is not None,
            )
        # this call's epochs after the earlier calls' (a new module: none);
        # VQVAE2's two priors stop each on its own, and the longer one's
        # last epochs of a call have no record of the other
        history: list[dict[str, Any]] = []
        if any(starts):
            history = list(vars(self).get("prior_history_") or ())
        new = (h[start:] for h, start in zip(histories, starts, strict=True))
        for records in itertools.zip_longest(*new):
            record: dict[str, Any] = {"epoch": len(history) + 1}
            for name, rec in zip(("", "_top"), records, strict=False):
                if rec is None:
                    continue
                record["prior_loss" + name] = rec["train_loss"]
                if "valid_loss" in rec:
                    record["prior_valid_loss" + name] = rec["valid_loss"]
            history.append(record)
        self.prior_history_ = history
        self._set_codebook_attributes(codes)

    def _set_codebook_attributes(self, codes: list[np.ndarray]) -> None:
        books = [to_numpy(q.codebook, np.float64) for q in self.module_.quantizers]
        usage = [np.bincount(c.ravel(), minlength=self.n_codes) / c.size for c in codes]
        one = self._n_levels == 1
        self.codebook_ = books[0] if one else np.stack(books)
        self.codebook_usage_ = usage[0] if one else np.stack(usage)
        shapes = self.module_.shapes
        self.code_shape_ = shapes[0] if one else tuple(shapes)

    # ------------------------------------------------------------- inference
    def _codes(self, X: np.ndarray) -> list[np.ndarray]:
        """Code maps of every level, bottom first, from one encoder pass."""

        def flat_codes(x: torch.Tensor) -> torch.Tensor:
            # as floats, NaN where the encoder's output overflowed (its
            # distances to the codes are then NaN, and the nearest code
            # meaningless): _map_batches refuses those rows
            levels = self.module_.quantize(x)
            codes = torch.cat([q.codes.flatten(1) for q in levels], dim=1)
            lost = ~torch.isfinite(sum(q.commitment for q in levels))
            # (float32 holds every code exactly below 2**24 of them)
            return codes.float().masked_fill(lost[:, None], math.nan)

        flat = self._map_batches(flat_codes, X, np.float64).astype(np.int64)
        maps, start = [], 0
        for h, w in self.module_.shapes:
            maps.append(flat[:, start : start + h * w].reshape(-1, h, w))
            start += h * w
        return maps

    def encode_codes(self, X):
        """The integer code map of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to encode.

        Returns
        -------
        codes : ndarray of shape (n_samples, h, w)
            Codebook indices (VQVAE2: a tuple of the bottom and top maps).
        """
        check_is_fitted(self)
        codes = self._codes(self._validate_X(X))
        return codes[0] if self._n_levels == 1 else tuple(codes)

    def inverse_transform(self, X):
        """Decode quantised latents, or integer codes, to the mean of p(x | z).

        Integers are codes and floats are latents; the codes' maps of
        :meth:`encode_codes` are taken as they come. Floats that could be
        either are refused rather than guessed: with ``code_dim=1`` a row of
        codes and a row of latents have the same width, so floats that are
        all whole numbers in ``[0, n_codes)`` and not all codebook values
        (codes read back from a text file, say) must be passed as integers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_latent) or (n_samples, n_positions)
            Either the output of :meth:`transform` (floats, ``code_dim``
            values per code position), or integer codes: the output of
            :meth:`encode_codes` (VQVAE2: its tuple of the bottom and top
            maps), or those maps flattened per row (VQVAE2: the bottom map's
            codes then the top map's).

        Returns
        -------
        X_original : ndarray of shape (n_samples, `n_features_in_`)
            The decoder's means.
        """
        check_is_fitted(self)
        n_positions = sum(h * w for h, w in self.module_.shapes)
        Z = self._flat_code_maps(X)
        if Z is None:
            Z = check_array(X, dtype=None)
        if Z.dtype.kind == "b":
            raise ValueError(
                "X is boolean: pass integer codes (n_samples, "
                f"{n_positions}) or the float latents of transform."
            )
        if np.issubdtype(Z.dtype, np.integer):
            if Z.shape[1] != n_positions:
                raise ValueError(
                    f"Integer X is read as codes, {n_positions} per row (the "
                    "maps of encode_codes reshaped to (n_samples, -1)); got "
                    f"{Z.shape[1]} columns. Latents (transform's output) are "
                    "floats."
                )
            if Z.min() < 0 or Z.max() >= self.n_codes:
                raise ValueError(f"Codes must lie in [0, {self.n_codes}).")
            decoded = self._map_batches(
                self._decode_flat_codes, Z, self._dtype, overflow="codes"
            )
            return self._typed_rows(decoded, like=X)
        Z = check_array(Z, dtype=FLOATS)
        if (
            self.code_dim == 1
            and Z.shape[1] == n_positions
            and _look_like_codes(Z, self.n_codes, self.codebook_)
        ):
            raise ValueError(
                "X's floats are all whole numbers in [0, "
                f"{self.n_codes}) and not all codebook values: with code_dim=1 "
                "they could be codes as well as latents. Pass codes as integers "
                "(X.astype(int)); latents from transform are codebook values."
            )
        rows = super().inverse_transform(Z)
        if is_frame(rows) and is_frame(X):  # aligned with the latents' rows
            rows.index = X.index
        return rows

    def _flat_code_maps(self, X: Any) -> np.ndarray | None:
        """:meth:`encode_codes`'s maps as flat rows of codes (None: not maps)."""
        shapes = [tuple(s) for s in self.module_.shapes]
        maps = list(X) if isinstance(X, tuple) else [X]
        if not all(isinstance(m, np.ndarray) and m.ndim == 3 for m in maps):
            if isinstance(X, tuple):
                raise ValueError(
                    f"A tuple X must be the {len(shapes)} code maps of "
                    "encode_codes, integer arrays of shapes (n_samples, h, w)."
                )
            return None
        found = [m.shape[1:] for m in maps]
        if found != shapes or len({m.shape[0] for m in maps}) != 1:
            want = shapes[0] if len(shapes) == 1 else tuple(shapes)
            raise ValueError(
                f"Code maps of shape (n_samples, h, w) must have (h, w) = "
                f"{want} (encode_codes' maps"
                + (", bottom then top, as a tuple" if len(shapes) > 1 else "")
                + f"); got {found if len(found) > 1 else found[0]}."
            )
        if not all(np.issubdtype(m.dtype, np.integer) for m in maps):
            raise ValueError("Code maps must hold integer codes.")
        return np.concatenate([m.reshape(m.shape[0], -1) for m in maps], axis=1)

    def _decode_flat_codes(self, flat: torch.Tensor) -> torch.Tensor:
        maps, start = [], 0
        for h, w in self.module_.shapes:
            maps.append(flat[:, start : start + h * w].long().reshape(-1, h, w))
            start += h * w
        return self.module_.decode_codes(maps)

    def score_samples(self, X):
        """Log p(x | z_q(x)) + log p(codes) per row, in nats (higher = typical).

        The posterior is a point mass on the row's codes, so this bound is
        deterministic and has no entropy term; log p(codes) is the PixelCNN
        prior's.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Per-row bounds of the log-likelihood.
        """
        return super().score_samples(X)


class VQVAE(DiscreteCodesMixin, BaseVAE):
    """Vector-quantised VAE: discrete latent codes and a learnt prior over them.

    The encoder's output map is replaced, position by position, by the
    nearest of ``n_codes`` codebook vectors (gradients pass straight
    through); the codebook follows the vectors assigned to it by moving
    averages (``codebook_update="ema"``, the default) or learns by the
    codebook loss, and unused codes are restarted at encoder outputs. After
    the autoencoder, ``fit`` trains a PixelCNN prior over the code maps with
    the same training loop, for at most ``prior_max_iter`` epochs, stopped on
    held-out codes; ``score_samples`` and ``sample`` use it. The model has
    no KL term.

    Images are passed as flattened rows with ``input_shape=(C, H, W)``: the
    networks are then convolutional (each entry of ``hidden_layer_sizes`` a
    stride-2 layer that halves the map). Without ``input_shape`` they are
    MLPs and each row is encoded to ``n_positions`` codes.

    Parameters
    ----------
    n_codes : int, default=64
        Size of the codebook (VQVAE2: of each level's codebook).
    code_dim : int, default=16
        Dimension of each codebook vector.
    commitment_cost : float, default=0.25
        Weight of the commitment loss ||z_e - sg(z_q)||^2 (beta in the paper).
    codebook_update : {"ema", "loss"}, default="ema"
        Learn the codebook by exponential moving averages or by the codebook
        loss ||sg(z_e) - z_q||^2.
    ema_decay : float, default=0.99
        Decay of the moving averages: of the codebook (with
        ``codebook_update="ema"``), and of each code's use, by which
        ``dead_code_threshold`` restarts codes (with ``"loss"`` and a
        threshold of 0 it has no effect, and is warned about).
    dead_code_threshold : float, default=0.1
        A code whose moving-average use falls below this many assignments
        per batch is restarted at a random encoder output of the batch.
    input_shape : tuple of int or None, default=None
        (C, H, W) of images passed as flattened rows. The encoder and decoder
        are then convolutional, ``hidden_layer_sizes`` giving the channels of
        their stride-2 layers (each halves the image), and the code map is
        spatial.
    hidden_layer_sizes : array-like of int, default=(32, 64)
        Channels of the (bottom) encoder's stride-2 convolutions with
        ``input_shape`` (two halvings: 28x28 -> 7x7 codes, 8x8 -> 2x2;
        VQVAE2's top map is halved once more, 7x7 -> 4x4), else the widths of
        the encoder's hidden layers (the decoder mirrors them). At least one.
    n_positions : int, default=8
        Codes per row without ``input_shape`` (or with ``encoder`` or
        ``decoder``); VQVAE2: codes of the bottom map, the top map having
        half as many (at least one).
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
    prior_max_iter : int or "auto", default="auto"
        Most epochs of the PixelCNN prior's training (VQVAE2: of each
        level's prior), after the autoencoder's, on the codes of the
        training rows (``partial_fit``: one epoch per call, on every row).
        In ``fit`` the codes of ``validation_fraction`` of the rows are held
        out (the autoencoder's validation rows with ``early_stopping=True``;
        none where no row would be left to train), and the prior stops when
        their negative log-likelihood has not improved by ``tol`` for
        ``n_iter_no_change`` epochs; its best weights on them are kept.
        "auto": the epochs that give about 2,500 steps, within 2 and 50
        (see the user guide, "Training budgets");
        ``prior_max_iter_`` is the number chosen. It uses ``batch_size``
        and ``learning_rate_init``, with an optimiser of its own that starts
        afresh at each call.
    prior_channels : int, default=64
        Hidden channels of the prior (VQVAE2: of each prior).
    batch_size : int or "auto", default="auto"
        Rows per optimisation step; "auto" is ``min(200, n_samples)``.
    learning_rate_init : float, default=1e-3
        Adam's learning rate.
    max_iter : int or "auto", default="auto"
        Maximum number of epochs of the autoencoder. "auto" picks them from
        the number of training rows: the epochs that give about 5,000
        optimisation steps, within 2 and 100 (see the user guide, "Training
        budgets"); ``max_iter_`` is the number chosen. 0 initialises it
        without training (the prior still trains).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows and stop when the
        validation loss stops improving; the best weights are restored.
    validation_fraction : float, default=0.1
        Share of rows held out when ``early_stopping=True``, and whose
        codes the prior holds out in any case (see ``prior_max_iter``).
    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` (of the validation
        loss with early stopping, else the training loss) before stopping;
        the prior's, of its held-out codes' loss.
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
        Your own networks in place of the built-in ones. With either, the
        code map is a row of ``n_positions`` codes (as without
        ``input_shape``): the encoder maps rows ``(batch, n_features)`` to
        features and the decoder maps the flattened quantised row
        ``(batch, n_positions * code_dim)`` (VQVAE2: the bottom codes' vectors
        and the top codes' repeated to the bottom's positions,
        ``(batch, 2 * n_positions * code_dim)``) to features; skvae adds the
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
    codebook_ : ndarray of shape (n_codes, code_dim) or (2, n_codes, code_dim)
        The codebook (VQVAE2: the bottom and top codebooks).
    codebook_usage_ : ndarray of shape (n_codes,) or (2, n_codes)
        Share of the training rows' code positions assigned to each code
        (VQVAE2: per level).
    code_shape_ : tuple of int, or tuple of tuple of int
        (h, w) of the code map (VQVAE2: of the bottom and top maps).
    history_ : list of dict
        Per epoch of the autoencoder: ``epoch``, ``train_loss``, ``recon``,
        ``commitment`` (of every level), ``perplexity`` (exp of the entropy
        of code use), ``codebook_usage`` (share of codes used in the epoch),
        ``beta`` (always 1: there is no KL term), ``dur`` (seconds) and
        ``valid_loss`` with early stopping. VQVAE2 adds ``perplexity_top``
        and ``codebook_usage_top``; the unsuffixed ones are the bottom map's.
    prior_history_ : list of dict
        Per epoch of the prior: ``epoch``, ``prior_loss`` and
        ``prior_valid_loss``, its negative log-likelihood of the training
        and of the held-out codes (nats per row; ``partial_fit`` holds none
        out). VQVAE2: those of the bottom codes given the top ones, and
        ``prior_loss_top`` and ``prior_valid_loss_top``; each prior stops on
        its own, and the one that stopped first has no entry in the other's
        last epochs.
    module_ : VQVAEModule
        The trained network with its prior (VQVAE2: its two priors).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when X has string names.
    device_ : str
        The device the model is on: where it was trained ("cpu", "cuda:0",
        "mps"), or where it was loaded or unpickled.
    n_iter_ : int
        Epochs of the autoencoder.
    max_iter_ : int
        The autoencoder's epochs the last ``fit`` could train: ``max_iter``,
        or the number that "auto" chose.
    prior_max_iter_ : int
        The prior's most epochs in the last ``fit`` (``prior_max_iter``, or
        the number that "auto" chose for the rows whose codes train it), or
        1 after ``partial_fit``; ``prior_history_`` has those it trained.
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
    skvae.VQVAE2 : Two levels of codes.

    References
    ----------
    .. [1] A. van den Oord, O. Vinyals and K. Kavukcuoglu, "Neural Discrete
       Representation Learning", NeurIPS 2017.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skvae import VQVAE
    >>> X = load_digits().data[:200] / 16
    >>> vq = VQVAE(n_codes=16, input_shape=(1, 8, 8), likelihood="bernoulli",
    ...            max_iter=3, prior_max_iter=2, random_state=0).fit(X)
    >>> vq.transform(X).shape, vq.encode_codes(X).shape
    ((200, 64), (200, 2, 2))
    >>> vq.inverse_transform(vq.encode_codes(X).reshape(200, -1)).shape
    (200, 64)
    >>> vq.sample(2).shape
    (2, 64)
    """

    _unread_with_user_networks = ("hidden_layer_sizes", "activation")

    _n_levels = 1

    _parameter_constraints: dict[str, list[Any]] = {
        **BaseVAE._parameter_constraints,
        **_CODE_PARAMS,
    }

    def __init__(
        self,
        n_codes=64,
        *,
        code_dim=16,
        commitment_cost=0.25,
        codebook_update="ema",
        ema_decay=0.99,
        dead_code_threshold=0.1,
        input_shape=None,
        hidden_layer_sizes=(32, 64),
        n_positions=8,
        activation="relu",
        likelihood="gaussian",
        min_variance=1e-3,
        prior_max_iter="auto",
        prior_channels=64,
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
        # Not super(): VQVAE2 shares this __init__ without subclassing us.
        BaseVAE.__init__(self, **self._shared_params(locals()))
        self.n_codes = n_codes
        self.code_dim = code_dim
        self.commitment_cost = commitment_cost
        self.codebook_update = codebook_update
        self.ema_decay = ema_decay
        self.dead_code_threshold = dead_code_threshold
        self.input_shape = input_shape
        self.n_positions = n_positions
        self.prior_max_iter = prior_max_iter
        self.prior_channels = prior_channels


class VQVAE2(DiscreteCodesMixin, BaseVAE):
    """VQ-VAE-2: a top code map at half the resolution of the bottom one.

    The top map (global structure) is quantised from the bottom encoder's
    features; the bottom map (detail) from those features and the decoded
    top map; the decoder sees both. Each map has its own codebook of
    ``n_codes`` vectors, learnt as in :class:`VQVAE`. After the autoencoder,
    ``fit`` trains a PixelCNN prior over the top codes and one over the
    bottom codes conditioned on the top codes (Razavi et al. 2019), each for
    at most ``prior_max_iter`` epochs, stopped on held-out codes;
    ``score_samples`` and ``sample`` use them.
    The model has no KL term. ``encode_codes`` returns the two maps.

    Images are passed as flattened rows with ``input_shape=(C, H, W)``: the
    networks are then convolutional (each entry of ``hidden_layer_sizes`` a
    stride-2 layer of the bottom encoder that halves the map, and one more
    halving to the top map). Without ``input_shape`` they are MLPs and each
    row is encoded to ``n_positions`` bottom codes and half as many top codes.

    It takes exactly :class:`VQVAE`'s parameters, with the same defaults.

    See Also
    --------
    skvae.VQVAE : One level of codes.

    Notes
    -----
    The fitted attributes have a level axis (bottom, top): ``codebook_`` is
    of shape (2, n_codes, code_dim), ``codebook_usage_`` (2, n_codes), and
    ``code_shape_`` holds the (h, w) of both maps. ``history_`` has
    ``perplexity_top`` and ``codebook_usage_top`` beside the bottom map's
    ``perplexity`` and ``codebook_usage``, and ``prior_history_`` has
    ``prior_loss`` (the bottom codes given the top ones) and
    ``prior_loss_top``.

    References
    ----------
    .. [1] A. Razavi, A. van den Oord and O. Vinyals, "Generating Diverse
       High-Fidelity Images with VQ-VAE-2", NeurIPS 2019.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skvae import VQVAE2
    >>> X = load_digits().data[:200] / 16
    >>> vq = VQVAE2(n_codes=16, input_shape=(1, 8, 8), hidden_layer_sizes=(32,),
    ...             likelihood="bernoulli", max_iter=3, prior_max_iter=2,
    ...             random_state=0).fit(X)
    >>> bottom, top = vq.encode_codes(X)
    >>> bottom.shape, top.shape
    ((200, 4, 4), (200, 2, 2))
    >>> vq.sample(2).shape
    (2, 64)
    """

    _unread_with_user_networks = ("activation",)  # the widths size more

    _n_levels = 2
    _parameter_constraints = VQVAE._parameter_constraints
    __init__ = VQVAE.__init__


VQVAE2.__doc__ = with_parameters_of(VQVAE2.__doc__, VQVAE)


def _look_like_codes(rows: np.ndarray, n_codes: int, codebook: np.ndarray) -> bool:
    """Whether float rows are whole numbers in ``[0, n_codes)``, not latents.

    Latents of ``code_dim=1`` are codebook values, so floats that are all
    codebook values are latents even when they are whole numbers; so are
    rows of zeros (the origin of the latent space), whose code reading
    would be the first code everywhere.
    """
    whole = (rows >= 0).all() and (rows < n_codes).all() and (rows % 1 == 0).all()
    return (
        bool(whole)
        and bool((rows >= 1).any())
        and not np.isin(rows, np.ravel(codebook)).all()
    )
