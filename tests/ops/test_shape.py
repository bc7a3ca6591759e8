"""reshape, transpose, permute, flatten, squeeze, unsqueeze, concat, stack and indexing."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import scratchgan as sg
import scratchgan.functional as F

torch = pytest.importorskip("torch")

SETTINGS = settings(max_examples=15, deadline=None)
seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=4, max_side=3)


def normal(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


@st.composite
def reshape_targets(draw):
    shape = draw(shapes)
    n = int(np.prod(shape))
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    d = draw(st.sampled_from(divisors))
    target = draw(st.sampled_from([(n,), (-1,), (d, n // d), (d, -1), (-1, d, 1), (1, d, n // d)]))
    return shape, target


@SETTINGS
@given(arg=reshape_targets(), seed=seeds)
def test_reshape(opcheck, arg, seed):
    shape, target = arg
    opcheck(lambda x: x.reshape(target), lambda x: x.reshape(target), [normal(seed, shape)])
    opcheck(
        lambda x: x.reshape(*target),
        lambda x: x.reshape(*target),
        [normal(seed, shape)],
        gradcheck=False,
        float32=False,
    )
    opcheck(
        lambda x: F.reshape(x, target),
        lambda x: x.reshape(target),
        [normal(seed, shape)],
        gradcheck=False,
        float32=False,
    )


@pytest.mark.parametrize("target", [(5,), (-1, 4), (-1, -1), (0, -1)])
def test_reshape_errors_name_both_shapes(target):
    with pytest.raises(ValueError, match=r"cannot reshape \(2, 3\)"):
        sg.ones(2, 3).reshape(target)


@st.composite
def shape_and_permutation(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, max_side=3))
    return shape, tuple(draw(st.permutations(range(len(shape)))))


@SETTINGS
@given(arg=shape_and_permutation(), seed=seeds, negative=st.booleans())
def test_permute(opcheck, arg, seed, negative):
    shape, perm = arg
    axes = tuple(a - len(shape) for a in perm) if negative else perm
    opcheck(lambda x: x.permute(axes), lambda x: x.permute(perm), [normal(seed, shape)])
    opcheck(
        lambda x: x.permute(*axes),
        lambda x: x.permute(*perm),
        [normal(seed, shape)],
        gradcheck=False,
        float32=False,
    )


@st.composite
def shape_and_two_axes(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, max_side=3))
    n = len(shape)
    return shape, draw(st.integers(-n, n - 1)), draw(st.integers(-n, n - 1))


@SETTINGS
@given(arg=shape_and_two_axes(), seed=seeds)
def test_transpose(opcheck, arg, seed):
    shape, i, j = arg
    x = normal(seed, shape)
    opcheck(lambda x: x.transpose(i, j), lambda x: x.transpose(i, j), [x])
    opcheck(
        lambda x: x.transpose(),
        lambda x: x.permute(*reversed(range(x.ndim))),
        [x],
        gradcheck=False,
        float32=False,
    )
    opcheck(
        lambda x: x.T,
        lambda x: x.permute(*reversed(range(x.ndim))),
        [x],
        gradcheck=False,
        float32=False,
    )


@SETTINGS
@given(arg=shape_and_two_axes(), seed=seeds)
def test_flatten(opcheck, arg, seed):
    shape, i, j = arg
    n = len(shape)
    start, end = sorted((i % n, j % n))
    start -= n * (i < 0)  # mix negative and non-negative dims
    opcheck(lambda x: x.flatten(start, end), lambda x: x.flatten(start, end), [normal(seed, shape)])


def test_flatten_defaults_and_0d(opcheck):
    opcheck(lambda x: x.flatten(), lambda x: x.flatten(), [normal(0, (2, 3, 2))])
    opcheck(lambda x: x.flatten(), lambda x: x.flatten(), [np.array(1.5)])


@st.composite
def squeezable(draw):
    shape = draw(st.lists(st.sampled_from([1, 1, 2, 3]), min_size=0, max_size=4).map(tuple))
    n = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"] if n else ["none"]))
    if kind == "none":
        return shape, None
    if kind == "int":
        return shape, draw(st.integers(-n, n - 1))
    return shape, tuple(draw(st.lists(st.integers(0, n - 1), unique=True, max_size=n)))


@SETTINGS
@given(arg=squeezable(), seed=seeds)
def test_squeeze(opcheck, arg, seed):
    shape, axis = arg
    opcheck(
        lambda x: x.squeeze(axis),
        lambda x: x.squeeze() if axis is None else x.squeeze(axis),
        [normal(seed, shape)],
    )


@SETTINGS
@given(shape=shapes, seed=seeds, data=st.data())
def test_unsqueeze(opcheck, shape, seed, data):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    opcheck(lambda x: x.unsqueeze(axis), lambda x: x.unsqueeze(axis), [normal(seed, shape)])


def test_unsqueeze_out_of_range():
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        sg.ones(2, 3).unsqueeze(3)


@st.composite
def concat_args(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    out = []
    for s in sizes:
        part = list(shape)
        part[axis] = s
        out.append(tuple(part))
    return out, axis


@SETTINGS
@given(arg=concat_args(), seed=seeds)
def test_concat(opcheck, arg, seed):
    part_shapes, axis = arg
    arrays = [normal(seed + k, s) for k, s in enumerate(part_shapes)]
    opcheck(lambda *xs: sg.concat(xs, axis), lambda *xs: torch.cat(xs, axis), arrays)
    opcheck(
        lambda *xs: F.cat(list(xs), axis=axis),
        lambda *xs: torch.cat(xs, axis),
        arrays,
        gradcheck=False,
        float32=False,
    )


@SETTINGS
@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3),
    n=st.integers(1, 3),
    seed=seeds,
    data=st.data(),
)
def test_stack(opcheck, shape, n, seed, data):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    arrays = [normal(seed + k, shape) for k in range(n)]
    opcheck(lambda *xs: sg.stack(xs, axis), lambda *xs: torch.stack(xs, axis), arrays)


def test_concat_and_stack_errors():
    with pytest.raises(ValueError, match=r"tensors\[1\] has shape \(2, 4\)"):
        sg.concat([sg.ones(2, 3), sg.ones(2, 4)], axis=0)
    with pytest.raises(ValueError, match=r"tensors\[1\] has shape"):
        sg.stack([sg.ones(2, 3), sg.ones(3, 2)])
    with pytest.raises(TypeError, match="dtype"):
        sg.concat([sg.ones(2, dtype="float32"), sg.ones(2, dtype="float64")])
    with pytest.raises(ValueError, match="at least one"):
        sg.concat([])


# ----- indexing


def scatter_reference(shape, index, gy):
    """d<x[index], gy>/dx by counting: which element of x did each output element come from."""
    ids = np.arange(int(np.prod(shape))).reshape(shape)
    picked = ids[index]
    return np.bincount(np.ravel(picked), weights=np.ravel(gy), minlength=ids.size).reshape(shape)


def has_negative_step(index):
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, slice) and i.step is not None and i.step < 0 for i in items)


@SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), seed=seeds)
def test_basic_indexing(opcheck, data, shape, seed):
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    x = normal(seed, shape)
    if has_negative_step(
        index
    ):  # torch has no negative steps: NumPy and counting are the reference
        xt = sg.tensor(x, requires_grad=True)
        y = xt[index]
        np.testing.assert_array_equal(y.numpy(), x[index])
        gy = normal(seed + 1, y.shape)
        (gx,) = sg.grad(y, [xt], sg.tensor(gy))
        np.testing.assert_allclose(gx.numpy(), scatter_reference(shape, index, gy), rtol=1e-12)
        opcheck.gradchecks(lambda x: x[index], [x], [0])
    else:
        opcheck(lambda x: x[index], lambda x: x[index], [x])


def as_torch_index(index):
    items = index if isinstance(index, tuple) else (index,)
    out = tuple(torch.as_tensor(i) if isinstance(i, np.ndarray) else i for i in items)
    return out if isinstance(index, tuple) else out[0]


@SETTINGS
@given(rows=st.integers(1, 4), cols=st.integers(1, 3), seed=seeds, data=st.data())
def test_integer_array_indexing_with_repeats_adds_up(opcheck, rows, cols, seed, data):
    rng = np.random.default_rng(seed)
    idx_shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=5))
    idx = rng.integers(-rows, rows, idx_shape)  # negative indices too; repeats are likely
    col_idx = rng.integers(0, cols, idx_shape)
    x = normal(seed, (rows, cols))
    for index in (
        idx,
        (idx,),
        (idx, slice(None)),
        (slice(None, None, 2), col_idx),
        (idx, col_idx),
        (Ellipsis, col_idx),
        (idx, None, slice(1, None)),
    ):
        tindex = as_torch_index(index)
        opcheck(lambda x, i=index: x[i], lambda x, i=tindex: x[i], [x], float32=False)
        gy = normal(seed + 1, x[index].shape)
        xt = sg.tensor(x, requires_grad=True)
        (gx,) = sg.grad(xt[index], [xt], sg.tensor(gy))
        np.testing.assert_allclose(
            gx.numpy(), scatter_reference(x.shape, index, gy), rtol=1e-12, atol=1e-12
        )


def test_index_with_a_tensor_and_a_list(opcheck):
    x = normal(0, (4, 3))
    opcheck(lambda x: x[sg.tensor(np.array([3, 0, 3]))], lambda x: x[torch.tensor([3, 0, 3])], [x])
    opcheck(lambda x: x[[1, 1, 2]], lambda x: x[[1, 1, 2]], [x])


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), seed=seeds, whole=st.booleans())
def test_bool_mask_indexing(opcheck, shape, seed, whole):
    rng = np.random.default_rng(seed)
    mask = rng.random(shape if whole else shape[:1]) < 0.5
    x = normal(seed, shape)
    opcheck(lambda x: x[mask], lambda x: x[torch.tensor(mask)], [x])
    opcheck(
        lambda x: x[sg.tensor(mask)],
        lambda x: x[torch.tensor(mask)],
        [x],
        gradcheck=False,
        float32=False,
    )


def test_index_add_is_differentiable(opcheck):
    from scratchgan.ops.shape import index_add

    idx = np.array([0, 2, 2, 0, 1])
    g = normal(1, (5, 2))

    def reference(x):
        return torch.zeros(3, 2, dtype=x.dtype).index_put((torch.tensor(idx),), x, accumulate=True)

    opcheck(lambda x: index_add(x, idx, (3, 2)), reference, [g])


def test_astype_round_trip_is_differentiable(opcheck):
    x = normal(0, (2, 3))
    # through float32 finite differences are meaningless: PyTorch is the reference
    opcheck(
        lambda x: x.to("float32").to("float64") * 2.0,
        lambda x: x.float().double() * 2.0,
        [x],
        gradcheck=False,
        float32=False,
    )
