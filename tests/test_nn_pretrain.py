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


def test_auxiliary_loss_is_the_label_cross_entropy_plus_weighted_mean_over_auxiliary_labels():
    torch.manual_seed(0)
    net = BatchedMLP(2, 3, [5], 1 + 4, "tanh", skip=True)
    x = torch.randn(30, 3)
    y, a = torch.randint(0, 2, (30,)).float(), torch.randint(0, 2, (30, 4)).float()
    out = net(x)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    main = torch.stack([bce(out[k, :, 0], y) for k in range(2)])
    aux = torch.stack([bce(out[k, :, 1:], a) for k in range(2)])
    z = torch.cat([y[:, None], a], 1)
    got = _loss(net, x, z, classifier=True, n_aux=4, aux_weight=2.5)
    torch.testing.assert_close(got, main + 2.5 * aux)
    # per-network minibatches (the training loop's layout) give each network its own rows
    idx = torch.stack([torch.arange(10), torch.arange(10, 20)])
    per = _loss(net, x[idx], z[idx], classifier=True, n_aux=4, aux_weight=2.5)
    for k in range(2):
        rows = idx[k]
        expected = bce(out[k, rows, 0], y[rows]) + 2.5 * bce(out[k, rows, 1:], a[rows])
        torch.testing.assert_close(per[k], expected)
    # the best epoch is chosen on the label alone
    torch.testing.assert_close(_loss(net, x, y, classifier=True, selection=True, n_aux=4), main)


def _linear_probe_accuracy(net, x, labels):
    """Accuracy of a logistic regression on the networks' last hidden layer (first network)."""
    from sklearn.linear_model import LogisticRegression

    h = last_hidden(list(net.weights)[:-1], list(net.biases)[:-1], x, net.activation, net.skip)
    h = h[0].detach().numpy()
    return LogisticRegression(max_iter=2000).fit(h, labels.numpy()).score(h, labels.numpy())


def test_auxiliary_labels_shape_the_trunk_and_are_dropped_after_pretraining():
    """The label is a half plane; the auxiliary label the XOR of the two inputs' signs, which
    the hidden layer represents linearly only if the auxiliary loss trains it. A linear probe
    of the returned trunk finds it when the auxiliary weight is on, not when it is zero; the
    returned networks have one output either way."""
    torch.manual_seed(0)
    x = torch.rand(2000, 2) * 2 - 1
    board = (x[:, 0] * x[:, 1] > 0).float()
    y = (x.sum(1) > 0).float()
    accuracy = {}
    for weight in (0.0, 1.0):
        torch.manual_seed(1)
        net, _ = pretrain(x, y, (x[:200], y[:200]), n_networks=1, hidden=[32, 32],
                          activation="tanh", classifier=True, learning_rates=[1e-2], epochs=60,
                          batch_size=100, schedule="one_cycle", aux=board[:, None],
                          aux_weight=weight)
        assert net.weights[-1].shape[-1] == 1 and net.biases[-1].shape[-1] == 1
        accuracy[weight] = _linear_probe_accuracy(net, x, board)
    assert accuracy[1.0] > 0.95 and accuracy[0.0] < accuracy[1.0] - 0.15, accuracy
