"""The backward loop: accumulation, retain_graph, sg.grad (create_graph, allow_unused,
non-leaf inputs), no_grad, detach, and the errors for bad gradients; against PyTorch."""

import numpy as np
import pytest

import scratchgan as sg
import scratchgan.functional as F

torch = pytest.importorskip("torch")


def pair(array, requires_grad=True):
    """The same float64 values as a scratchgan tensor and a torch tensor."""
    array = np.asarray(array, dtype=np.float64)
    return sg.tensor(array, requires_grad=requires_grad), torch.tensor(
        array, requires_grad=requires_grad
    )


def close(a, b, rtol=1e-10):
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else b
    np.testing.assert_allclose(
        a.numpy() if isinstance(a, sg.Tensor) else a, b, rtol=rtol, atol=1e-12
    )


X = np.random.default_rng(0).standard_normal((3, 4))


# ----- accumulation


def test_a_tensor_used_twice_accumulates_both_paths():
    x, tx = pair(X)
    (x * x + x.exp() * x).sum().backward()
    (tx * tx + tx.exp() * tx).sum().backward()
    close(x.grad, tx.grad)


def test_diamond_graph_visits_the_shared_node_once():
    x, tx = pair(X)
    h, th = x.tanh(), tx.tanh()
    (h * h + (h * 3).exp()).sum().backward()
    (th * th + (th * 3).exp()).sum().backward()
    close(x.grad, tx.grad)


def test_grad_accumulates_across_backward_calls_like_torch():
    x, tx = pair(X)
    for _ in range(2):
        (x.sigmoid() * 2).sum().backward()
        (tx.sigmoid() * 2).sum().backward()
    close(x.grad, tx.grad)
    assert not x.grad.requires_grad and x.grad.grad_fn is None


def test_broadcast_leaf_gets_a_gradient_of_its_own_shape():
    b, tb = pair(np.ones((1, 4)))
    x, tx = pair(X, requires_grad=False)
    (x * b).sum().backward()
    (tx * tb).sum().backward()
    assert b.grad.shape == (1, 4)
    close(b.grad, tb.grad)


def test_a_long_chain_does_not_hit_the_recursion_limit():
    x = sg.tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001**5000, rel=1e-9)


# ----- retain_graph


def test_second_backward_without_retain_graph_raises_naming_it():
    x = sg.tensor(X, requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_second_backward_with_retain_graph_works_and_accumulates():
    x, tx = pair(X)
    y, ty = (x.exp() * x).sum(), (tx.exp() * tx).sum()
    y.backward(retain_graph=True)
    y.backward()
    ty.backward(retain_graph=True)
    ty.backward()
    close(x.grad, tx.grad)


def test_sg_grad_frees_the_graph_unless_asked():
    x = sg.tensor(X, requires_grad=True)
    y = x.tanh().sum()
    sg.grad(y, [x], retain_graph=True)
    sg.grad(y, [x])
    with pytest.raises(RuntimeError, match="retain_graph"):
        sg.grad(y, [x])


# ----- sg.grad


def test_hessian_vector_product_matches_torch():
    x, tx = pair(X[0])
    W, tW = pair(np.random.default_rng(1).standard_normal((5, 4)), requires_grad=False)
    v = np.random.default_rng(2).standard_normal(4)

    def f(x, W, lib):
        h = (W @ x).tanh() if lib is sg else torch.tanh(W @ x)
        return (h * h * h).sum() + (x * x).sum() * (x * x).sum()

    (g,) = sg.grad(f(x, W, sg), [x], create_graph=True)
    assert g.requires_grad
    (hv,) = sg.grad((g * sg.tensor(v)).sum(), [x])
    (tg,) = torch.autograd.grad(f(tx, tW, torch), [tx], create_graph=True)
    (thv,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), [tx])
    close(g, tg)
    close(hv, thv)


def test_backward_with_create_graph_gives_a_differentiable_grad():
    x, tx = pair(X)
    (x**3).sum().backward(create_graph=True)
    (tx**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (gg,) = sg.grad(x.grad.sum(), [x])
    (tgg,) = torch.autograd.grad(tx.grad.sum(), [tx])
    close(gg, tgg)


def test_grad_leaves_dot_grad_untouched():
    x = sg.tensor(X, requires_grad=True)
    sg.grad(x.sum(), [x])
    assert x.grad is None


def test_allow_unused():
    x, z = sg.tensor(X, requires_grad=True), sg.tensor(X, requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match=r"inputs\[1\].*allow_unused=True"):
        sg.grad(y, [x, z], retain_graph=True)
    gx, gz = sg.grad(y, [x, z], allow_unused=True)
    assert gz is None
    close(gx, np.full(X.shape, 2.0))


def test_grad_with_respect_to_non_leaf_tensors_matches_torch():
    x, tx = pair(X)
    h, th = x.exp() * 2, tx.exp() * 2
    k, tk = h.sum(axis=1), th.sum(dim=1)
    y, ty = h.tanh().sum() + (k * k).sum(), th.tanh().sum() + (tk * tk).sum()
    gh, gk, gx = sg.grad(y, [h, k, x])
    tgh, tgk, tgx = torch.autograd.grad(ty, [th, tk, tx])
    close(gh, tgh)
    close(gk, tgk)
    close(gx, tgx)


def test_grad_of_an_output_with_respect_to_itself_is_the_grad_output():
    x = sg.tensor(X, requires_grad=True)
    y = x * 3
    gy = sg.tensor(np.ones(X.shape) * 0.5)
    (g,) = sg.grad(y, [y], gy)
    close(g, gy.numpy())


def test_grad_with_several_outputs_and_grad_outputs():
    x, tx = pair(X)
    a, b = x.exp(), (x * x).sum(axis=0)
    ta, tb = tx.exp(), (tx * tx).sum(dim=0)
    ga, gb = np.ones(X.shape), np.arange(4.0)
    (g,) = sg.grad([a, b], [x], [sg.tensor(ga), sg.tensor(gb)])
    (tg,) = torch.autograd.grad([ta, tb], [tx], [torch.tensor(ga), torch.tensor(gb)])
    close(g, tg)


def test_zero_grad_output_gives_zero_gradients():
    x, W = sg.tensor(X, requires_grad=True), sg.tensor(np.ones((2, 4)), requires_grad=True)
    y = F.softmax(F.linear(x, W).tanh(), 1)
    gx, gW = sg.grad(y, [x, W], sg.tensor(np.zeros(y.shape)))
    assert np.all(gx.numpy() == 0) and np.all(gW.numpy() == 0)


def test_input_that_does_not_require_grad_is_rejected():
    x = sg.tensor(X)
    with pytest.raises(RuntimeError, match=r"inputs\[0\] \(shape \(3, 4\)\) does not require grad"):
        sg.grad((x * 2).sum(), [x])


# ----- no_grad and detach


def test_no_grad_records_no_graph():
    x = sg.tensor(X, requires_grad=True)
    with sg.no_grad():
        y = x * 2 + x.exp()
        assert not sg.is_grad_enabled()
    assert sg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_no_grad_as_a_decorator_and_set_grad_enabled():
    x = sg.tensor(X, requires_grad=True)

    @sg.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    with sg.set_grad_enabled(False):
        with sg.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad


def test_detach_cuts_the_graph_and_keeps_the_values():
    x, tx = pair(X)
    d = x.exp().detach()
    assert not d.requires_grad and d.grad_fn is None
    np.testing.assert_array_equal(d.numpy(), np.exp(X))
    (x * d).sum().backward()
    (tx * tx.exp().detach()).sum().backward()
    close(x.grad, tx.grad)


def test_ops_on_tensors_without_grad_build_no_graph():
    y = sg.tensor(X) * sg.tensor(X)
    assert not y.requires_grad and y.grad_fn is None


# ----- bad gradients


def test_backward_of_a_non_scalar_without_gradient_names_the_shape():
    x = sg.tensor(X, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"shape \(3, 4\).*gradient must be given"):
        (x * 2).backward()


def test_backward_with_an_explicit_gradient_matches_torch():
    x, tx = pair(X)
    g = np.random.default_rng(3).standard_normal(X.shape)
    x.tanh().backward(sg.tensor(g))
    tx.tanh().backward(torch.tensor(g))
    close(x.grad, tx.grad)


def test_grad_output_shape_mismatch_is_reported():
    x = sg.tensor(X, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"expected a gradient of shape \(3, 4\), got \(4, 3\)"):
        y.backward(sg.tensor(np.ones((4, 3))))
    with pytest.raises(
        RuntimeError, match=r"grad_outputs\[0\]: expected a gradient of shape \(3, 4\), got \(3,\)"
    ):
        sg.grad(y, [x], sg.tensor(np.ones(3)))


def test_grad_output_dtype_and_count_mismatch_are_reported():
    x = sg.tensor(X, requires_grad=True)
    y = x * 2
    with pytest.raises(TypeError, match="expected dtype float64, got float32"):
        sg.grad(y, [x], sg.ones(3, 4, dtype="float32"))
    with pytest.raises(ValueError, match="expected 1 tensors"):
        sg.grad(y, [x], [sg.tensor(np.ones((3, 4))), sg.tensor(np.ones((3, 4)))])


def test_backward_of_a_tensor_without_graph_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        sg.tensor(X).sum().backward()
