"""M2's per-step shortcuts: the values of the plain computation, for less work."""

import pytest
import torch
from torch import nn

from skvae.nn import BernoulliLikelihood
from skvae.nn.conditional import SemiSupervisedVAEModule
from skvae.nn.networks import NetworkSpec


class _Body(nn.Module):
    def __init__(self, n_inputs, hidden=6):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_inputs, hidden), nn.Tanh())

    def forward(self, x):
        return self.net(x)


def _module(kind):
    settings = {"mlp": {}, "conv": {"input_shape": (1, 4, 4)}}
    settings["custom"] = {"encoder": NetworkSpec(_Body)}
    hidden = (3,) if kind == "conv" else (8, 5)
    torch.manual_seed(0)
    return SemiSupervisedVAEModule(
        16,
        3,
        2,
        hidden,
        "relu",
        BernoulliLikelihood(16),
        torch.full((3,), -1.0986),
        alpha=1.0,
        **settings[kind],
    )


@pytest.mark.parametrize("kind", ["mlp", "conv", "custom"])
def test_pairs_share_each_rows_encoding_to_float_rounding(kind):
    # every (row, class) pair's posterior, and the weights' gradients, as
    # encoding the row with the one-hot label appended
    module = _module(kind)
    x = torch.rand(5, 16)
    rows = torch.tensor([0, 0, 1, 2, 2, 2, 4])
    classes = torch.tensor([0, 2, 1, 0, 1, 2, 2])
    eye = torch.eye(3)
    results = []
    for shared in (True, False):
        module.zero_grad()
        if shared:
            mu, log_var = module._encode_pairs(x, rows, classes)
        else:
            mu, log_var = module.encode(x[rows], eye[classes])
        (mu.square().sum() + log_var.sum()).backward()
        grads = [p.grad.clone() for p in module.encoder.parameters()]
        results.append((mu.detach(), log_var.detach(), grads))
    (mu, log_var, grads), (mu0, log_var0, grads0) = results
    assert mu.shape == (7, 2)
    torch.testing.assert_close(mu, mu0, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(log_var, log_var0, rtol=1e-5, atol=1e-6)
    for g, g0 in zip(grads, grads0, strict=True):
        torch.testing.assert_close(g, g0, rtol=1e-5, atol=1e-6)
