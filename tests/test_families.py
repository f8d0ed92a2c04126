"""The rules that keep the model families one level deep (docs/developers.rst).

Every public estimator subclasses ``BaseVAE`` (or, for the meta-estimators,
``BaseEstimator``) directly, plus single-purpose mixins; no model file imports
another family's file; ``skvae.nn`` knows nothing of scikit-learn; every
parameter is in the signature, the constraints and the docstring, with one
wording where it means the same; and no parameter is read through
``getattr(self, name, default)``.
"""

import ast
import inspect
import re
from pathlib import Path

import pytest
from conftest import estimator_classes
from numpydoc.docscrape import ClassDoc
from sklearn.base import BaseEstimator
from sklearn.utils._testing import assert_docstring_consistency

from skvae import BaseVAE

SKVAE = Path(__file__).resolve().parents[1] / "skvae"
FAMILIES = [c for c in estimator_classes() if issubclass(c, BaseVAE)]
ESTIMATORS = estimator_classes()


def _imports(path):
    """Modules a file imports (absolute names)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_no_model_family_imports_another():
    wrong = []
    for path in sorted((SKVAE / "models").glob("*.py")):
        for module in _imports(path):
            if not module.startswith("skvae.models."):
                continue
            target = module.rsplit(".", 1)[1]
            if not target.startswith("_") and target != path.stem:
                wrong.append(f"{path.name} imports {module}")
    assert not wrong, wrong


def test_nn_knows_nothing_of_scikit_learn_or_the_estimators():
    wrong = [
        f"{path.name} imports {module}"
        for path in sorted((SKVAE / "nn").glob("*.py"))
        for module in _imports(path)
        if module.split(".")[0] == "sklearn"
        or (module.startswith("skvae") and not module.startswith("skvae.nn"))
    ]
    assert not wrong, wrong


def _is_single_purpose_mixin(base):
    """A mixin answering one question: named ...Mixin, not an estimator itself."""
    return base.__name__.endswith("Mixin") and not issubclass(base, BaseEstimator)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_estimator_is_one_level_below_its_base(cls):
    base = BaseVAE if issubclass(cls, BaseVAE) else BaseEstimator
    assert base in cls.__bases__
    others = [b for b in cls.__bases__ if b is not base]
    assert all(_is_single_purpose_mixin(b) for b in others), others


def _documented(cls):
    names = set()
    for param in ClassDoc(cls)["Parameters"]:
        names.update(n.strip() for n in param.name.split(","))
    return names - {"**kwargs"}


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_signature_constraints_and_docstring_name_the_same_parameters(cls):
    signature = set(inspect.signature(cls.__init__).parameters) - {"self", "kwargs"}
    assert set(cls._parameter_constraints) == signature
    assert _documented(cls) == signature


# Parameters whose options or defaults really differ between the families
# that take them, so their entries cannot share one wording.
_OWN_WORDING = {
    "likelihood": "the observation models differ (VQ, WAE and AAE have no mask)",
    "max_iter": "the epochs a family needs differ (and VQ's count its prior apart)",
    "batch_size": "'auto' differs: VaDE's paper batch of 100, 200 elsewhere",
    "hidden_layer_sizes": "the defaults differ, and convolutional models read "
    "them as channels",
    "n_components": "hierarchical models take one size per layer",
    "beta": "the KL weight in VAEs, the MMD or adversarial weight in WAE and AAE",
    "kl_warmup": "the default warm-up differs by family",
    "learning_rate_init": "M2's default is higher: its budget is shorter per row",
    "input_shape": "convolutional layouts differ (VQ's code maps)",
    "validation_fraction": "the labelled models hold out each class's share",
    "encoder, decoder": "the networks' inputs and outputs differ by family",
    "n_iter_no_change": "families with a KL schedule count a cyclical schedule's "
    "periods",
    "precision": "VaDE's capped pretraining runs under bfloat16 where native",
}


def _families_taking(name):
    return [c for c in FAMILIES if name in _doc_entries(c)]


def _doc_entries(cls):
    return {p.name for p in ClassDoc(cls)["Parameters"]}


_SHARED = sorted(
    {n for cls in FAMILIES for n in _doc_entries(cls) if not n.startswith("**")}
    - set(_OWN_WORDING)
)


@pytest.mark.parametrize("name", _SHARED)
def test_a_shared_parameter_has_one_wording(name):
    classes = _families_taking(name)
    if len(classes) < 2:
        pytest.skip(f"{name} is one family's own")
    assert_docstring_consistency(classes, include_params=[name])


def test_exempt_wordings_are_parameters_and_say_why():
    for name, reason in _OWN_WORDING.items():
        assert reason, name
        assert len(_families_taking(name)) > 1, name


def test_no_parameter_is_read_with_getattr_and_a_default():
    params = {
        name
        for cls in ESTIMATORS
        for name in inspect.signature(cls.__init__).parameters
    } - {"self", "kwargs"}
    pattern = re.compile(r"getattr\(\s*self\s*,\s*[\"'](\w+)[\"']")
    found = [
        f"{path.relative_to(SKVAE)}:{n}: {m.group(1)}"
        for path in sorted(SKVAE.rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        for m in pattern.finditer(line)
        if m.group(1) in params
    ]
    assert not found, found
