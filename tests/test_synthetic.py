"""Synthetic tables: ``sample(noise=True)`` draws from p(x | z) (issue 25, item 1)."""

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import SPECIES, diabetes_table, iris_table, tiny
from sklearn.datasets import load_digits, load_iris

from skvae import VAE, ConditionalVAE, VaDE, tabular_synthesizer
from skvae._base import sample_in_blocks
from skvae._frames import TableEncoder
from skvae.nn.likelihoods import drawing


@pytest.fixture(scope="module")
def iris_vae():
    return tiny(VAE, max_iter=20).fit(iris_table())


def test_draws_keep_types_and_differ_from_point_values(iris_vae):
    frame = iris_table()
    point = iris_vae.sample(200, random_state=1)
    drawn = iris_vae.sample(200, random_state=1, noise=True)
    assert drawn.dtypes.equals(frame.dtypes)
    assert list(drawn.columns) == list(frame.columns)
    assert list(drawn["species"].cat.categories) == SPECIES
    numbers = frame.columns[:4]
    assert not np.allclose(drawn[numbers], point[numbers])
    # the noise has the learned variance: draws spread more than the means
    assert (drawn[numbers].std() > point[numbers].std()).all()


def test_draws_are_reproducible(iris_vae):
    first = iris_vae.sample(50, random_state=3, noise=True)
    assert first.equals(iris_vae.sample(50, random_state=3, noise=True))
    assert not first.equals(iris_vae.sample(50, random_state=4, noise=True))


def test_category_draws_follow_the_model_probabilities(iris_vae):
    n = 4000
    drawn = iris_vae.sample(n, random_state=0, noise=True)
    freq = drawn["species"].value_counts(normalize=True).reindex(SPECIES)
    # the model's probabilities of the species, averaged over the prior
    module = iris_vae.module_
    gen = torch.Generator().manual_seed(0)
    with torch.inference_mode():
        z = module.prior.sample(20000, gen)
        expected = module.likelihood.expectation(module.decoder(z)).mean(0)
    start, stop = iris_vae.table_encoder_._slices[4]
    expected = expected[start:stop].numpy()
    np.testing.assert_allclose(freq.to_numpy(), expected, atol=0.03)
    # the point values take the most probable species instead
    point = iris_vae.sample(n, random_state=0)["species"]
    point = point.value_counts(normalize=True).reindex(SPECIES).fillna(0)
    assert not np.allclose(point.to_numpy(), expected, atol=0.03)


def test_integer_and_string_columns_stay_in_range():
    frame = diabetes_table()
    vae = tiny(VAE, max_iter=5).fit(frame)
    rows = vae.sample(300, random_state=2, noise=True)
    assert rows.dtypes.equals(frame.dtypes)
    assert set(rows["sex"]) == {"female", "male"}
    assert rows["age"].between(frame["age"].min(), frame["age"].max()).all()
    assert rows["age"].nunique() > 5


def test_bernoulli_draws_are_zero_or_one():
    X = (load_digits().data[:200] > 7).astype(np.float32)
    vae = tiny(VAE, likelihood="bernoulli").fit(X)
    point = vae.sample(20, random_state=0)
    drawn = vae.sample(20, random_state=0, noise=True)
    assert ((point > 0) & (point < 1)).any()
    assert set(np.unique(drawn)) <= {0.0, 1.0}


def test_count_draws_are_counts():
    rng = np.random.RandomState(0)
    X = rng.poisson(3.0, size=(120, 3)).astype(float)
    vae = tiny(VAE, likelihood={"poisson": [0, 1], "negbin": [2]}).fit(X)
    drawn = vae.sample(200, random_state=0, noise=True)
    assert (drawn >= 0).all()
    assert np.array_equal(drawn, np.round(drawn))
    assert not np.array_equal(drawn, vae.sample(200, random_state=0))


def test_conditional_draws_of_a_chosen_class():
    frame = iris_table()
    X, y = frame.drop(columns="species"), frame["species"]
    model = tiny(ConditionalVAE, max_iter=10).fit(X, y)
    point = model.sample(100, random_state=0, y="virginica")
    drawn = model.sample(100, random_state=0, y="virginica", noise=True)
    assert drawn.dtypes.equals(X.dtypes)
    assert not np.allclose(drawn, point)
    assert drawn.equals(model.sample(100, random_state=0, y="virginica", noise=True))


def test_vade_draws_from_a_cluster():
    X = load_iris().data
    model = tiny(VaDE).fit(X)
    drawn = model.sample(30, random_state=0, cluster=1, noise=True)
    assert drawn.shape == (30, 4)
    assert not np.allclose(drawn, model.sample(30, random_state=0, cluster=1))


def test_blocks_give_the_rows_of_sample(iris_vae):
    parts = []
    sample_in_blocks(iris_vae, 30, parts.append, random_state=5, noise=True)
    expected = iris_vae.sample(30, random_state=5, noise=True)
    assert pd.concat(parts, ignore_index=True).equals(expected)


@pytest.mark.parametrize("noise", ["yes", 1, None])
def test_noise_must_be_a_boolean(iris_vae, noise):
    with pytest.raises(TypeError, match="noise must be True or False"):
        iris_vae.sample(3, noise=noise)


def test_drawing_is_undone_after_the_block(iris_vae):
    module = iris_vae.module_
    z = torch.zeros(2, module.n_latent)
    with torch.inference_mode():
        before = module.decode_mean(z)
        with drawing(torch.Generator().manual_seed(0)):
            module.decode_mean(z)
        assert torch.equal(before, module.decode_mean(z))


# ----------------------------------------------- quantile columns and recipe
def _zero_inflated_table():
    """Diabetes with a bounded float column (a share in [0, 1]) and many zeros."""
    frame = diabetes_table()
    frame["share"] = (frame["bmi"] - frame["bmi"].min()) / np.ptp(frame["bmi"])
    frame["spend"] = np.where(frame["s5"] > frame["s5"].median(), frame["s1"], 0.0)
    return frame


def test_quantile_columns_round_trip_exactly_and_are_normal_scores():
    frame = _zero_inflated_table()
    numbers = [c for c in frame.columns if c != "sex"]
    enc = TableEncoder({"quantile": numbers}).fit(frame)
    assert all(enc.types_[c] == "quantile" for c in numbers)
    assert enc.types_["sex"] == "categorical"
    assert enc.spec_["gaussian"] == [
        enc._slices[frame.columns.get_loc(c)][0] for c in numbers
    ]
    encoded = enc.transform(frame)
    assert enc.decode(encoded).equals(frame)  # exact: the imputer keeps values
    scores = encoded[:, enc._slices[frame.columns.get_loc("s1")][0]]
    assert abs(scores.mean()) < 0.05
    assert 0.9 < scores.std() < 1.05
    assert frame.equals(_zero_inflated_table())  # the input is not modified


def test_quantile_decoding_stays_in_range_and_keeps_point_masses():
    frame = _zero_inflated_table()
    enc = TableEncoder({"quantile": ["age", "share", "spend"]}).fit(frame)
    z = np.random.RandomState(0).normal(0, 1.5, size=(4000, enc.n_encoded_))
    z[:, 1:3] = [1.0, 0.0]  # a valid one-hot "sex"
    rows = enc.decode(z)
    for column in ["age", "share", "spend"]:
        assert rows[column].between(frame[column].min(), frame[column].max()).all()
    assert rows["age"].dtype == np.int64
    assert set(rows["age"]) <= set(range(frame["age"].min(), frame["age"].max() + 1))
    # standard normal scores give the column's own zero share back
    z = np.random.RandomState(1).normal(size=(4000, enc.n_encoded_))
    z[:, 1:3] = [1.0, 0.0]
    zeros = (enc.decode(z)["spend"] == 0).mean()
    assert abs(zeros - (frame["spend"] == 0).mean()) < 0.03


def test_point_masses_survive_the_thinning_of_many_knots():
    """Past 1,000 distinct values the knots were thinned evenly, keeping one
    knot of most plateaus: repeated values decoded as their neighbours'
    blend (25.0 as 25.005), and a sample's whole-number share fell from 0.38
    to 0.01."""
    rng = np.random.RandomState(0)
    n = 3000
    whole = rng.rand(n) < 0.4
    x = np.where(whole, rng.randint(0, 50, n), rng.lognormal(size=n) * 10)
    frame = pd.DataFrame({"x": x})
    enc = TableEncoder({"quantile": ["x"]}).fit(frame)
    assert len(enc._quantiles["x"][0]) <= 1000  # thinned
    back = enc.decode(enc.transform(frame))["x"].to_numpy()
    np.testing.assert_array_equal(back[whole], x[whole])
    drawn = enc.decode(rng.normal(size=(20000, 1)))["x"].to_numpy()
    assert abs(np.mean(drawn == np.round(drawn)) - whole.mean()) < 0.03


def test_log_jacobian_is_the_derivative_of_the_scores():
    frame = _zero_inflated_table()[["bmi", "s1"]]
    enc = TableEncoder({"quantile": ["bmi", "s1"]}).fit(frame)
    rows = frame.iloc[:20] + 0.013  # inside segments
    step = 1e-4
    up, down = enc.transform(rows + step), enc.transform(rows - step)
    numeric = np.log((up - down) / (2 * step)).sum(axis=1)
    np.testing.assert_allclose(enc.log_jacobian(rows), numeric, rtol=1e-5)


def test_quantile_needs_number_columns_of_a_table():
    with pytest.raises(ValueError, match=r"only number .* can be 'quantile'"):
        TableEncoder({"quantile": ["species"]}).fit(iris_table())
    with pytest.raises(ValueError, match="Unknown column types"):
        TableEncoder({"quantiel": ["species"]}).fit(iris_table())
    empty = pd.DataFrame({"x": [np.nan, np.nan], "c": ["a", "b"]})
    with pytest.raises(ValueError, match="'x' has no observed value"):
        TableEncoder({"quantile": ["x"]}).fit(empty)
    X = load_iris().data
    # an array: told it is a DataFrame's type (it read as an unknown one)
    with pytest.raises(ValueError, match="'quantile' columns are columns of a"):
        tiny(VAE, likelihood={"quantile": [0]}).fit(X)
    with pytest.raises(TypeError, match="DataFrame"):
        tabular_synthesizer(X)


def test_recipe_gives_typed_tables_inside_their_ranges():
    frame = _zero_inflated_table()
    frame["flag"] = frame["s4"] > 4  # a boolean column
    synth = tabular_synthesizer(frame, random_state=0, max_iter=20)
    assert isinstance(synth, VAE)
    assert synth.batch_size == len(frame) // 8
    assert synth.likelihood == {
        "quantile": [c for c in frame if c not in ("sex", "flag")]
    }
    synth.fit(frame)
    assert synth.table_encoder_.types_["flag"] == "bernoulli"
    rows = synth.sample(500, random_state=0, noise=True)
    assert rows.dtypes.equals(frame.dtypes)
    assert list(rows.columns) == list(frame.columns)
    assert set(rows["sex"]) == {"female", "male"}
    for column in frame.columns.drop(["sex", "flag"]):
        assert rows[column].between(frame[column].min(), frame[column].max()).all()
    assert 0 < (rows["spend"] == 0).mean() < 1
    assert rows.equals(synth.sample(500, random_state=0, noise=True))
    # a model fitted on raw (unscaled) columns still scores in finite nats
    assert np.isfinite(synth.score_samples(frame)).all()


def test_recipe_fits_a_table_with_holes_and_draws_whole_rows():
    frame = iris_table()
    holes = frame.copy()
    holes.iloc[::7, 0] = np.nan
    holes.iloc[3::11, -1] = None  # the species, a category column
    synth = tabular_synthesizer(holes, random_state=0, max_iter=5)
    assert synth.missing == "mask"
    assert tabular_synthesizer(frame, random_state=0).missing != "mask"
    rows = synth.fit(holes).sample(50, random_state=0, noise=True)
    assert not rows.isna().any().any()
    assert rows.dtypes.equals(frame.dtypes)


def test_recipe_keeps_the_shares_of_a_number_column_of_few_values():
    # a quantile column put each value at one normal score: a 0/1 flag with
    # 20% ones came back with 11%, a 1-5 rating's ends with half their share
    frame = diabetes_table().drop(columns="sex")
    rng = np.random.default_rng(0)
    frame["smoker"] = (rng.random(len(frame)) < 0.2).astype("int64")
    frame["grade"] = rng.choice(
        [1, 2, 3, 4, 5], len(frame), p=[0.05, 0.15, 0.6, 0.15, 0.05]
    )
    frame["dose"] = rng.choice([0.5, 1.0, 2.0], len(frame))  # floats of a few values
    synth = tabular_synthesizer(frame, random_state=0, max_iter=40)
    assert synth.likelihood["categorical"] == ["smoker", "grade", "dose"]
    assert "smoker" not in synth.likelihood["quantile"]
    # too few rows for each of its values to be seen 5 times: a number column
    assert "categorical" not in tabular_synthesizer(frame.head(8)).likelihood
    rows = synth.fit(frame).sample(4000, random_state=0, noise=True)
    assert rows.dtypes.equals(frame.dtypes)
    assert abs(rows["smoker"].mean() - frame["smoker"].mean()) < 0.06  # was 0.09
    real = frame["grade"].value_counts(normalize=True)
    drawn = rows["grade"].value_counts(normalize=True).reindex(real.index)
    assert (drawn - real).abs().max() < 0.08
    assert (drawn[[1, 5]] > 0.6 * real[[1, 5]]).all()  # were about 0.45 of it
    assert set(rows["dose"]) <= {0.5, 1.0, 2.0}


@pytest.mark.parametrize(
    ("n_rows", "batch_size", "epochs"),
    [
        (150, 18, 45),  # iris: the 400 steps at least, 9 a epoch
        (442, 55, 99),  # diabetes: two steps a row, 884 in 9 a epoch
        (4000, 128, 47),  # the 1,500 steps at most, 32 a epoch
    ],
)
def test_recipe_training_length_follows_the_rows(n_rows, batch_size, epochs):
    frame = diabetes_table().sample(n_rows, replace=n_rows > 442, random_state=0)
    synth = tabular_synthesizer(frame)
    assert (synth.batch_size, synth.max_iter) == (batch_size, epochs)
    assert synth.learning_rate_init == 2e-3
    assert tabular_synthesizer(frame, max_iter=7).max_iter == 7  # overrides win


def test_recipe_rows_of_the_asked_class_and_no_copies():
    from sklearn.model_selection import train_test_split
    from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

    frame = iris_table()
    train, held = train_test_split(
        frame, test_size=0.3, random_state=0, stratify=frame["species"]
    )
    X, y = train.drop(columns="species"), train["species"]
    synth = tabular_synthesizer(
        X, y, random_state=0, hidden_layer_sizes=(32,), n_components=2, max_iter=80
    )
    assert isinstance(synth, ConditionalVAE)
    synth.fit(X, y)
    judge = KNeighborsClassifier(5).fit(X, y)  # real rows: 0.95 right
    for species in SPECIES:
        point = synth.sample(100, random_state=1, y=species)
        assert (judge.predict(point) == species).mean() > 0.85, species
        rows = synth.sample(100, random_state=1, y=species, noise=True)
        assert rows.dtypes.equals(X.dtypes)
        assert (judge.predict(rows) == species).mean() > 0.7, species
    # copying check: synthetic rows are no closer to the training rows than
    # real held-out rows are, and none is a training row
    rows = synth.sample(len(held), random_state=2, y=held["species"], noise=True)
    scale = X.std()
    near = NearestNeighbors(n_neighbors=1).fit(X / scale)
    synthetic = np.median(near.kneighbors(rows / scale)[0])
    real = np.median(near.kneighbors(held.drop(columns="species") / scale)[0])
    assert synthetic >= 0.8 * real
    assert not rows.merge(X.drop_duplicates()).shape[0]


def test_quantile_models_save_and_load(tmp_path):
    from skvae import load, save

    frame = diabetes_table()
    model = tabular_synthesizer(frame, random_state=0, max_iter=2).fit(frame)
    save(model, tmp_path / "m.skvae")
    loaded = load(tmp_path / "m.skvae")
    assert loaded.table_encoder_.types_ == model.table_encoder_.types_
    expected = model.sample(20, random_state=0, noise=True)
    assert loaded.sample(20, random_state=0, noise=True).equals(expected)


def test_quantile_records_are_checked():
    frame = diabetes_table()
    enc = TableEncoder({"quantile": ["age", "bmi"]}).fit(frame)
    record = enc.to_record()
    again = TableEncoder.from_record(record)
    assert again.decode(enc.transform(frame)).equals(frame)
    j = list(frame.columns).index("bmi")
    bad = dict(record, quantiles=list(record["quantiles"]))
    bad["quantiles"][j] = [
        list(reversed(record["quantiles"][j][0])),
        *record["quantiles"][j][1:],
    ]
    with pytest.raises(ValueError, match="invalid quantile knots"):
        TableEncoder.from_record(bad)
    bad["quantiles"] = [None] * len(frame.columns)  # types say quantile
    with pytest.raises(ValueError, match="quantile knots"):
        TableEncoder.from_record(bad)
    # a record written before quantile columns existed still loads
    plain = TableEncoder().fit(frame).to_record()
    del plain["quantiles"]
    assert (
        TableEncoder.from_record(plain).decode(enc.transform(frame)).shape
        == frame.shape
    )


def test_imputer_fills_quantile_columns_inside_their_range():
    from skvae import VAEImputer

    frame = diabetes_table()
    holes = frame.copy()
    holes.loc[::5, "bmi"] = np.nan
    model = tiny(VAE, likelihood={"quantile": ["bmi", "s1", "age"]}, max_iter=5)
    imputer = VAEImputer(model, n_importance_samples=4, random_state=0)
    imputer.set_output(transform="pandas")
    filled = imputer.fit_transform(holes)
    assert imputer.table_encoder_.types_["bmi"] == "quantile"
    seen = holes["bmi"].notna()
    assert filled.loc[seen, "bmi"].equals(holes.loc[seen, "bmi"])
    assert filled["bmi"].between(holes["bmi"].min(), holes["bmi"].max()).all()


def test_recipe_names_columns_by_position_where_labels_are_numbers():
    frame = iris_table()
    frame.columns = [7, 5, 3, 1, 9]  # integer labels, not the positions
    synth = tabular_synthesizer(frame, random_state=0, max_iter=2)
    assert synth.likelihood == {"quantile": [0, 1, 2, 3]}
    synth.fit(frame)
    assert synth.table_encoder_.types_[5] == "quantile"
    assert synth.table_encoder_.types_[9] == "categorical"
    assert synth.sample(5, random_state=0, noise=True).dtypes.equals(frame.dtypes)


def test_scores_of_quantile_columns_are_in_the_tables_units():
    # The quantile map reads ranks, so a column ten times larger gives the
    # same fit on the normal scores; its density in its own units is then
    # ten times lower: log p drops by log(10) per rescaled column.
    frame = iris_table()
    first, third = frame.columns[0], frame.columns[2]
    wide = frame.assign(**{first: frame[first] * 10})
    likelihood = {"quantile": [first, third]}
    model = tiny(VAE, max_iter=3, likelihood=likelihood).fit(frame)
    model_wide = tiny(VAE, max_iter=3, likelihood=likelihood).fit(wide)
    for method in ("score_samples", "reconstruction_log_likelihood"):
        np.testing.assert_allclose(
            getattr(model_wide, method)(wide),
            getattr(model, method)(frame) - np.log(10),
            rtol=1e-5,
            atol=1e-3,
        )
