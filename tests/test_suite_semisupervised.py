"""The semi-supervised task suite: its fixed split and its quick mode."""

import numpy as np
import pytest
from conftest import load_benchmark


@pytest.fixture(scope="module")
def suite():
    return load_benchmark("suite_semisupervised")


def test_the_split_is_fixed_by_the_task_names(suite):
    from _suites import half_of, select  # on the path once the suite is loaded

    names = [task.name for task in suite.TASKS]
    assert len(names) == len(set(names)) >= 16
    tuning, reporting = select(names, "tuning"), select(names, "reporting")
    assert sorted(tuning + reporting) == sorted(names)
    assert all(task.half == half_of(task.name) for task in suite.TASKS)
    assert all(half_of(n) == "tuning" for n in tuning)
    assert all(half_of(n) == "reporting" for n in reporting)
    # Names are stable (data, classes, budget), and so is their half.
    halves = {task.name: task.half for task in suite.TASKS}
    assert halves["digits-358-b3"] == "tuning"
    assert halves["mnist-all-b10"] == "reporting"
    assert len(tuning) >= 8
    assert len(reporting) >= 8
    assert {t.budget for t in suite.TASKS} == set(suite.BUDGETS) == {3, 5, 10, 20}
    # the quick tasks come from both halves
    assert {half_of(n) for n in suite.QUICK_TASKS} == {"tuning", "reporting"}


def test_a_task_hides_all_but_its_budget_of_labels(suite):
    task = next(t for t in suite.TASKS if t.name == "wine-all-b3")
    X, y, y_partial = suite.task_data(task, seed=0)
    assert X.shape[0] == y.shape[0] == y_partial.shape[0]
    np.testing.assert_allclose(X.mean(0), 0.0, atol=1e-9)  # standardised
    assert np.bincount(y_partial[y_partial != -1]).tolist() == [3, 3, 3]
    np.testing.assert_array_equal(y_partial[y_partial != -1], y[y_partial != -1])
    _, _, again = suite.task_data(task, seed=0)
    np.testing.assert_array_equal(again, y_partial)
    _, _, other = suite.task_data(task, seed=1)
    assert not np.array_equal(other, y_partial)


def test_quick_mode_runs_every_method(suite):
    names = list(suite.QUICK_TASKS[:2])
    methods, tasks, scores, seconds = suite.run(
        names, seeds=1, quick=True, verbose=False
    )
    assert tasks == names
    assert suite.OURS in methods
    assert len(methods) == 5
    assert scores.shape == seconds.shape == (len(names), len(methods))
    assert np.all((scores >= 0) & (scores <= 1))
    assert np.all(seconds >= 0)
    assert suite.gaps(methods, scores).shape == (len(names),)
