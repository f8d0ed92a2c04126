"""skvae inside scikit-learn: Pipeline, GridSearchCV, set_output, clustering."""

import numpy as np
import pytest
from conftest import tiny_vae
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skvae import VAE


def test_pipeline_scaler_vae_kmeans_finds_the_digit_structure(digits):
    X, y = digits
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("vae", VAE(n_components=8, max_iter=40, random_state=0)),
            ("kmeans", KMeans(10, n_init=10, random_state=0)),
        ]
    )
    labels = pipe.fit_predict(X)
    assert labels.shape == (X.shape[0],)
    # Far above chance (ARI 0) on the digits' ten classes.
    assert adjusted_rand_score(y, labels) > 0.3


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_over_beta_and_n_components_with_default_score(digits, n_jobs):
    X, _ = digits
    grid = GridSearchCV(
        VAE(max_iter=15, hidden_layer_sizes=(64,), random_state=0, device="cpu"),
        {"beta": [1.0, 4.0], "n_components": [2, 8]},
        cv=2,
        n_jobs=n_jobs,
    )
    grid.fit(X[:600])
    scores = grid.cv_results_["mean_test_score"]
    assert scores.shape == (4,)
    assert np.all(np.isfinite(scores))
    assert grid.best_params_["n_components"] in (2, 8)
    assert grid.best_estimator_.transform(X[:5]).shape == (
        5,
        grid.best_params_["n_components"],
    )


def test_set_output_pandas(small_X):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(small_X, columns=[f"f{i}" for i in range(6)])
    vae = tiny_vae().set_output(transform="pandas").fit(df)
    out = vae.transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["vae0", "vae1"]
    assert list(vae.feature_names_in_) == list(df.columns)
    pipe = Pipeline([("scale", StandardScaler()), ("vae", tiny_vae())])
    out = pipe.set_output(transform="pandas").fit_transform(df)
    assert list(out.columns) == ["vae0", "vae1"]
