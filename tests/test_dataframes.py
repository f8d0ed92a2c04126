"""pandas DataFrames in and typed DataFrames out (issue 23, items 1 and 2)."""

import warnings
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from conftest import SPECIES, diabetes_table, estimator_classes, iris_table, tiny
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.datasets import load_iris
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import skvae
from skvae import VAE, VaDE, VAEImputer, VAEOutlierDetector
from skvae._base import sample_in_blocks
from skvae._frames import TableEncoder
from skvae.persistence import InvalidModelFileError


def nullable_table():
    """Nullable integers and booleans, strings, with holes (pd.NA, None, NaN)."""
    rng = np.random.RandomState(0)
    n = 60
    visits = pd.array(rng.poisson(3, n), dtype="Int64")
    visits[::9] = pd.NA
    smoker = pd.array(rng.uniform(size=n) < 0.3, dtype="boolean")
    smoker[::11] = pd.NA
    city = pd.Series(rng.choice(["Oslo", "Lima", "Pune"], n), dtype=object)
    city[::7] = None
    height = rng.normal(170, 10, n)
    height[::13] = np.nan
    return pd.DataFrame(
        {"visits": visits, "smoker": smoker, "city": city, "height": height}
    )


def test_iris_with_a_category_column_fits_and_samples_typed_rows():
    frame = iris_table()
    vae = tiny(VAE, likelihood="auto").fit(frame)
    assert list(vae.feature_names_in_) == list(frame.columns)
    assert vae.n_features_in_ == 5
    assert vae.table_encoder_.types_["species"] == "categorical"
    assert vae.table_encoder_.types_["sepal length (cm)"] == "gaussian"
    assert ("categorical", [4, 5, 6]) in vae.column_types_
    rows = vae.sample(20)
    assert isinstance(rows, pd.DataFrame)
    assert list(rows.columns) == list(frame.columns)
    assert rows.dtypes.equals(frame.dtypes)
    assert rows["species"].cat.categories.tolist() == SPECIES
    assert rows.notna().all().all()


def test_inverse_transform_gives_the_table_back_typed():
    frame = iris_table()
    vae = tiny(VAE).fit(frame)
    decoded = vae.inverse_transform(vae.transform(frame))
    assert isinstance(decoded, pd.DataFrame)
    assert decoded.dtypes.equals(frame.dtypes)
    assert decoded.shape == frame.shape
    assert set(decoded["species"]) <= set(SPECIES)


def test_diabetes_with_string_sex_and_integer_age():
    frame = diabetes_table()
    vae = tiny(VAE, likelihood="auto").fit(frame)
    types = vae.table_encoder_.types_
    assert types["sex"] == "categorical"
    assert types["age"] == "gaussian"  # counts only where the user says so
    rows = vae.sample(50, random_state=1)
    assert rows.dtypes.equals(frame.dtypes)
    assert set(rows["sex"]) <= {"female", "male"}
    low, high = frame["age"].min(), frame["age"].max()
    assert rows["age"].between(low, high).all()


def test_same_seed_same_typed_sample():
    frame = diabetes_table()
    vae = tiny(VAE).fit(frame)
    assert vae.sample(10, random_state=3).equals(vae.sample(10, random_state=3))


def test_nullable_table_with_holes_needs_missing_mask():
    frame = nullable_table()
    with pytest.raises(ValueError, match=r"visits.*missing='mask'"):
        tiny(VAE).fit(frame)
    vae = tiny(VAE, likelihood="auto", missing="mask").fit(frame)
    types = vae.table_encoder_.types_
    assert types == {
        "visits": "gaussian",
        "smoker": "bernoulli",
        "city": "categorical",
        "height": "gaussian",
    }
    rows = vae.sample(30)
    assert rows.dtypes.equals(frame.dtypes)
    assert rows.notna().all().all()
    assert set(rows["city"]) <= {"Oslo", "Lima", "Pune"}
    assert np.isfinite(vae.score_samples(frame)).all()


def test_holes_are_named_by_column():
    frame = nullable_table().assign(empty=pd.array([pd.NA] * 60, dtype="Float64"))
    with pytest.raises(ValueError, match=r"\['empty'\] have no observed value"):
        tiny(VAE, missing="mask").fit(frame)
    with pytest.raises(ValueError, match="VaDE has no 'missing' parameter"):
        tiny(VaDE).fit(nullable_table())


def test_sample_in_blocks_hands_typed_blocks():
    frame = iris_table()
    vae = tiny(VAE).fit(frame)
    parts = []
    sample_in_blocks(vae, 7, parts.append, random_state=0)
    assert pd.concat(parts, ignore_index=True).equals(vae.sample(7, random_state=0))


def test_column_types_overridden_by_name():
    frame = nullable_table().assign(grade=np.tile([1, 2, 5], 20))
    vae = tiny(
        VAE,
        likelihood={"poisson": ["visits"], "categorical": ["grade"]},
        missing="mask",
    ).fit(frame)
    types = vae.table_encoder_.types_
    assert types["visits"] == "poisson"
    assert types["grade"] == "categorical"
    assert vae.table_encoder_.categories_["grade"].tolist() == [1, 2, 5]
    rows = vae.sample(40)
    assert rows["grade"].dtype == frame["grade"].dtype
    assert set(rows["grade"]) <= {1, 2, 5}
    with pytest.raises(ValueError, match="'city' holds categories"):
        tiny(VAE, likelihood={"gaussian": ["city"]}, missing="mask").fit(frame)
    with pytest.raises(ValueError, match="'nope'"):
        tiny(VAE, likelihood={"poisson": ["nope"]}, missing="mask").fit(frame)


def test_default_likelihood_reads_the_dtypes():
    """Under the default "gaussian", booleans are Bernoulli and numbers Gaussian."""
    iris = load_iris(as_frame=True).frame
    frame = iris.drop(columns="target").assign(
        setosa=iris["target"] == 0, species=pd.Categorical(iris["target"])
    )
    vae = tiny(VAE).fit(frame)
    types = vae.table_encoder_.types_
    assert types["setosa"] == "bernoulli"
    assert types["species"] == "categorical"
    assert types["sepal length (cm)"] == "gaussian"
    # a dict that does not name the boolean keeps it Bernoulli; naming it wins
    named = tiny(VAE, likelihood={"gaussian": ["setosa"]}).fit(frame)
    assert named.table_encoder_.types_["setosa"] == "gaussian"
    other = tiny(VAE, likelihood={"poisson": []}).fit(frame)
    assert other.table_encoder_.types_["setosa"] == "bernoulli"
    assert vae.sample(5, random_state=0)["setosa"].dtype == bool


def test_unseen_category_is_a_clear_error():
    frame = iris_table()
    vae = tiny(VAE).fit(frame)
    new = frame.head(3).copy()
    new["species"] = new["species"].cat.add_categories(["setosa-x"])
    new.loc[1, "species"] = "setosa-x"
    for method in (vae.transform, vae.score_samples):
        with pytest.raises(ValueError, match=r"'species'.*'setosa-x'"):
            method(new)


def test_a_boolean_column_refuses_other_values_at_transform():
    iris = load_iris(as_frame=True).frame
    frame = iris.drop(columns="target").assign(setosa=iris["target"] == 0)
    vae = tiny(VAE).fit(frame)
    as_numbers = frame.head(4).assign(setosa=[1.0, 0.0, 1.0, 0.0])
    assert np.isfinite(vae.transform(as_numbers)).all()  # 1/0 are fine
    half = as_numbers.assign(setosa=[1.0, 0.5, 0.0, 0.0])
    for method in (vae.transform, vae.score_samples):
        with pytest.raises(ValueError, match=r"'setosa'.*boolean.*\[0\.5\]"):
            method(half)


def test_declared_categories_are_kept_for_later_chunks():
    frame = iris_table()
    first = frame[frame["species"] == "setosa"]  # one observed category
    vae = tiny(VAE).partial_fit(first)
    assert vae.table_encoder_.categories_["species"].tolist() == SPECIES
    vae.partial_fit(frame[frame["species"] == "virginica"])
    assert vae.sample(5)["species"].dtype == frame["species"].dtype


def test_unsupported_dtype_is_named():
    frame = iris_table().assign(when=pd.date_range("2020-01-01", periods=150))
    with pytest.raises(TypeError, match="'when'"):
        tiny(VAE).fit(frame)


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ([["x", "y"], ["z"]], "list"),
        ([{"k": 1}, {"k": 2}], "dict"),
        ([{1}, {2}], "set"),
        ([(1, [2]), (3, [4])], "tuple"),
    ],
)
def test_columns_of_lists_or_dicts_are_named_in_fit_and_transform(values, kind):
    # as JSON gives them (pd.json_normalize, an API's tags): pandas' bare
    # "unhashable type" named no column
    frame = iris_table().assign(tags=values * 75)
    with pytest.raises(TypeError, match=f"Column 'tags' holds {kind} values.*Spread"):
        tiny(VAE).fit(frame)
    model = tiny(VAE).fit(iris_table().assign(tags=["p", "q"] * 75))
    with pytest.raises(TypeError, match=f"Column 'tags' holds {kind} values"):
        model.transform(frame)


def test_a_boolean_column_given_as_text_is_named_as_boolean():
    frame = iris_table().assign(flag=[True, False] * 75)
    model = tiny(VAE).fit(frame)
    with pytest.raises(ValueError, match="'flag' must hold True/False"):
        model.transform(frame.assign(flag=["True", "False"] * 75))


def test_sparse_integer_columns_are_integers(tmp_path):
    # np.dtype(Sparse[int64, 0]) raised a TypeError that named no column
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(
        {
            "count": pd.arrays.SparseArray(rng.poisson(1.0, 60)),
            "small": pd.arrays.SparseArray(rng.poisson(1.0, 60).astype(np.uint8)),
            "x": rng.normal(size=60),
        }
    )
    model = tiny(VAE).fit(frame)
    assert model.table_encoder_.kinds_ == ["integer", "integer", "float"]
    rows = model.sample(20, random_state=0)
    assert rows.dtypes.equals(frame.dtypes)
    assert (rows["small"].to_numpy() >= 0).all()
    skvae.save(model, tmp_path / "m.skvae")
    np.testing.assert_array_equal(
        skvae.load(tmp_path / "m.skvae").transform(frame), model.transform(frame)
    )


@pytest.mark.parametrize(
    "cls",
    [
        c
        for c in estimator_classes()
        if "likelihood" in c().get_params() and c.__name__ != "VQVAE2"
    ],
    ids=lambda c: c.__name__,
)
def test_every_model_with_a_likelihood_takes_a_table(cls):
    frame = iris_table()
    y = np.arange(len(frame)) % 2
    takes_y = cls.__name__ in ("ConditionalVAE", "SemiSupervisedVAE")
    model = tiny(cls).fit(frame, y) if takes_y else tiny(cls).fit(frame)
    assert model.transform(frame).shape[0] == len(frame)
    rows = model.sample(4)
    assert rows.dtypes.equals(frame.dtypes)


def test_numpy_in_numpy_out_unchanged():
    X = load_iris().data
    vae = tiny(VAE).fit(X)
    assert isinstance(vae.sample(3), np.ndarray)
    assert isinstance(vae.inverse_transform(vae.transform(X[:2])), np.ndarray)
    assert not hasattr(vae, "table_encoder_")


def test_interpolate_on_a_table_gives_rows():
    frame = iris_table()
    vae = tiny(VAE).fit(frame)
    path = vae.interpolate(frame.iloc[0], frame.iloc[100], n_steps=4)
    assert isinstance(path, pd.DataFrame)
    assert path.shape == (4, 5)
    assert path.dtypes.equals(frame.dtypes)


def test_outlier_detector_takes_a_table():
    frame = iris_table()
    detector = VAEOutlierDetector(tiny(VAE), random_state=0).fit(frame)
    labels = detector.predict(frame)
    assert set(labels) <= {-1, 1}
    assert list(detector.feature_names_in_) == list(frame.columns)


def test_a_detector_names_its_own_remedy_for_holes():
    # the model's message told the user to set a parameter the detector lacks
    frame, holes = _iris_with_holes()
    detector = VAEOutlierDetector(tiny(VAE), random_state=0).fit(frame)
    remedy = r"\['sepal width \(cm\)', 'species'\].*VAE\(missing='mask'\), n_nei"
    with pytest.raises(ValueError, match=remedy):
        detector.score_samples(holes)
    with pytest.raises(ValueError, match=remedy):
        VAEOutlierDetector(tiny(VAE), random_state=0).fit(holes)
    # the remedies it names score them: filled first, or masked
    filled = make_pipeline(
        VAEImputer(random_state=0), VAEOutlierDetector(tiny(VAE), random_state=0)
    ).set_output(transform="pandas")
    assert np.isfinite(filled.fit(holes).score_samples(holes)).all()
    masked = tiny(VAE, missing="mask")
    fitted = VAEOutlierDetector(masked, n_neighbors=0, trim_fraction=0).fit(holes)
    assert np.isfinite(fitted.score_samples(holes)).all()


def _iris_with_holes():
    frame = iris_table()
    holes = frame.copy()
    rng = np.random.RandomState(0)
    holes.loc[rng.uniform(size=len(frame)) < 0.2, "species"] = np.nan
    holes.loc[rng.uniform(size=len(frame)) < 0.1, "sepal width (cm)"] = np.nan
    return frame, holes


def test_imputer_fills_category_holes_with_valid_categories():
    frame, holes = _iris_with_holes()
    vae = VAE(n_components=2, max_iter=100, batch_size=32, likelihood="auto")
    imputer = VAEImputer(vae, random_state=0).set_output(transform="pandas")
    filled = imputer.fit(holes).transform(holes)
    assert filled.dtypes.equals(frame.dtypes)
    assert filled.index.equals(holes.index)
    assert filled.notna().all().all()
    observed = holes.notna()
    assert filled[observed].equals(holes[observed])
    hole = holes["species"].isna()
    # petal sizes tell the species apart: far better than chance (1/3)
    assert (filled["species"] == frame["species"])[hole].mean() > 0.7


def test_the_default_imputers_gaussian_covers_booleans_not_categories():
    # a table's booleans are the Gaussian's too; a category's holes take its
    # most probable level, which a linear fit of its one-hot columns ranks
    # poorly (iris's species: 0.75 right against the VAE's 0.96)
    frame, holes = _iris_with_holes()
    imputer = VAEImputer(random_state=0).set_output(transform="pandas")
    filled = imputer.fit(holes).transform(holes)
    np.testing.assert_array_equal(imputer.gaussian_model_columns_, np.arange(4))
    assert (filled["species"] == frame["species"])[holes["species"].isna()].mean() > 0.9
    wide = (frame["species"] != "setosa").astype("boolean")
    flags = frame.drop(columns="species").assign(wide=wide)
    gaps = flags.copy()
    gaps.loc[np.random.RandomState(1).uniform(size=150) < 0.2, "wide"] = pd.NA
    some = np.random.RandomState(2).uniform(size=150) < 0.1
    gaps.loc[some, "petal width (cm)"] = np.nan
    imputer = VAEImputer(random_state=0).set_output(transform="pandas")
    out = imputer.fit(gaps).transform(gaps)
    np.testing.assert_array_equal(imputer.gaussian_model_columns_, np.arange(5))
    assert out.dtypes.equals(flags.dtypes)
    assert out.notna().all().all()
    assert (out["wide"] == flags["wide"])[gaps["wide"].isna()].mean() > 0.9


def test_multiple_imputation_draws_valid_categories():
    _, holes = _iris_with_holes()
    imputer = VAEImputer(tiny(VAE), sample_posterior=True, random_state=0)
    filled = imputer.set_output(transform="pandas").fit(holes).transform(holes)
    assert set(filled["species"]) <= set(SPECIES)
    assert filled.notna().all().all()
    assert filled.equals(imputer.transform(holes))  # an int seed: the same draw


def test_imputer_default_output_is_an_array():
    _, holes = _iris_with_holes()
    imputer = VAEImputer(tiny(VAE), random_state=0).fit(holes)
    out = imputer.transform(holes)
    assert isinstance(out, np.ndarray)
    assert out.dtype == object
    assert set(out[:, 4]) <= set(SPECIES)
    numbers = load_iris(as_frame=True).data
    numbers.iloc[::7, 1] = np.nan
    out = VAEImputer(tiny(VAE), random_state=0).fit(numbers).transform(numbers)
    assert out.dtype == np.float64
    assert not np.isnan(out).any()


def test_imputer_in_a_pandas_pipeline():
    frame, holes = _iris_with_holes()
    imputer = VAEImputer(tiny(VAE), random_state=0)
    encode = ColumnTransformer(
        [
            ("num", StandardScaler(), make_column_selector(dtype_include="number")),
            ("cat", OneHotEncoder(sparse_output=False), ["species"]),
        ]
    )
    pipe = make_pipeline(imputer, encode).set_output(transform="pandas")
    out = pipe.fit_transform(holes)
    assert isinstance(out, pd.DataFrame)
    assert "cat__species_setosa" in out.columns
    assert not out.isna().any().any()
    names = imputer.get_feature_names_out()
    assert list(names) == list(frame.columns)


def test_table_models_save_and_load():
    frame = nullable_table()
    vae = tiny(VAE, likelihood="auto", missing="mask").fit(frame)
    path = "table_model.skvae"
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, path)
        skvae.save(vae, path)
        loaded = skvae.load(path)
    assert loaded.sample(5, random_state=0).equals(vae.sample(5, random_state=0))
    assert loaded.table_encoder_.types_ == vae.table_encoder_.types_


def test_edited_table_records_are_refused():
    enc = TableEncoder().fit(iris_table())
    record = enc.to_record()
    record["dtypes"][0] = "datetime64[ns]"
    with pytest.raises(ValueError, match="Unexpected dtype"):
        TableEncoder.from_record(record)
    record = enc.to_record()
    record["spec"] = {"categorical": [[4, 5, 99]]}
    with pytest.raises(ValueError, match="bad column"):
        TableEncoder.from_record(record)
    from skvae.persistence import _table_encoder

    with pytest.raises(InvalidModelFileError):
        _table_encoder({"columns": []})


def test_onnx_encoder_of_a_table_model_reads_encoded_columns(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from skvae.export import to_onnx

    frame = iris_table()
    vae = tiny(VAE).fit(frame)
    path = tmp_path / "encoder.onnx"
    to_onnx(vae, path)
    session = ort.InferenceSession(str(path))
    encoded = vae.table_encoder_.transform(frame).astype(np.float32)
    (codes,) = session.run(None, {"X": encoded})
    np.testing.assert_allclose(codes, vae.transform(frame), atol=1e-5)


def test_an_array_for_a_model_of_a_table_with_categories_is_refused_clearly():
    iris = load_iris(as_frame=True).frame
    frame = iris.drop(columns="target").assign(
        species=pd.Categorical(iris["target"].map({0: "a", 1: "b", 2: "c"}))
    )
    vae = tiny(VAE).fit(frame)
    with pytest.raises(ValueError, match=r"category columns \['species'\]; pass a"):
        vae.transform(np.zeros((2, 5)))


def test_booleans_beside_zero_or_one_in_an_object_column_are_refused():
    # True == 1: one category, which decoded True as 1 (or 1 as True)
    mixed = pd.DataFrame({"o": pd.Series([1, True, "a", 0, False] * 8, dtype=object)})
    with pytest.raises(ValueError, match=r"Column 'o' holds booleans and numbers"):
        TableEncoder().fit(mixed)
    # booleans with other values are categories that decode as they were
    for values in ([True, False, "a", None], [True, 2, "a", 2.5]):
        frame = pd.DataFrame({"o": pd.Series(values * 10, dtype=object)})
        encoder = TableEncoder().fit(frame)
        back = encoder.decode(encoder.transform(frame))["o"]
        assert [type(v) for v in back] == [type(v) for v in frame["o"]]
        assert back.tolist() == frame["o"].tolist()


def test_a_bad_value_is_named_by_its_column():
    """A value a column's type cannot take is reported by the column's name
    (a table's boolean column, a named array's count column), not by its
    position among the encoded columns."""
    frame = pd.DataFrame(
        {
            "c": pd.Categorical(list("abab") * 10),
            "b": [True, False] * 20,
            "f": np.arange(40.0),
        }
    )
    model = VAE(max_iter=2, random_state=0).fit(frame)
    later = frame.astype({"b": int})
    later.loc[0, "b"] = 3
    with pytest.raises(ValueError, match=r"Column 'b' was boolean.*\[3\.0\]"):
        model.transform(later)
    with pytest.raises(ValueError, match=r"Columns \['b'\] are Bernoulli"):
        VAE(likelihood={"bernoulli": ["b"]}, max_iter=2).fit(later)
    tiny = frame.astype({"b": "float32"})
    tiny.loc[1, "b"] = np.float32(-1e-9)  # rounding, as a scaler leaves it
    with pytest.raises(ValueError, match=r"Column 'b' was boolean"):
        model.transform(tiny)
    counts = pd.DataFrame({"x": np.arange(40.0), "n": np.arange(40) % 4})
    model = VAE(likelihood={"poisson": ["n"]}, max_iter=2, random_state=0)
    model.fit(counts)
    later = counts.copy()
    later.loc[3, "n"] = -1
    with pytest.raises(ValueError, match=r"Columns \['n'\] are counts"):
        model.transform(later)


def test_imputer_refuses_a_value_a_fitted_column_cannot_take():
    """3 in a boolean column at transform is an error naming the column, not
    a silent True."""
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(
        {"b": rng.rand(60) > 0.5, "f": rng.normal(size=60), "n": rng.poisson(3, 60)}
    )
    frame.loc[::7, "f"] = np.nan
    imputer = VAEImputer(random_state=0, estimator=tiny(VAE)).fit(frame)
    later = frame.astype({"b": int})
    later.loc[1, "b"] = 3
    with pytest.raises(ValueError, match=r"Column 'b' was boolean.*\[3\.0\]"):
        imputer.transform(later)
    assert np.isfinite(imputer.transform(frame)).all()


def test_a_continued_fit_widens_the_integer_ranges_it_decodes_to():
    """The first fit's integer ranges clipped every later decoding: counts of
    3 to 9 in a second chunk decoded as 2, the first chunk's largest."""
    rng = np.random.RandomState(0)
    first = pd.DataFrame({"a": rng.normal(size=40), "k": rng.randint(0, 3, 40)})
    later = pd.DataFrame({"a": rng.normal(size=40), "k": rng.randint(3, 10, 40)})
    model = tiny(VAE).partial_fit(first)
    weight = np.where(later["k"] == later["k"].max(), 0.0, 1.0)
    model.partial_fit(later, sample_weight=weight)  # weight 0: not counted
    assert model.table_encoder_._ranges["k"] == (0, later["k"][weight > 0].max())
    decoded = model.table_encoder_.decode(np.array([[0.0, 8.4], [0.0, -3.0]]))
    assert decoded["k"].tolist() == [8, 0]
    model.partial_fit(later, sample_weight=2.0)  # a scalar weight: every row's
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(39,\)"):
        model.partial_fit(later, sample_weight=np.ones(39))
    warm = tiny(VAE, warm_start=True).fit(first)
    encoder = warm.table_encoder_
    assert warm.fit(later).table_encoder_._ranges["k"] == (0, later["k"].max())
    assert encoder._ranges["k"] == (0, 2)  # a copy: a failed fit keeps the old


def test_a_chunk_beyond_a_quantile_columns_range_is_warned_about():
    """A quantile column's map is fitted on the first chunk: later chunks
    with values beyond its range get a warning naming the column."""
    rng = np.random.RandomState(0)
    first = pd.DataFrame({"a": rng.uniform(0, 1, 40), "f": rng.normal(size=40)})
    later = pd.DataFrame({"a": rng.uniform(10, 11, 40), "f": rng.normal(size=40)})
    model = VAE(likelihood={"quantile": ["a"]}, max_iter=2, random_state=0)
    model.partial_fit(first)
    with pytest.warns(UserWarning, match=r"Columns \['a'\] \('quantile'\)"):
        model.partial_fit(later)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.partial_fit(first.iloc[:20])  # within the range: quiet


def test_an_object_column_of_numbers_is_a_category_with_a_warning():
    """Numbers kept in an object column are modelled as categories (their
    holes can only take values seen): said, with the remedy."""
    frame = pd.DataFrame(
        {
            "a": pd.Series([1.5, None, 2.25, 3.0] * 10, dtype=object),
            "f": np.arange(40.0),
        }
    )
    with pytest.warns(UserWarning, match=r"Column 'a' has dtype object.*astype"):
        model = tiny(VAE, missing="mask").fit(frame)
    assert model.table_encoder_.kinds_ == ["category", "float"]
    # Decimal, as SQL drivers read NUMERIC columns: said too (it was not)
    prices = pd.Series(
        [Decimal("9.99"), Decimal("19.99"), Decimal("4.5")] * 13 + [None]
    )
    with pytest.warns(UserWarning, match=r"Column 'a' has dtype object"):
        tiny(VAE, missing="mask").fit(frame.assign(a=prices))
    mixed = pd.Series([1, "1", "a", 2] * 10, dtype=object)  # 1 and "1"
    with pytest.warns(UserWarning, match=r"holds '1' both as text and as a"):
        tiny(VAE, missing="mask").fit(frame.assign(a=mixed))
    for other in (["x", "y"] * 20, pd.Categorical([1, 2] * 20)):
        with warnings.catch_warnings(record=True) as caught:  # text, declared
            warnings.simplefilter("always")
            tiny(VAE).fit(frame.assign(a=other))
        assert not [w for w in caught if "dtype object" in str(w.message)]


@pytest.mark.parametrize(
    ("column", "message"),
    [
        # a UCI-style marker among numbers
        (
            [*(f"{v:.1f}" for v in np.arange(39) * 1.5), "?"],
            r"also \['\?'\].*to_numeric",
        ),
        ([str(v) for v in np.arange(40) % 12], "numbers written as text"),
        ([f"user{i}" for i in range(80)][:40], "40 distinct values in 40 rows"),
    ],
    ids=["marker", "text", "identifier"],
)
def test_text_columns_that_may_be_meant_otherwise_are_warned_about(column, message):
    """Numbers with a stray marker, numbers as text (a CSV read with
    dtype=str) and identifiers became categories of one 0/1 column a value,
    unsaid (an identifier of 300 rows: 300 encoded columns)."""
    frame = pd.DataFrame({"c": pd.Series(column, dtype=object), "f": np.arange(40.0)})
    if message.startswith("40 distinct"):  # under 50 values: too few to doubt
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            TableEncoder().fit(frame)
        frame = pd.concat([frame, frame.assign(c=frame["c"] + "b")], ignore_index=True)
        message = "80 distinct values in 80 rows"
    with pytest.warns(UserWarning, match=message):
        model = tiny(VAE).fit(frame)
    assert model.table_encoder_.kinds_ == ["category", "float"]
    # no value at all: refused, with no doubt said first
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="has no category"):
            TableEncoder().fit(frame.assign(c=pd.Series([None] * 40, dtype=object)))
    # a few categories, some of them numbers: no doubt
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TableEncoder().fit(frame.head(40).assign(c=["1", "2", "?", "n/a"] * 10))


def test_save_writes_only_column_labels_load_reads(tmp_path):
    """Float labels round-trip; tuple labels (a MultiIndex) are refused by
    save, which once wrote a file that load refused."""
    rng = np.random.RandomState(0)
    floats = pd.DataFrame(rng.normal(size=(40, 2)), columns=[0.5, 1.5])
    model = tiny(VAE).fit(floats)
    skvae.save(model, tmp_path / "floats.skvae")
    again = skvae.load(tmp_path / "floats.skvae")
    np.testing.assert_array_equal(again.transform(floats), model.transform(floats))
    tuples = floats.set_axis(
        pd.MultiIndex.from_tuples([("g", "a"), ("g", "b")]), axis=1
    )
    with pytest.raises(TypeError, match=r"column label \('g', 'a'\).*rename"):
        skvae.save(tiny(VAE).fit(tuples), tmp_path / "tuples.skvae")
    assert not (tmp_path / "tuples.skvae").exists()
    with pytest.raises(TypeError, match="column label nan"):
        skvae.save(
            tiny(VAE).fit(floats.set_axis([0.5, np.nan], axis=1)), tmp_path / "n"
        )


@pytest.mark.parametrize("cls", [VAE, "VQVAE", "HierarchicalVAE"])
def test_inverse_transform_keeps_the_index_of_latents_in_a_frame(cls):
    """With pandas output, inverse_transform(transform(df)) once came back
    indexed 0..n-1: every cell misaligned against df."""
    cls = getattr(skvae, cls) if isinstance(cls, str) else cls
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(rng.normal(size=(30, 3)), columns=list("abc"))
    frame.index = range(100, 130)
    model = tiny(cls).set_output(transform="pandas").fit(frame)
    back = model.inverse_transform(model.transform(frame))
    assert back.index.equals(frame.index)
    assert not (frame - back).isna().any().any()


def test_integers_past_float_precision_keep_their_values():
    """Observed int64 ids past 2**53 came back off by one from the imputer,
    and uint64 values past 2**63 decoded below the column's minimum."""
    rng = np.random.RandomState(0)
    table = pd.DataFrame(
        {"a": rng.normal(size=40), "id": 2**53 + 2 * np.arange(40) + 1}
    )
    table.loc[::4, "a"] = np.nan
    imputer = VAEImputer(tiny(VAE), random_state=0).set_output(transform="pandas")
    filled = imputer.fit(table).transform(table)
    assert filled["id"].dtype == np.int64
    pd.testing.assert_series_equal(filled["id"], table["id"])
    later = table.astype({"id": "Int64"})  # another integer type, with a hole
    later.loc[3, "id"] = pd.NA
    filled = imputer.transform(later)
    seen = later["id"].notna()
    assert filled["id"][seen].tolist() == later["id"][seen].tolist()
    big = pd.DataFrame({"u": np.array([2**63 + 4096, 2**64 - 4096], dtype=np.uint64)})
    encoder = TableEncoder().fit(big)
    back = encoder.decode(encoder.transform(big))["u"]
    assert back.dtype == np.uint64
    assert back.min() >= 2**63


def test_imputer_gives_every_observed_cell_back_as_it_was():
    """A quantile column's observed cells went through its map: clipped to
    the fitted range (1e7 came back as the fit's largest value) and, past
    the map's 1,000 knots, moved (25.0 as 25.005), in rows with no hole; an
    integer column given 3.7 came back as 4."""
    rng = np.random.RandomState(0)
    table = pd.DataFrame(
        {
            "amount": rng.lognormal(size=1500) * 10,
            "a": rng.normal(size=1500),
            "k": rng.randint(0, 5, 1500),
        }
    )
    table.loc[::5, "a"] = np.nan
    vae = tiny(VAE, likelihood={"quantile": ["amount"]}, missing="mask")
    imputer = VAEImputer(vae, random_state=0).set_output(transform="pandas")
    filled = imputer.fit(table).transform(table)
    pd.testing.assert_series_equal(filled["amount"], table["amount"])
    seen = table["a"].notna()
    pd.testing.assert_series_equal(filled["a"][seen], table["a"][seen])
    later = table.iloc[:4].copy()
    later["amount"] = [1e7, -5.0, 500.0, 25.0]  # beyond the fitted range too
    later["a"] = np.nan
    assert filled.dtypes.equals(imputer.transform(later).dtypes)
    assert imputer.transform(later)["amount"].tolist() == [1e7, -5.0, 500.0, 25.0]
    later = later.astype({"k": float})
    later.loc[later.index[1], "k"] = 3.7
    with pytest.raises(ValueError, match=r"'k' was fitted as integer.*3\.7"):
        imputer.transform(later)


def test_a_table_model_takes_a_sparse_matrix_of_its_columns():
    """A dense array of a number table's columns was taken, a sparse matrix
    of them failed inside pandas ("Must pass 2-d input")."""
    import scipy.sparse as sp

    rng = np.random.RandomState(0)
    table = pd.DataFrame({"f": rng.normal(size=60), "k": rng.randint(0, 3, 60)})
    model = tiny(VAE, likelihood={"quantile": ["f"]}, warm_start=True).fit(table)
    rows = sp.csr_matrix(table.to_numpy(dtype=float))
    np.testing.assert_array_equal(model.score_samples(rows), model.score_samples(table))
    np.testing.assert_array_equal(model.transform(rows), model.transform(table))
    model.fit(rows)  # a continued fit too


def test_infinity_in_a_table_is_named_by_its_column():
    frame = pd.DataFrame({"a": [1.0, np.inf] * 20, "b": np.arange(40.0)})
    for missing in ("error", "mask"):
        with pytest.raises(ValueError, match=r"infinity in columns \['a'\]"):
            tiny(VAE, missing=missing).fit(frame)


def test_a_value_outside_the_fitted_integer_type_is_refused():
    """300 given later in a column fitted as int8 came back clipped to 127
    from the imputer (an observed value changed): refused, naming the type."""
    rng = np.random.RandomState(0)
    table = pd.DataFrame(
        {"a": rng.normal(size=40), "small": rng.randint(0, 5, 40).astype(np.int8)}
    )
    table.loc[::4, "a"] = np.nan
    imputer = VAEImputer(tiny(VAE), random_state=0).fit(table)
    wider = table.astype({"small": "int64"})
    assert np.isfinite(imputer.transform(wider)).all()  # in range: fine
    wider.loc[1, "small"] = 300  # a row without holes
    for method in (imputer.transform, tiny(VAE).fit(table.dropna()).transform):
        with pytest.raises(ValueError, match=r"'small' was int8.*\[300\.0\]"):
            method(wider if method == imputer.transform else wider.dropna())


def test_columns_of_other_labels_are_refused_whatever_the_label_kind(tmp_path):
    """Integer labels (those of ``pd.DataFrame(X)``) are checked as names
    are: reordered or relabelled columns were read by position, and a
    detector fitted on (x, 50 + 10 y) flagged every row of the swapped frame."""
    rng = np.random.RandomState(0)
    X = pd.DataFrame({0: rng.normal(size=150), 1: rng.normal(50, 10, size=150)})
    holes = X.copy()
    holes.iloc[:10, 0] = np.nan
    models = [
        tiny(VAE).fit(X),
        VAEOutlierDetector(tiny(VAE), random_state=0).fit(X),
        VAEImputer(tiny(VAE), random_state=0).fit(holes),
    ]
    skvae.save(models[0], tmp_path / "vae.skvae")
    models.append(skvae.load(tmp_path / "vae.skvae"))
    for model in models:
        read = model.transform if hasattr(model, "transform") else model.score_samples
        rows = holes if isinstance(model, VAEImputer) else X
        expected = read(rows)
        with pytest.raises(ValueError, match=r"fitted on \[0, 1\], given them in"):
            read(rows[[1, 0]])
        with pytest.raises(ValueError, match=r"given \[7, 8\]"):
            read(rows.set_axis([7, 8], axis=1))
        # the same labels of another dtype, and the rows as an array, as before
        np.testing.assert_array_equal(read(rows.set_axis([0.0, 1.0], axis=1)), expected)
        np.testing.assert_array_equal(read(rows.to_numpy()), expected)


def test_imputer_gaussian_covers_booleans_beside_a_category():
    # a boolean that the real columns give linearly: beside a category
    # column (which the Gaussian does not cover) it was the VAE's alone,
    # and 0.58 of its holes were right (0.99 without the category)
    rng = np.random.default_rng(20)
    n, k = 1000, 166
    z = rng.normal(size=(n, 3))
    flag = z[:, 1] > 0
    frame = pd.DataFrame(
        {
            "a": z[:, 0],
            "b": z[:, 0] + 0.3 * z[:, 1],
            "flag": pd.array(flag, dtype="boolean"),
            "y": z[:, 2] + 0.5 * z[:, 1],
            "noise": pd.Categorical(rng.choice(list("uvw"), n)),
        }
    )
    frame.loc[: k - 1, "flag"] = pd.NA
    imputer = VAEImputer(random_state=0).set_output(transform="pandas")
    filled = imputer.fit_transform(frame)
    assert (filled["flag"][:k].to_numpy(bool) == flag[:k]).mean() > 0.9
    cover = imputer.table_encoder_.encoded_names()[imputer.gaussian_model_columns_]
    assert "flag" in cover.tolist()
    assert not any(name.startswith("noise") for name in cover)  # three levels
    # a category of two levels is covered as a boolean is: it was the VAE's
    # alone, 0.61 of its holes right
    frame["flag"] = pd.Categorical(np.where(flag, "p", "q"))
    frame.loc[: k - 1, "flag"] = np.nan
    filled = imputer.fit_transform(frame)
    assert (filled["flag"][:k].to_numpy() == np.where(flag, "p", "q")[:k]).mean() > 0.9
