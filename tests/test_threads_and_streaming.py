"""Fits in threads (issue 21, D2) and big requests in bounded memory (D4)."""

import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from conftest import estimator_classes, tiny
from sklearn.model_selection import GridSearchCV

import skvae
from skvae import VAE, BaseVAE
from skvae._base import sample_in_blocks
from skvae._torch import Stream, draw_seed, make_generator
from skvae.cli import main
from skvae.nn.likelihoods import NegativeBinomialLikelihood, standard_gamma

SAMPLERS = [cls for cls in estimator_classes() if hasattr(cls, "sample")]


def _data(n=120, d=6, seed=0):
    return np.random.RandomState(seed).normal(size=(n, d))


def _weights(model):
    return {k: v.clone() for k, v in model.module_.state_dict().items()}


def _same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture
def no_global_rng(monkeypatch):
    """Fail on any use of torch's global generator through its public seams."""

    def refusal(name):
        def refuse(*args, **kwargs):
            raise AssertionError(f"the global torch generator was used ({name})")

        return refuse

    for name in ("fork_rng", "manual_seed", "seed", "set_rng_state"):
        monkeypatch.setattr(torch.random, name, refusal(f"torch.random.{name}"))
    for name in ("manual_seed", "seed", "set_rng_state"):
        monkeypatch.setattr(torch, name, refusal(f"torch.{name}"))


# ------------------------------------------------------------------ threads
def _wide(seed):
    # wide layers: building takes long enough for two threads to interleave
    return VAE(
        n_components=3,
        hidden_layer_sizes=(256, 256),
        max_iter=1,
        random_state=seed,
        device="cpu",
    )


def _fit_together(seeds, X):
    start = threading.Barrier(len(seeds))

    def fit(seed):
        model = _wide(seed)
        start.wait()
        return _weights(model.fit(X))

    with ThreadPoolExecutor(len(seeds)) as pool:
        return list(pool.map(fit, seeds))


def test_concurrent_fits_with_the_same_seed_are_bit_identical():
    X = _data(60, 20)
    alone = {seed: _weights(_wide(seed).fit(X)) for seed in (0, 1)}
    for _ in range(4):
        a, b, c = _fit_together([0, 0, 1], X)
        assert _same_weights(a, alone[0])
        assert _same_weights(b, alone[0])
        assert _same_weights(c, alone[1])


def test_fits_in_threads_leave_the_global_random_states_alone():
    X = _data(60, 20)
    torch.manual_seed(123)
    np.random.seed(7)  # noqa: NPY002 (the caller's legacy global state)
    torch_before = torch.get_rng_state().clone()
    numpy_before = np.random.get_state()  # noqa: NPY002
    for _ in range(5):
        _fit_together([0, 1, None], X)
        assert torch.equal(torch_before, torch.get_rng_state())
        numpy_after = np.random.get_state()  # noqa: NPY002
        assert numpy_before[0] == numpy_after[0]
        np.testing.assert_array_equal(numpy_before[1], numpy_after[1])
        assert numpy_before[2:] == numpy_after[2:]


class _DropoutBody(torch.nn.Module):
    """A user network whose dropout draws from torch's global generator."""

    def __init__(self, n_inputs):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(n_inputs, 16), torch.nn.ReLU(), torch.nn.Dropout(0.3)
        )

    def forward(self, x):
        return self.net(x)


def test_user_networks_with_dropout_follow_random_state_alone():
    """A user network's dropout drew from the caller's global generator: the
    fit followed torch.manual_seed, not random_state, moved the caller's
    state, and differed between threads."""
    X = _data(60, 6)

    def fit(global_seed=None):
        if global_seed is not None:  # the caller's draws (not in threads)
            torch.manual_seed(global_seed)
        before = torch.get_rng_state().clone()
        model = VAE(n_components=2, max_iter=3, random_state=0, encoder=_DropoutBody)
        model.fit(X)
        if global_seed is not None:
            assert torch.equal(before, torch.get_rng_state())
        return model

    one, other = _weights(fit(1)), _weights(fit(99))
    assert _same_weights(one, other)
    seeded = VAE(n_components=2, max_iter=3, random_state=1, encoder=_DropoutBody)
    assert not _same_weights(one, _weights(seeded.fit(X)))
    with ThreadPoolExecutor(3) as pool:
        fits = list(pool.map(lambda _: _weights(fit()), range(3)))
    assert all(_same_weights(one, f) for f in fits)


def test_grid_search_under_threads_matches_the_serial_search():
    joblib = pytest.importorskip("joblib")
    X = _data(80, 6)
    grid = {"n_components": [2, 3], "beta": [0.5, 1.0]}

    def search():
        model = VAE(hidden_layer_sizes=(128, 128), max_iter=2, random_state=0)
        return GridSearchCV(model, grid, cv=2).fit(X).cv_results_

    serial = search()
    with joblib.parallel_backend("threading", n_jobs=4):
        threaded = search()
    for key in ("split0_test_score", "split1_test_score", "mean_test_score"):
        np.testing.assert_array_equal(serial[key], threaded[key])


def test_standard_gamma_draws_only_from_its_generator(no_global_rng):
    shape = torch.tensor([0.3, 1.0, 2.5, 40.0], dtype=torch.float64).repeat(5000)
    a = standard_gamma(shape, torch.Generator().manual_seed(3))
    b = standard_gamma(shape, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert bool((a >= 0).all())
    means = a.reshape(-1, 4).mean(0)
    np.testing.assert_allclose(means, [0.3, 1.0, 2.5, 40.0], rtol=0.05)


def test_negative_binomial_samples_are_the_same_in_threads(no_global_rng):
    lik = NegativeBinomialLikelihood(50)
    params = torch.linspace(-2, 3, 50).repeat(40, 1)

    def draw(seed):
        return lik.sample(params, torch.Generator().manual_seed(seed))

    alone = [draw(seed) for seed in range(8)]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(draw, range(8)))
    assert all(torch.equal(x, y) for x, y in zip(alone, together, strict=True))


@pytest.mark.parametrize("cls", SAMPLERS, ids=lambda c: c.__name__)
def test_sampling_and_scoring_never_use_the_global_generator(cls, no_global_rng):
    X = np.abs(_data(40, 4)) if cls.__name__ != "SemiSupervisedVAE" else _data(40, 4)
    model = tiny(cls)
    if model.__sklearn_tags__().target_tags.required:
        model.fit(X, np.arange(40) % 2)
    else:
        model.fit(X)
    assert model.sample(5).shape == (5, 4)
    assert np.isfinite(model.score_samples(X)).all()


# --------------------------------------------------------------- streaming
CHUNK = 7


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(BaseVAE, "_BATCH_ROWS", CHUNK)
    monkeypatch.setattr(BaseVAE, "_SAMPLE_ROWS", CHUNK)


class RowSpy:
    """Records the rows of every call of every submodule of a module."""

    def __init__(self, module):
        self.rows = []
        self.handles = [
            m.register_forward_pre_hook(self._record) for m in module.modules()
        ]

    def _record(self, module, args):
        if args and isinstance(args[0], torch.Tensor) and args[0].ndim:
            self.rows.append(args[0].shape[0])

    def close(self):
        for handle in self.handles:
            handle.remove()


def _fitted(cls):
    X = _data(40, 4)
    model = tiny(cls)
    if model.__sklearn_tags__().target_tags.required:
        return model.fit(X, np.arange(40) % 2), X
    return model.fit(X), X


@pytest.mark.parametrize("cls", SAMPLERS, ids=lambda c: c.__name__)
def test_big_requests_call_the_module_on_bounded_chunks(cls, monkeypatch):
    model, X = _fitted(cls)
    n = 50
    Z = model.transform(np.tile(X, (2, 1))[:n])
    expected = {
        "inverse_transform": model.inverse_transform(Z),
        "interpolate": model.interpolate(X[:5], X[5:10], n_steps=10),
        "traverse": model.traverse(X[:5], dim=0, values=np.linspace(-2, 2, 10)),
    }
    monkeypatch.setattr(BaseVAE, "_BATCH_ROWS", CHUNK)
    monkeypatch.setattr(BaseVAE, "_SAMPLE_ROWS", CHUNK)
    spy = RowSpy(model.module_)
    try:
        got = {
            "inverse_transform": model.inverse_transform(Z),
            "interpolate": model.interpolate(X[:5], X[5:10], n_steps=10),
            "traverse": model.traverse(X[:5], dim=0, values=np.linspace(-2, 2, 10)),
        }
        spy.rows.clear()  # transform inside interpolate/traverse reads X only
        model.inverse_transform(Z)
        assert spy.rows
        assert max(spy.rows) <= CHUNK
        spy.rows.clear()
        samples = model.sample(n, random_state=1)
        assert spy.rows
        assert max(spy.rows) <= CHUNK
    finally:
        spy.close()
    for name, value in got.items():  # the chunk size never changes a decoding
        np.testing.assert_allclose(value, expected[name], rtol=1e-5, atol=1e-6)
    assert samples.shape == (n, 4)
    assert np.isfinite(samples).all()


@pytest.mark.parametrize("cls", SAMPLERS, ids=lambda c: c.__name__)
def test_sample_blocks_are_drawn_from_their_own_streams(cls, small_chunks):
    model, _ = _fitted(cls)
    rows = model.sample(3 * CHUNK + 2, random_state=5)
    np.testing.assert_array_equal(rows, model.sample(3 * CHUNK + 2, random_state=5))
    # a block's rows depend on the seed and the block, not on how many follow
    np.testing.assert_array_equal(rows[:CHUNK], model.sample(CHUNK, random_state=5))
    longer = model.sample(5 * CHUNK, random_state=5)
    np.testing.assert_array_equal(rows[: 3 * CHUNK], longer[: 3 * CHUNK])
    blocks = []
    sample_in_blocks(model, 3 * CHUNK + 2, blocks.append, random_state=5)
    assert [len(b) for b in blocks] == [CHUNK] * 3 + [2]
    np.testing.assert_array_equal(np.concatenate(blocks), rows)


def test_sample_within_one_block_is_the_stream_itself():
    model, _ = _fitted(VAE)
    gen = make_generator(draw_seed(3), Stream.SAMPLE)
    with torch.inference_mode():
        direct = model.module_.sample(100, gen).numpy()
    np.testing.assert_allclose(model.sample(100, random_state=3), direct, rtol=1e-6)


def test_family_arguments_are_passed_block_by_block(small_chunks):
    X = _data(60, 4)
    vade = tiny(skvae.VaDE).fit(X)
    clusters = np.arange(3 * CHUNK) % 3
    rows = vade.sample(3 * CHUNK, cluster=clusters, random_state=0)
    assert rows.shape == (3 * CHUNK, 4)
    np.testing.assert_array_equal(
        rows[:CHUNK], vade.sample(CHUNK, cluster=clusters[:CHUNK], random_state=0)
    )
    cvae = tiny(skvae.ConditionalVAE).fit(X, np.arange(60) % 2)
    labels = np.arange(3 * CHUNK) % 2
    rows = cvae.sample(3 * CHUNK, y=labels, random_state=0)
    np.testing.assert_array_equal(
        rows[:CHUNK], cvae.sample(CHUNK, y=labels[:CHUNK], random_state=0)
    )


def test_cli_sample_writes_blocks_as_they_come(tmp_path, small_chunks, monkeypatch):
    model, _ = _fitted(VAE)
    path = tmp_path / "vae.skvae"
    skvae.save(model, path)
    written = []
    import skvae._base as base

    real = base.sample_in_blocks

    def spy(est, n, write, **kwargs):
        def recording(block):
            written.append(len(block))
            write(block)

        return real(est, n, recording, **kwargs)

    monkeypatch.setattr(base, "sample_in_blocks", spy)
    out = tmp_path / "samples.csv"
    n = 3 * CHUNK + 1
    args = ["sample", str(path), "-n", str(n), "--random-state", "2", "-o", str(out)]
    assert main(args) == 0
    assert written == [CHUNK] * 3 + [1]
    lines = out.read_text().splitlines()
    assert lines[0] == "x0,x1,x2,x3"
    np.testing.assert_allclose(
        np.array([line.split(",") for line in lines[1:]], float),
        model.sample(n, random_state=2),
    )


def test_sample_memory_does_not_grow_with_n(tmp_path):
    # Unbatched, 100,000 rows through a 2,048-wide layer take about 1.6 GB.
    script = textwrap.dedent(
        """
        import resource, numpy as np, torch
        from skvae import VAE
        torch.set_num_threads(1)
        X = np.random.RandomState(0).normal(size=(50, 10))
        vae = VAE(hidden_layer_sizes=(2048,), max_iter=1, device="cpu").fit(X)
        vae.sample(4096)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rows = vae.sample(100_000)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert rows.shape == (100_000, 10)
        print((after - before) // 1024)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    grown_mb = int(out.stdout.split()[-1])
    assert grown_mb < 300  # the result is 8 MB; one block's layers about 70 MB
