"""The one op-test routine, as a fixture: ``opcheck(fn, torch_fn, arrays)`` checks an op

- against PyTorch in float64 (forward, every input gradient, and the gradients of
  <gradient, v>, i.e. second order) to rtol 1e-7,
- with ``sg.gradcheck`` and ``sg.gradgradcheck`` (central differences, float64),
- against PyTorch in float32 (forward, and first-order gradients) at float32 tolerance,

on non-contiguous inputs, and fails if the op writes into its inputs. ``fn`` takes scratchgan
Tensors, ``torch_fn`` the same arguments as torch tensors; non-differentiable arguments
(indices, targets, axes) are closed over by both.
"""

import numpy as np
import pytest

import scratchgan as sg

F64 = {"rtol": 1e-7, "atol": 1e-12}
F32 = {"rtol": 2e-5, "atol": 2e-5}


def noncontiguous(a):
    """A strided view holding the values of ``a`` (every other element of a bigger buffer)."""
    buf = np.full(a.shape + (2,), np.nan, dtype=a.dtype)
    buf[..., 0] = a
    return buf[..., 0]


def _np(t):
    return None if t is None else t.detach().cpu().numpy(force=True)


def _sg_np(t):
    return None if t is None else t.numpy()


def _zeros_if_none(g, shape):
    return np.zeros(shape) if g is None else g


class OpCheck:
    def __call__(
        self,
        fn,
        torch_fn,
        arrays,
        wrt=None,
        double=True,
        gradcheck=True,
        float32=True,
        f64=None,
        f32=None,
        seed=0,
    ):
        """Run every check. ``wrt``: which of ``arrays`` are differentiated (default all)."""
        arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
        wrt = list(range(len(arrays))) if wrt is None else list(wrt)
        self.torch_compare(
            fn, torch_fn, arrays, wrt, np.float64, double=double, tol=f64 or F64, seed=seed
        )
        if gradcheck and wrt:
            self.gradchecks(fn, arrays, wrt)
        if float32:
            self.torch_compare(
                fn, torch_fn, arrays, wrt, np.float32, double=False, tol=f32 or F32, seed=seed
            )

    def gradchecks(self, fn, arrays, wrt, **kw):
        inputs = [
            sg.Tensor._make(noncontiguous(np.asarray(a, np.float64)), requires_grad=i in wrt)
            for i, a in enumerate(arrays)
        ]
        assert sg.gradcheck(fn, inputs, **kw)
        assert sg.gradgradcheck(fn, inputs, **kw)

    def torch_compare(self, fn, torch_fn, arrays, wrt, dtype, double=True, tol=F64, seed=0):
        torch = pytest.importorskip("torch")
        rng = np.random.default_rng(seed)
        arrays = [np.asarray(a, dtype=dtype) for a in arrays]
        xs = [
            sg.Tensor._make(noncontiguous(a), requires_grad=i in wrt) for i, a in enumerate(arrays)
        ]
        ts = [torch.tensor(a, requires_grad=i in wrt) for i, a in enumerate(arrays)]
        y = fn(*xs)
        ty = torch_fn(*ts)
        for i, (x, a) in enumerate(zip(xs, arrays)):
            np.testing.assert_array_equal(x.numpy(), a, err_msg=f"the op wrote into input {i}")
        assert y.dtype == dtype, f"output dtype {y.dtype}, expected {np.dtype(dtype)}"
        assert y.shape == tuple(ty.shape), f"output shape {y.shape}, torch gives {tuple(ty.shape)}"
        np.testing.assert_allclose(y.numpy(), _np(ty), **tol, err_msg="forward differs from torch")
        if not wrt:
            return
        gy_array = rng.standard_normal(y.shape).astype(dtype)
        gy = sg.Tensor._make(gy_array, requires_grad=double)
        tgy = torch.tensor(gy_array, requires_grad=double)
        inputs = [xs[i] for i in wrt]
        tinputs = [ts[i] for i in wrt]
        gs = sg.grad(y, inputs, gy, create_graph=double, allow_unused=True)
        tgs = torch.autograd.grad(ty, tinputs, tgy, create_graph=double, allow_unused=True)
        for i, g, tg in zip(wrt, gs, tgs):
            assert g is None or g.shape == arrays[i].shape
            np.testing.assert_allclose(
                _zeros_if_none(_sg_np(g), arrays[i].shape),
                _zeros_if_none(_np(tg), arrays[i].shape),
                **tol,
                err_msg=f"gradient of input {i} differs from torch",
            )
        if not double:
            return
        # second order: d<g, v>/d(inputs, gy), compared with torch's
        vs = [rng.standard_normal(arrays[i].shape) for i in wrt]
        pairs = [(g, tg, v) for g, tg, v in zip(gs, tgs, vs) if g is not None and g.requires_grad]
        tpairs = [(tg, v) for _, tg, v in pairs if tg is not None and tg.requires_grad]
        if not pairs:
            assert not tpairs, "torch's gradient has a graph, ours has none"
            return
        s = sum((g * sg.Tensor._make(v)).sum() for g, _, v in pairs)
        ggs = sg.grad(s, inputs + [gy], allow_unused=True)
        if tpairs:
            ts_ = sum((tg * torch.tensor(v)).sum() for tg, v in tpairs)
            tggs = torch.autograd.grad(ts_, tinputs + [tgy], allow_unused=True)
        else:  # torch's gradients are constants: every second derivative is zero
            tggs = [None] * len(ggs)
        for k, (g, tg) in enumerate(zip(ggs, tggs)):
            shape = (inputs + [gy])[k].shape
            np.testing.assert_allclose(
                _zeros_if_none(_sg_np(g), shape),
                _zeros_if_none(_np(tg), shape),
                **tol,
                err_msg=f"second-order gradient {k} differs from torch",
            )


@pytest.fixture(scope="session")
def opcheck():
    return OpCheck()
