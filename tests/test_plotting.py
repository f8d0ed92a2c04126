"""skvae.plotting: each display draws what it should, where it should."""

import itertools
import sys
import warnings

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

from skvae import VAE, WAE, ConditionalVAE, VaDE, VAEOutlierDetector  # noqa: E402
from skvae.plotting import (  # noqa: E402
    InterpolationDisplay,
    KLPerDimensionDisplay,
    LatentSpaceDisplay,
    LossCurveDisplay,
    ReconstructionDisplay,
    SamplesDisplay,
    TraversalDisplay,
)
from tests.conftest import tiny_vae  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data():
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.data[:60] / 16.0, digits.target[:60]


@pytest.fixture(scope="module")
def vae2(data):
    return tiny_vae(early_stopping=True).fit(data[0])


@pytest.fixture(scope="module")
def vae4(data):
    return tiny_vae(n_components=4).fit(data[0])


def _two_axes():
    fig, axes = plt.subplots(1, 2)
    return fig, axes[1]


# -------------------------------------------------------------- latent space
def test_latent_space_scatter_and_legend(vae2, data):
    X, y = data
    disp = LatentSpaceDisplay.from_estimator(vae2, X, y)
    assert disp.scatter_.get_offsets().shape == (60, 2)
    assert len(disp.legend_.get_texts()) == 10
    assert [t.get_text() for t in disp.legend_.get_texts()][:3] == ["0", "1", "2"]
    assert disp.colorbar_ is None
    assert (disp.xlabel, disp.ylabel) == ("z[0]", "z[1]")
    np.testing.assert_allclose(disp.embedding, vae2.transform(X))
    assert len(disp.figure_.axes) == 1


def test_latent_space_refuses_missing_labels(vae2, data):
    # None among string labels: numpy's sort raised a bare TypeError
    X, y = data
    labels = np.array([f"digit {v}" for v in y], dtype=object)
    for hole in (None, float("nan")):
        labels[5] = hole
        with pytest.raises(ValueError, match=r"missing labels .* at rows \[5\]"):
            LatentSpaceDisplay.from_estimator(vae2, X, labels)


def test_latent_space_respects_ax(vae2, data):
    fig, ax = _two_axes()
    disp = LatentSpaceDisplay.from_estimator(vae2, data[0], ax=ax)
    assert disp.ax_ is ax
    assert disp.figure_ is fig
    assert len(ax.collections) == 1
    assert len(fig.axes[0].collections) == 0
    assert disp.legend_ is None


def test_latent_space_pca_and_dims(vae4, data):
    X, y = data
    disp = LatentSpaceDisplay.from_estimator(vae4, X, y)
    assert disp.xlabel == "PC1 of the codes"
    assert disp.embedding.shape == (60, 2)
    disp = LatentSpaceDisplay.from_estimator(vae4, X, y, dims=(3, 1))
    np.testing.assert_allclose(disp.embedding, vae4.transform(X)[:, [3, 1]])
    assert disp.ax_.get_xlabel() == "z[3]"
    same = LatentSpaceDisplay.from_estimator(vae4, X, y, dims=np.array([3, 1]))
    np.testing.assert_allclose(same.embedding, disp.embedding)


def test_displays_take_the_rows_their_model_takes(vae2, data):
    """A sparse matrix or a table the model reads was refused by a check
    of the rows as a float array ("got an array of shape ()")."""
    import scipy.sparse as sp

    pd = pytest.importorskip("pandas")
    X, y = data
    rows = sp.csr_matrix(X)
    disp = LatentSpaceDisplay.from_estimator(vae2, rows, y)
    np.testing.assert_allclose(disp.embedding, vae2.transform(X))
    recon = ReconstructionDisplay.from_estimator(vae2, rows[:4], image_shape=(8, 8))
    np.testing.assert_allclose(recon.X, X[:4])
    rng = np.random.RandomState(0)
    table = pd.DataFrame(
        {"a": rng.normal(size=60), "b": rng.choice(list("xyz"), 60), "c": X[:, 20]}
    )
    model = tiny_vae().fit(table)
    disp = LatentSpaceDisplay.from_estimator(model, table, table["b"])
    np.testing.assert_allclose(disp.embedding, model.transform(table))


def test_latent_space_continuous_labels_get_a_colorbar(vae2, data):
    X, _ = data
    disp = LatentSpaceDisplay.from_estimator(vae2, X, X.mean(axis=1))
    assert disp.colorbar_ is not None
    assert disp.legend_ is None
    assert len(disp.figure_.axes) == 2  # the plot and its colour bar


def test_latent_space_string_labels(vae2, data):
    X, y = data
    names = np.where(y % 2 == 0, "even", "odd")
    disp = LatentSpaceDisplay.from_estimator(vae2, X, names)
    assert [t.get_text() for t in disp.legend_.get_texts()] == ["even", "odd"]


@pytest.mark.parametrize(
    ("dims", "match"),
    [((0, 0), "two different"), ((0, 4), r"\[0, 4\)"), ("tsne", "dims must be")],
)
def test_latent_space_bad_dims(vae4, data, dims, match):
    with pytest.raises(ValueError, match=match):
        LatentSpaceDisplay.from_estimator(vae4, data[0], dims=dims)


def test_latent_space_bad_inputs(vae2, data):
    X, y = data
    with pytest.raises(ValueError, match=r"reshape\(1, -1\)"):
        LatentSpaceDisplay.from_estimator(vae2, X[0], y)
    with pytest.raises(ValueError, match="one label per point"):
        LatentSpaceDisplay.from_estimator(vae2, X, y[:10])
    with pytest.raises(ValueError, match="draws 2-D points"):
        LatentSpaceDisplay(np.zeros((5, 3))).plot()
    one_d = tiny_vae(n_components=1).fit(X)
    with pytest.raises(ValueError, match="at least 2 latent dimensions"):
        LatentSpaceDisplay.from_estimator(one_d, X)
    with pytest.raises(NotFittedError):
        LatentSpaceDisplay.from_estimator(VAE(), X)
    with pytest.raises(TypeError, match="transform"):
        LatentSpaceDisplay.from_estimator(object(), X)


def test_data_frames_keep_their_feature_names(data):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(data[0], columns=[f"px{i}" for i in range(64)])
    vae = tiny_vae().fit(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "X does not have valid feature names"
        LatentSpaceDisplay.from_estimator(vae, frame, data[1])
        ReconstructionDisplay.from_estimator(vae, frame.iloc[:4], image_shape=(8, 8))


# ------------------------------------------------------------ reconstructions
def test_reconstruction_mosaic(vae2, data):
    X, _ = data
    disp = ReconstructionDisplay.from_estimator(vae2, X[:7], image_shape=(8, 8))
    assert len(disp.ax_.images) == 1
    # 7 images, 7 per row: a row of inputs over a row of reconstructions
    assert disp.im_.get_array().shape == (17, 7 * 9 - 1)
    np.testing.assert_allclose(
        disp.X_reconstructed, vae2.inverse_transform(vae2.transform(X[:7]))
    )
    labels = [t.get_text() for t in disp.ax_.get_yticklabels()]
    assert labels == ["input", "recon."]
    # both halves share the inputs' colour limits
    assert disp.im_.get_clim() == (X[:7].min(), X[:7].max())


def test_reconstruction_n_cols_and_ax(vae2, data):
    fig, ax = _two_axes()
    disp = ReconstructionDisplay.from_estimator(
        vae2, data[0][:6], image_shape=(8, 8), n_cols=3, ax=ax
    )
    assert disp.ax_ is ax
    assert disp.figure_ is fig
    assert disp.im_.get_array().shape == (4 * 9 - 1, 3 * 9 - 1)
    assert len(ax.get_yticklabels()) == 4
    assert not fig.axes[0].images


def test_reconstruction_shape_from_input_shape(data):
    X, _ = data
    conv = tiny_vae(input_shape=(1, 8, 8), hidden_layer_sizes=(4,), max_iter=1)
    disp = ReconstructionDisplay.from_estimator(conv.fit(X), X[:4])
    assert disp.image_shape == (1, 8, 8)


def test_reconstruction_bad_inputs(vae2, data):
    X, _ = data
    with pytest.raises(ValueError, match=r"shape \(n_samples, n_features\)"):
        ReconstructionDisplay.from_estimator(vae2, X[0], image_shape=(8, 8))
    with pytest.raises(ValueError, match="holds 49 values but the rows have 64"):
        ReconstructionDisplay.from_estimator(vae2, X[:3], image_shape=(7, 7))
    with pytest.raises(ValueError, match="needs their shape: pass image_shape"):
        ReconstructionDisplay.from_estimator(vae2, X[:3])
    with pytest.raises(ValueError, match="2 channels"):
        ReconstructionDisplay.from_estimator(vae2, X[:3], image_shape=(2, 4, 8))
    for bad in ("88", 64):
        with pytest.raises(ValueError, match="tuple of ints"):
            ReconstructionDisplay.from_estimator(vae2, X[:3], image_shape=bad)
    with pytest.raises(ValueError, match="same shape"):
        ReconstructionDisplay(X[:3], X[:2], image_shape=(8, 8)).plot()
    with pytest.raises(ValueError, match="n_cols"):
        ReconstructionDisplay(X[:3], X[:3], image_shape=(8, 8)).plot(n_cols=0)


# -------------------------------------------------------------------- samples
def test_samples_grid(vae2):
    disp = SamplesDisplay.from_estimator(vae2, 10, image_shape=(8, 8), random_state=1)
    assert disp.samples.shape == (10, 64)
    np.testing.assert_allclose(disp.samples, vae2.sample(10, random_state=1))
    assert len(disp.ax_.images) == 1
    assert disp.im_.get_array().shape == (3 * 9 - 1, 4 * 9 - 1)  # ceil(sqrt(10))


def test_samples_conditional_rows_and_ax(data):
    X, y = data
    cvae = tiny_vae(ConditionalVAE).fit(X, y)
    fig, ax = _two_axes()
    classes = np.repeat([3, 7], 5)
    disp = SamplesDisplay.from_estimator(
        cvae, 10, image_shape=(8, 8), sample_params={"y": classes}, n_cols=5, ax=ax
    )
    assert disp.ax_ is ax
    assert disp.figure_ is fig
    assert disp.im_.get_array().shape == (2 * 9 - 1, 5 * 9 - 1)
    np.testing.assert_allclose(disp.samples, cvae.sample(10, y=classes))


def test_samples_colour_images():
    rgb = np.random.RandomState(0).uniform(size=(4, 3 * 5 * 5))
    disp = SamplesDisplay(rgb, image_shape=(3, 5, 5)).plot(n_cols=4, vmin=0, vmax=1)
    assert disp.im_.get_array().shape == (5, 4 * 6 - 1, 4)
    # the first tile, in [0, 1] and opaque
    tile = np.asarray(disp.im_.get_array())[:5, :5]
    assert tile[..., 3].min() == 1.0
    np.testing.assert_allclose(
        tile[..., :3], np.moveaxis(rgb[0].reshape(3, 5, 5), 0, -1)
    )


def test_samples_bad_shape(vae2):
    with pytest.raises(ValueError, match="holds 60 values"):
        SamplesDisplay.from_estimator(vae2, 4, image_shape=(6, 10))
    with pytest.raises(ValueError, match="shape"):
        SamplesDisplay(np.zeros(64), image_shape=(8, 8)).plot()


# ---------------------------------------------------------------- loss curves
def test_loss_curves_default_keys(vae2, vae4):
    disp = LossCurveDisplay.from_estimator(vae2)  # early stopping: valid loss too
    assert sorted(disp.lines_) == ["train_loss", "valid_loss"]
    assert len(disp.ax_.get_lines()) == 2
    np.testing.assert_allclose(disp.lines_["train_loss"].get_ydata(), vae2.loss_curve_)
    disp = LossCurveDisplay.from_estimator(vae4)
    assert list(disp.lines_) == ["train_loss"]
    np.testing.assert_array_equal(
        disp.lines_["train_loss"].get_xdata(), [r["epoch"] for r in vae4.history_]
    )


def test_loss_curves_terms_and_ax(vae2):
    fig, ax = _two_axes()
    disp = LossCurveDisplay.from_estimator(vae2, keys=["recon", "kl"], ax=ax)
    assert disp.ax_ is ax
    assert disp.figure_ is fig
    assert len(ax.get_lines()) == 2
    assert not fig.axes[0].get_lines()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "reconstruction term",
        "KL term",
    ]


def test_loss_curves_of_a_meta_estimator(data):
    det = VAEOutlierDetector(estimator=tiny_vae(), trim_fraction=0).fit(data[0])
    disp = LossCurveDisplay.from_estimator(det)
    assert len(disp.lines_["train_loss"].get_ydata()) == det.estimator_.n_iter_


def test_loss_curves_bad_inputs(vae2):
    with pytest.raises(ValueError, match=r"not in the history; it has \["):
        LossCurveDisplay.from_estimator(vae2, keys=["elbo"])
    with pytest.raises(ValueError, match="not one number per epoch"):
        LossCurveDisplay.from_estimator(vae2, keys=["kl_per_dim"])
    with pytest.raises(ValueError, match="non-empty list of dicts"):
        LossCurveDisplay([]).plot()
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(VAE())


# -------------------------------------------------------------- interpolation
def test_interpolation_strip(vae2, data):
    X, _ = data
    disp = InterpolationDisplay.from_estimator(
        vae2, X[0], X[1], n_steps=5, image_shape=(8, 8)
    )
    assert disp.path.shape == (5, 64)
    assert len(disp.ax_.images) == 1
    assert disp.im_.get_array().shape == (8, 5 * 9 - 1)
    assert [t.get_text() for t in disp.ax_.get_xticklabels()] == [
        "0",
        "0.25",
        "0.5",
        "0.75",
        "1",
    ]


def test_interpolation_pairs_and_ax(vae2, data):
    X, _ = data
    fig, ax = _two_axes()
    disp = InterpolationDisplay.from_estimator(
        vae2, X[:3], X[3:6], n_steps=4, spherical=True, image_shape=(8, 8), ax=ax
    )
    assert disp.ax_ is ax
    assert disp.figure_ is fig
    assert disp.path.shape == (3, 4, 64)
    assert disp.im_.get_array().shape == (3 * 9 - 1, 4 * 9 - 1)


def test_interpolation_bad_inputs(vae2, data):
    X, _ = data
    with pytest.raises(ValueError, match="n_pairs, n_features"):
        InterpolationDisplay.from_estimator(
            vae2, X[:4].reshape(2, 2, 64), X[:4].reshape(2, 2, 64), image_shape=(8, 8)
        )
    with pytest.raises(ValueError, match="holds 32 values"):
        InterpolationDisplay.from_estimator(vae2, X[0], X[1], image_shape=(4, 8))
    with pytest.raises(ValueError, match="one value per step"):
        InterpolationDisplay(np.zeros((3, 64)), image_shape=(8, 8), t=[0, 1]).plot()


# ---------------------------------------------------------- KL per dimension
def test_kl_per_dimension_draws_the_recorded_kl(vae4):
    disp = KLPerDimensionDisplay.from_estimator(vae4)
    recorded = np.array([r["kl_per_dim"] for r in vae4.history_])
    assert recorded.shape == (vae4.n_iter_, 4)
    assert len(disp.lines_) == 4
    for d, line in enumerate(disp.lines_):
        np.testing.assert_array_equal(line.get_ydata(), recorded[:, d])
        np.testing.assert_array_equal(
            line.get_xdata(), [r["epoch"] for r in vae4.history_]
        )
    np.testing.assert_array_equal(disp.active_, recorded[-1] > 0.005)
    # every unit history_ counts as active (Cov_x E[z|x] > 0.01) is marked
    assert disp.active_.sum() >= vae4.history_[-1]["active_units"]


def test_kl_per_dimension_marks_the_active_units_by_threshold():
    kl = [[0.3, 0.2, 0.0, 0.1], [0.9, 0.05, 0.001, 0.4]]  # last epoch decides
    disp = KLPerDimensionDisplay(kl, threshold=0.1, estimator_name="VAE").plot()
    np.testing.assert_array_equal(disp.active_, [True, False, False, True])
    assert disp.threshold_line_.get_ydata()[0] == 0.1
    grey = matplotlib.colors.to_rgba("0.6")
    for line, active in zip(disp.lines_, disp.active_, strict=True):
        assert (matplotlib.colors.to_rgba(line.get_color()) == grey) != active
        assert (line.get_linestyle() == "--") != active
    labels = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert labels == ["z[0]", "inactive (2)", "z[3]", "threshold (0.1 nats)"]
    assert disp.ax_.get_title() == "VAE: KL per latent dimension, 2 of 4 active"
    disp = KLPerDimensionDisplay(kl, threshold=0.5).plot()
    np.testing.assert_array_equal(disp.active_, [True, False, False, False])


def test_kl_per_dimension_colours_of_a_continuous_map_differ():
    """Active dimensions took a continuous map's first entries (0, 1, 2 of
    256): four lines in one colour, each named in the legend."""
    kl = [[0.9, 0.8, 0.7, 0.6]]
    disp = KLPerDimensionDisplay(kl, threshold=0.1).plot(cmap="viridis")
    colours = [matplotlib.colors.to_rgba(line.get_color()) for line in disp.lines_]
    gaps = [np.abs(np.subtract(*pair)).max() for pair in itertools.pairwise(colours)]
    assert min(gaps) > 0.1
    disp = KLPerDimensionDisplay(kl, threshold=0.1).plot(cmap="tab10")
    expected = [matplotlib.colormaps["tab10"](i) for i in range(4)]
    assert [matplotlib.colors.to_rgba(x.get_color()) for x in disp.lines_] == expected


def test_kl_per_dimension_of_a_meta_estimator_and_ax(data):
    det = VAEOutlierDetector(estimator=tiny_vae(), trim_fraction=0).fit(data[0])
    fig, ax = _two_axes()
    disp = KLPerDimensionDisplay.from_estimator(det, ax=ax)
    assert disp.ax_ is ax
    assert disp.figure_ is fig
    assert disp.kl_per_dim.shape == (det.estimator_.n_iter_, 2)


def test_kl_per_dimension_of_vade(data):
    # refused as if it had a VampPrior: its mixture prior has no closed form,
    # but the KL of each dimension of z to its cluster's Gaussian is recorded
    X, _ = data
    vade = tiny_vae(VaDE, n_clusters=3, n_components=3).fit(X)
    disp = KLPerDimensionDisplay.from_estimator(vade)
    assert disp.kl_per_dim.shape == (vade.n_iter_, 3)
    np.testing.assert_allclose(disp.kl_per_dim[-1], vade.history_[-1]["kl_per_dim"])


def test_kl_per_dimension_bad_inputs(data):
    X, _ = data
    with pytest.raises(ValueError, match="no KL per latent dimension"):
        KLPerDimensionDisplay.from_estimator(
            WAE(n_components=2, hidden_layer_sizes=(8,), max_iter=1).fit(X)
        )
    vamp = tiny_vae(prior="vamp", n_pseudo_inputs=4).fit(X)
    with pytest.raises(ValueError, match="VampPrior"):
        KLPerDimensionDisplay.from_estimator(vamp)
    with pytest.raises(NotFittedError):
        KLPerDimensionDisplay.from_estimator(VAE())
    with pytest.raises(ValueError, match="n_epochs, n_dims"):
        KLPerDimensionDisplay([0.1, 0.2]).plot()
    with pytest.raises(ValueError, match="one value per row"):
        KLPerDimensionDisplay([[0.1], [0.2]], epochs=[1]).plot()
    with pytest.raises(ValueError, match="non-negative number"):
        KLPerDimensionDisplay([[0.1]], threshold=-1).plot()


@pytest.mark.parametrize("n_epochs", [2, 3, 7])
def test_epoch_axes_have_integer_ticks(n_epochs):
    history = [
        {"epoch": i + 1, "train_loss": 1.0 / (i + 1), "kl_per_dim": [0.1 * i, 0.0]}
        for i in range(n_epochs)
    ]
    loss = LossCurveDisplay(history).plot()
    kl = KLPerDimensionDisplay([r["kl_per_dim"] for r in history]).plot()
    for ax in (loss.ax_, kl.ax_):
        ticks = [t for t in ax.get_xticks() if 1 <= t <= n_epochs]
        assert ticks
        assert all(float(t).is_integer() for t in ticks), ticks


# ----------------------------------------------------------------- traversals
def test_traversal_image_grid(vae4, data):
    X, _ = data
    disp = TraversalDisplay.from_estimator(vae4, X[0], image_shape=(8, 8))
    assert disp.traversals.shape == (4, 7, 64)  # every dimension, 7 values
    np.testing.assert_allclose(
        disp.traversals[2], vae4.traverse(X[0], dim=2, values=np.linspace(-3, 3, 7))
    )
    assert disp.im_.get_array().shape == (4 * 9 - 1, 7 * 9 - 1)
    assert [t.get_text() for t in disp.ax_.get_yticklabels()] == [
        "z[0]",
        "z[1]",
        "z[2]",
        "z[3]",
    ]
    assert disp.lines_ is None
    assert list(disp.axes_) == [disp.ax_]
    fig, ax = _two_axes()
    disp = TraversalDisplay.from_estimator(
        vae4, X[:1], dims=[3, 1], values=[-1, 1], image_shape=(8, 8), ax=ax
    )
    assert disp.ax_ is ax
    assert disp.figure_ is fig
    assert disp.im_.get_array().shape == (2 * 9 - 1, 2 * 9 - 1)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["z[3]", "z[1]"]


def test_traversal_line_plots_for_tables():
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])
    vae = tiny_vae(n_components=3).fit(X)
    disp = TraversalDisplay.from_estimator(vae, X.iloc[0], values=[-2, 0, 2])
    assert disp.im_ is None
    assert disp.lines_.shape == (3, 3)  # (dimensions, features)
    assert disp.axes_.shape == (3,)
    expected = vae.traverse(X.iloc[[0]], dim=1, values=[-2, 0, 2]).to_numpy()
    for j in range(3):
        np.testing.assert_array_equal(disp.lines_[1, j].get_xdata(), [-2, 0, 2])
        np.testing.assert_allclose(disp.lines_[1, j].get_ydata(), expected[:, j])
    labels = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert labels == ["a", "b", "c"]
    fig, axes = plt.subplots(1, 2)
    disp = TraversalDisplay.from_estimator(vae, X.iloc[0], dims=[0, 2], ax=axes)
    assert list(disp.axes_) == list(axes)
    assert disp.figure_ is fig
    with pytest.raises(ValueError, match="ax must hold 2 Axes, got 1"):
        TraversalDisplay.from_estimator(vae, X.iloc[0], dims=[0, 2], ax=axes[0])
    # a category column is left out of the line plots, the numbers are drawn
    typed = X.assign(kind=pd.Categorical(np.tile(["u", "v"], 20)))
    model = tiny_vae(n_components=2).fit(typed)
    disp = TraversalDisplay.from_estimator(model, typed.iloc[0], values=[-1, 1])
    assert disp.lines_.shape == (2, 3)
    assert [t.get_text() for t in disp.ax_.get_legend().get_texts()] == ["a", "b", "c"]


def test_traversal_bad_inputs(vae4, data):
    X, _ = data
    with pytest.raises(ValueError, match="from one row"):
        TraversalDisplay.from_estimator(vae4, X[:2], image_shape=(8, 8))
    with pytest.raises(ValueError, match="holds 32 values"):
        TraversalDisplay.from_estimator(vae4, X[0], image_shape=(4, 8))
    with pytest.raises(ValueError, match="dim must be an integer"):
        TraversalDisplay.from_estimator(vae4, X[0], dims=[4], image_shape=(8, 8))
    with pytest.raises(ValueError, match="one value per column"):
        TraversalDisplay(np.zeros((2, 3, 4)), [0, 1]).plot()
    with pytest.raises(ValueError, match="one name per feature"):
        TraversalDisplay(np.zeros((2, 3, 4)), [0, 1, 2], feature_names=["a"]).plot()
    with pytest.raises(NotFittedError):
        TraversalDisplay.from_estimator(VAE(), X[0])


# --------------------------------------------------------------------- common
@pytest.mark.parametrize(
    "display",
    [
        LatentSpaceDisplay(np.zeros((3, 2))),
        ReconstructionDisplay(np.zeros((2, 4)), np.zeros((2, 4)), image_shape=(2, 2)),
        SamplesDisplay(np.zeros((2, 4)), image_shape=(2, 2)),
        InterpolationDisplay(np.zeros((3, 4)), image_shape=(2, 2)),
        LossCurveDisplay([{"epoch": 1, "train_loss": 1.0}]),
        KLPerDimensionDisplay([[0.5, 0.0]]),
        TraversalDisplay(np.zeros((2, 3, 4)), [0, 1, 2], image_shape=(2, 2)),
        TraversalDisplay(np.zeros((2, 3, 4)), [0, 1, 2]),
    ],
    ids=lambda d: type(d).__name__,
)
def test_plot_returns_self_and_a_clear_error_without_matplotlib(display, monkeypatch):
    assert display.plot() is display
    assert display.ax_.figure is display.figure_
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'skvae\[plot\]'"):
        display.plot()


def test_an_ax_that_is_not_one_axes_is_refused(vae2, data):
    """ax=3 or an array of axes: a clear TypeError, not a matplotlib crash."""
    X, _ = data
    _, axes = plt.subplots(1, 2)
    for ax in (3, axes):
        with pytest.raises(TypeError, match="one matplotlib Axes"):
            LatentSpaceDisplay.from_estimator(vae2, X, ax=ax)
    plt.close("all")


def test_class_colours_of_a_continuous_map_span_it():
    # "viridis" gave its first 3 of 256 entries: every class one purple
    points = np.random.RandomState(0).normal(size=(30, 2))
    y = np.repeat([0, 1, 2], 10)
    disp = LatentSpaceDisplay(points, y=y).plot(cmap="viridis")
    colours = np.array(
        [h.get_markerfacecolor()[:3] for h in disp.legend_.legend_handles]
    )
    assert np.abs(np.diff(colours, axis=0)).sum(axis=1).min() > 0.3
    np.testing.assert_allclose(
        colours[[0, -1]], plt.get_cmap("viridis")([0.0, 1.0])[:, :3]
    )
    tab = LatentSpaceDisplay(points, y=y).plot(cmap="tab10")  # a qualitative map
    first = [h.get_markerfacecolor()[:3] for h in tab.legend_.legend_handles]
    np.testing.assert_allclose(first, plt.get_cmap("tab10")(range(3))[:, :3])
    many = np.arange(30) % 12
    with pytest.warns(UserWarning, match="has 9 colours for 12 classes"):
        LatentSpaceDisplay(points, y=many).plot(cmap="Set1")
    plt.close("all")


def test_colour_limits_given_out_of_order_are_refused():
    # vmax <= vmin was replaced by vmin + 1 without a word
    images = np.random.RandomState(0).uniform(size=(3, 16))
    for vmin, vmax in ((1, 0), (0.5, 0.5)):
        with pytest.raises(ValueError, match="vmax must be greater than vmin"):
            SamplesDisplay(images, image_shape=(4, 4)).plot(vmin=vmin, vmax=vmax)
    disp = SamplesDisplay(images, image_shape=(4, 4)).plot(vmin=0.2, vmax=0.7)
    assert disp.im_.get_clim() == (0.2, 0.7)
