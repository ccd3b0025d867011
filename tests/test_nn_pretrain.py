"""Wide-and-deep forward pass and the heteroscedastic pre-training loss."""

import torch

from surrogates.bnn.pretrain import LOG_SCALE_RANGE, _loss, pretrain
from surrogates.nn import BatchedMLP, last_hidden


def test_skip_output_layer_sees_hidden_activations_and_inputs():
    torch.manual_seed(0)
    net = BatchedMLP(3, 4, [5, 6], 2, "silu", skip=True)
    x = torch.randn(7, 4)
    assert net.weights[-1].shape == (3, 6 + 4, 2)
    h = torch.nn.functional.silu(torch.nn.functional.silu(x @ net.weights[0][1] + net.biases[0][1])
                                 @ net.weights[1][1] + net.biases[1][1])
    expected = torch.cat([h, x], 1) @ net.weights[2][1] + net.biases[2][1]
    torch.testing.assert_close(net(x)[1], expected)
    feats = last_hidden(list(net.weights)[:-1], list(net.biases)[:-1], x, "silu", skip=True)
    torch.testing.assert_close(feats[1], torch.cat([h, x], 1))


def test_heteroscedastic_loss_trains_trunk_and_mean_by_least_squares_alone():
    """Stop-gradients: every weight but the scale head gets the squared error's gradient,
    whatever the scale; the scale head gets the Gaussian NLL's."""
    torch.manual_seed(0)
    net = BatchedMLP(2, 3, [4, 4], 2, "tanh", skip=True)
    with torch.no_grad():
        net.weights[-1][..., 1] *= 20  # scales far from 1, so a leak would show
    x, z = torch.randn(50, 3), torch.randn(50)
    grads = {}
    for name, kwargs in (("nll", {}), ("mse", {"selection": True})):
        net.zero_grad()
        _loss(net, x, z, classifier=False, **kwargs).sum().backward()
        grads[name] = {k: p.grad.clone() for k, p in net.named_parameters()}
    last = {"weights.2", "biases.2"}
    for key in grads["mse"]:
        g_nll, g_mse = grads["nll"][key], grads["mse"][key]
        if key not in last:
            torch.testing.assert_close(g_nll, g_mse)  # hidden layers
        else:
            torch.testing.assert_close(g_nll[..., 0], g_mse[..., 0])  # the mean column
            assert g_mse[..., 1].abs().max() == 0 and g_nll[..., 1].abs().max() > 0
    # the scale head's gradient is the NLL's: d/du [r^2 e^{-2u} + 2u] = 2 - 2 r^2 e^{-2u}
    h = last_hidden(list(net.weights)[:-1], list(net.biases)[:-1], x, "tanh", skip=True)
    f = (h @ net.weights[-1][..., :1] + net.biases[-1][..., :1])[..., 0]
    u = (h @ net.weights[-1][..., 1:] + net.biases[-1][..., 1:])[..., 0].clamp(*LOG_SCALE_RANGE)
    inside = ((u > LOG_SCALE_RANGE[0]) & (u < LOG_SCALE_RANGE[1])).float()
    du = (2 - 2 * (z - f) ** 2 * torch.exp(-2 * u)) / 50 * inside
    torch.testing.assert_close(grads["nll"]["biases.2"][..., 0, 1], du.sum(1).detach())


def test_heteroscedastic_network_learns_the_noise_level():
    torch.manual_seed(0)
    x = torch.rand(4000, 1)
    sd = 0.05 + 0.4 * x[:, 0]
    z = torch.sin(3 * x[:, 0]) + sd * torch.randn(4000)
    net, _ = pretrain(x, z, None, n_networks=1, hidden=[32, 32], activation="silu",
                      classifier=False, learning_rates=[1e-2], epochs=40, batch_size=200,
                      schedule="one_cycle", heteroscedastic=True)
    grid = torch.tensor([[0.1], [0.5], [0.9]])
    with torch.no_grad():
        learnt = torch.exp(net(grid)[0, :, 1])
    # the noise sd at 0.1 / 0.5 / 0.9 is 0.09 / 0.25 / 0.41: learnt within 25 %
    torch.testing.assert_close(learnt, 0.05 + 0.4 * grid[:, 0], rtol=0.25, atol=0.0)
