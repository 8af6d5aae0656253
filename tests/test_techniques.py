"""Dropout, L1, max-norm, Nesterov, Adam/AdamW against PyTorch in float64; early stopping and
the plateau schedule."""

from __future__ import annotations

import numpy as np
import pytest

from bprop import dropout, optimizers
from bprop.network import Network
from bprop.schedules import schedule, stalled
from bprop.train import sgd

torch = pytest.importorskip("torch")

N, M = 100, 5  # 20 mini-batches of 5: one epoch is 20 steps


def _data(seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, 4)), rng.integers(0, 3, N)


def _torch_loss(ws, bs, x, y, masks=None):
    """The quadratic cost of a sigmoid net, mean over the mini-batch, masks as in dropout."""
    a = x
    for i, (w, b) in enumerate(zip(ws, bs)):
        if masks is not None and i < len(masks) and masks[i] is not None:
            a = a * masks[i]
        a = torch.sigmoid(a @ w.T + b)
    return 0.5 * ((a - y) ** 2).sum(dim=1).mean()


def _torch_run(net, X, y, make_opt, l1=0.0, max_norm=None):
    """Train a copy of ``net`` for one unshuffled epoch with torch.optim; its final weights."""
    ws = [torch.tensor(w, requires_grad=True) for w in net.weights]
    bs = [torch.tensor(b, requires_grad=True) for b in net.biases]
    opt = make_opt(ws, bs)
    Y = torch.nn.functional.one_hot(torch.tensor(y), 3).double()
    Xt = torch.tensor(X)
    for k in range(N // M):
        opt.zero_grad()
        loss = _torch_loss(ws, bs, Xt[k * M : (k + 1) * M], Y[k * M : (k + 1) * M])
        if l1:
            loss = loss + (l1 / N) * sum(w.abs().sum() for w in ws)
        loss.backward()
        opt.step()
        if max_norm is not None:
            with torch.no_grad():
                for w in ws:
                    w.mul_(torch.clamp(max_norm / w.norm(dim=1, keepdim=True), max=1.0))
    return [w.detach().numpy() for w in ws], [b.detach().numpy() for b in bs]


def _groups(ws, bs, decay):
    return [{"params": ws, "weight_decay": decay}, {"params": bs, "weight_decay": 0.0}]


CASES = {
    "nesterov": (
        dict(eta=0.5, momentum=0.9, lmbda=2.0),
        lambda ws, bs: torch.optim.SGD(_groups(ws, bs, 0.02), lr=0.5, momentum=0.9, nesterov=True),
    ),
    "adam": (
        dict(eta=0.01, lmbda=2.0),
        lambda ws, bs: torch.optim.Adam(_groups(ws, bs, 0.02), lr=0.01),
    ),
    "adamw": (
        dict(eta=0.01, lmbda=2.0),
        lambda ws, bs: torch.optim.AdamW(_groups(ws, bs, 0.02), lr=0.01),
    ),
    "adam:0.8:0.99:1e-6": (
        dict(eta=0.02),
        lambda ws, bs: torch.optim.Adam(ws + bs, lr=0.02, betas=(0.8, 0.99), eps=1e-6),
    ),
    "sgd": (  # momentum through the new step (with L1 forcing it) equals torch's too
        dict(eta=0.5, momentum=0.5, l1=1.0),
        lambda ws, bs: torch.optim.SGD(ws + bs, lr=0.5, momentum=0.5),
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_optimiser_trajectory_equals_torch(name):
    X, y = _data()
    net = Network([4, 6, 3], seed=3)
    options, make = CASES[name]
    l1 = options.get("l1", 0.0)
    expected_w, expected_b = _torch_run(net, X, y, make, l1=l1)
    h = sgd(net, X, y, 1, M, shuffle=False, seed=0, optimizer=name, **options)
    assert h.config["engine"] == "plain" and "SGD, L2 and momentum only" in h.config["engine_note"]
    assert h.state.steps == 20
    for got, want in zip(net.weights + net.biases, expected_w + expected_b):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)


def test_l1_subgradient_is_zero_at_zero_and_max_norm_equal_torch():
    X, y = _data(2)
    net = Network([4, 6, 3], seed=4)
    net.weights[0][0, :] = 0.0  # sgn(0) = 0: these weights get no L1 push in the first step
    net.weights[1] *= 3  # rows over the norm, so max-norm acts
    make = lambda ws, bs: torch.optim.SGD(ws + bs, lr=1.0)  # noqa: E731
    expected_w, expected_b = _torch_run(net, X, y, make, l1=3.0, max_norm=1.5)
    sgd(net, X, y, 1, M, 1.0, shuffle=False, seed=0, l1=3.0, max_norm=1.5)
    for got, want in zip(net.weights + net.biases, expected_w + expected_b):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)
    assert np.linalg.norm(net.weights[1], axis=1).max() <= 1.5 + 1e-12


def test_l1_step_from_zero_weight():
    w = np.array([[0.0, 2.0, -1.0]])
    g = np.zeros_like(w)
    from bprop.regularization import add_l1, max_norm

    add_l1(g, w, 0.5)
    assert g.tolist() == [[0.0, 0.5, -0.5]]
    max_norm(w, 1.0)
    np.testing.assert_allclose(w, [[0.0, 2.0, -1.0]] / np.sqrt(5.0), atol=1e-15)


def test_dropout_gradient_with_given_masks_equals_torch():
    rng = np.random.default_rng(5)
    net = Network([4, 7, 5, 3], seed=6)
    x, yl = rng.standard_normal((8, 4)), rng.integers(0, 3, 8)
    y = np.eye(3)[yl]
    rates = dropout.rates([0.2, 0.5, 0.3], net.sizes)
    masks = dropout.masks(rng, rates, 8, net.sizes, np.float64)
    assert {0.0, 1 / 0.5} == set(np.unique(masks[1]))  # inverted: kept neurons are 1/q
    nb, nw, _ = dropout.backprop(net.weights, net.biases, net.activations, net.cost, x, y, masks)
    ws = [torch.tensor(w, requires_grad=True) for w in net.weights]
    bs = [torch.tensor(b, requires_grad=True) for b in net.biases]
    loss = _torch_loss(ws, bs, torch.tensor(x), torch.tensor(y), [torch.tensor(r) for r in masks])
    loss.backward()
    for got, want in zip(nw + nb, ws + bs):
        np.testing.assert_allclose(got, want.grad.numpy(), rtol=0, atol=1e-12)
    # Without masks it is the book's backprop exactly.
    plain = net.backprop(x, y)
    none = dropout.backprop(net.weights, net.biases, net.activations, net.cost, x, y, [None] * 3)
    for got, want in zip(none[0] + none[1], plain[0] + plain[1]):
        np.testing.assert_array_equal(got, want)


def test_dropout_rates_are_checked_and_default_to_hidden_layers():
    assert dropout.rates(0.5, [784, 100, 100, 10]) == (0.0, 0.5, 0.5)
    with pytest.raises(ValueError, match="one rate per layer before the output"):
        dropout.rates([0.1, 0.2], [784, 100, 100, 10])
    with pytest.raises(ValueError, match=r"in \[0, 1\)"):
        dropout.rates(1.0, [784, 30, 10])


def test_dropout_trains_resumes_exactly_and_is_off_at_evaluation():
    X, y = _data(7)
    a, b = Network([4, 8, 3], seed=1), Network([4, 8, 3], seed=1)
    ha = sgd(a, X, y, 2, M, 1.0, seed=3, dropout=[0.2, 0.5], optimizer="adam")
    hb = sgd(b, X, y, 1, M, 1.0, seed=3, dropout=[0.2, 0.5], optimizer="adam")
    sgd(
        b, X, y, 2, M, 1.0, seed=3, dropout=[0.2, 0.5], optimizer="adam", state=hb.state, history=hb
    )
    for wa, wb in zip(a.weights, b.weights):
        np.testing.assert_array_equal(wa, wb)
    assert ha.config["dropout"] == [0.2, 0.5]
    np.testing.assert_array_equal(a.feedforward(X), a.feedforward(X))  # no mask when evaluating


def test_compiled_engine_refuses_what_its_kernel_lacks():
    X, y = _data()
    with pytest.raises(ValueError, match=r"compiled engine.*SGD, L2 and momentum only"):
        sgd(Network([4, 5, 3], seed=0), X, y, 1, M, 0.1, optimizer="adam", compiled=True)


def test_optimizer_names_are_checked():
    with pytest.raises(ValueError, match="Did you mean 'adam'"):
        optimizers.get("adma")
    with pytest.raises(ValueError, match="only adam and adamw"):
        optimizers.get("nesterov:0.9")


def test_plateau_halves_eta_on_stalls_and_ends_at_one_128th():
    s = schedule("plateau:2:0.5", 1.0, 30)
    assert s.from_records([]) == 1.0
    assert s.from_records([0.5, 0.6]) == 1.0
    assert s.from_records([0.5, 0.6, 0.6]) == 1.0
    assert s.from_records([0.5, 0.6, 0.6, 0.55]) == 0.5  # two epochs without beating 0.6
    assert s.from_records([0.5] * 13) == 1 / 64  # 12 stalls: 6 halvings
    assert s.from_records([0.5] * 15) is None  # η reached 1/128 of its start: the end
    with pytest.raises(ValueError, match="plateau:N:FACTOR"):
        schedule("plateau:2:1", 1.0, 30)


@pytest.mark.filterwarnings("ignore::bprop.errors.ChanceWarning")
def test_early_stop_ends_after_patience_epochs_without_progress():
    assert not stalled([0.5, 0.6, 0.6], 2)
    assert stalled([0.5, 0.6, 0.6, 0.59], 2)
    X, y = _data()
    net = Network([4, 5, 3], seed=0)
    h = sgd(net, X, y, 50, M, 1e-9, test_data=(X, y), early_stop=2, seed=0)
    assert h.status == "completed" and len(h.epochs) == 3
    assert h.config["stopped"] == "no better accuracy in 2 epochs"
    h = sgd(
        Network([4, 5, 3], seed=0),
        X,
        y,
        50,
        M,
        schedule("plateau:1:0.5", 1e-9, 50),
        test_data=(X, y),
        seed=0,
    )
    assert len(h.epochs) == 8 and "1/128" in h.config["stopped"]
    with pytest.raises(ValueError, match="judge test_data"):
        sgd(net, X, y, 5, M, 0.1, early_stop=2)


def test_adam_resumes_from_a_checkpoint_to_the_same_weights(tmp_path):
    from bprop import serialize

    X, y = _data(8)
    a, b = Network([4, 6, 3], seed=2), Network([4, 6, 3], seed=2)
    options = dict(seed=5, optimizer="adamw", lmbda=1.0, l1=0.5, max_norm=2.0, dropout=0.3)
    sgd(a, X, y, 3, M, 0.01, **options)
    h = sgd(b, X, y, 1, M, 0.01, **options)
    serialize.save_checkpoint(tmp_path / "c.npz", b, h.state, h)
    b, state, history, _ = serialize.load_checkpoint(tmp_path / "c.npz")
    assert state.steps == 20 and state.moments_w is not None
    sgd(b, X, y, 3, M, 0.01, state=state, history=history, **options)
    for p, q in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_array_equal(p, q)


def _npz(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.random((120, 16))
    np.savez(tmp_path / "d.npz", X=X, y=(X[:, 5] > 0.5).astype(int))
    return f"npz:{tmp_path / 'd.npz'}"


def test_cli_records_the_techniques_and_refuses_judging_on_test(tmp_path, capsys):
    import json

    from bprop.cli import main

    data = _npz(tmp_path)
    argv = ["train", "--dataset", data, "--epochs", "2", "--seed", "0", "--no-progress",
            "--no-diagnostics", "--sizes", "16,8,2", "--eta", "0.01", "--optimizer", "adam",
            "--dropout", "0.1,0.5", "--l1", "0.1", "--max-norm", "3", "--augment", "shift:1",
            "--out", str(tmp_path / "run")]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "not the compiled kernel: its kernel has SGD, L2 and momentum only" in out
    config = json.loads((tmp_path / "run/config.json").read_text())
    assert config["optimizer"] == "adam" and config["dropout"] == [0.1, 0.5]
    assert config["augment"] == "shift:1" and config["max_norm"] == 3.0
    history = json.loads((tmp_path / "run/history.json").read_text())
    assert history["config"]["engine"] == "plain" and history["config"]["l1"] == 0.1
    argv = ["train", "--dataset", data, "--early-stop", "2", "--out", str(tmp_path / "r2")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "add --eval-on validation" in err and "Traceback" not in err
    assert main(["train", "--dataset", data, "--optimizer", "adma"]) == 2
    assert "Did you mean 'adam'" in capsys.readouterr().err


def test_estimators_take_the_techniques():
    from bprop.sklearn import BPClassifier, BPRegressor

    X, y = _data(9)
    clf = BPClassifier(hidden_layer_sizes=(8,), eta=0.01, optimizer="adam", dropout=0.2,
                       l1=0.1, max_norm=2.0, max_iter=3, random_state=0).fit(X, y)  # fmt: skip
    assert clf.get_params()["optimizer"] == "adam" and clf.n_iter_ == 3
    assert np.linalg.norm(clf.network_.weights[0], axis=1).max() <= 2.0 + 1e-12
    reg = BPRegressor(optimizer="nesterov", momentum=0.9, max_iter=2, random_state=0)
    reg.fit(X, X[:, 0])
    assert np.isfinite(reg.predict(X)).all()
