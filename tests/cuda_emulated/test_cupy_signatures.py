"""The stand-in has CuPy's signatures for every CuPy call the package makes (issue 22,
acceptance 3), checked against the real ``cupy`` package, which imports without a GPU
(``pip install cupy-cuda12x``: CuPy 14 also needs cuda-pathfinder, which pip brings).

The calls are found in the source: every ``xp.NAME``, ``cupy.NAME`` and
``array_module(...).NAME`` under scratchgan/ (the stand-in itself excluded), plus the methods
the package calls on CuPy objects (METHODS). Signatures compare parameter names, kinds and
defaults; CuPy's Cython functions carry theirs in the first line of their docstring.
"""

import inspect
import re
from pathlib import Path

import numpy as np
import pytest

import scratchgan
from scratchgan.cuda import emulated_cupy

cupy = pytest.importorskip(
    "cupy",
    reason="the real CuPy is not installed: pip install cupy-cuda12x (or cupy-cuda13x); "
    "it imports without a GPU, so CI can run this check",
)

_CALL = re.compile(r"\b(?:xp|cupy|array_module\([^()]*\))\.([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")
# methods the package calls on CuPy objects, which no grep for xp.NAME finds
METHODS = [
    "RawModule.get_function",
    "cuda.Device.synchronize",
    "cuda.Device.use",
    *(
        f"ndarray.{m}"
        for m in (
            "get",
            "set",
            "astype",
            "reshape",
            "transpose",
            "copy",
            "ravel",
            "flatten",
            "sum",
            "mean",
            "var",
            "std",
            "max",
            "min",
            "argmax",
            "argmin",
            "prod",
            "cumsum",
            "any",
            "all",
            "fill",
            "item",
            "tolist",
            "squeeze",
            "swapaxes",
            "clip",
            "repeat",
            "take",
            "dot",
            "nonzero",
            "view",
        )
    ),
]


def package_calls():
    """Every dotted CuPy name the package's source calls (through xp, cupy or array_module)."""
    root = Path(scratchgan.__file__).parent
    names = set()
    for path in root.rglob("*.py"):
        if "emulated_cupy" not in path.parts:
            names.update(_CALL.findall(path.read_text()))
    # a dunder (xp.__name__) is Python's attribute, not a CuPy call
    return sorted(n for n in names if not any(p.startswith("__") for p in n.split(".")))


def _resolve(module, dotted):
    value = module
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def _doc_signature(obj):
    """A Cython callable's signature, from the first docstring line 'name(args) -> ret'."""
    line = (obj.__doc__ or "").strip().splitlines()[0].replace("\\", "")
    inner = line[line.index("(") + 1 : line.rindex(")")]
    params = []
    for token in filter(None, (t.strip() for t in inner.split(","))):
        if token.startswith("*"):
            params.append(token)
            continue
        left, eq, default = token.partition("=")
        params.append(left.split()[-1] + (f"={default}" if eq else ""))
    namespace = {"numpy": np}
    exec(f"def f({', '.join(params)}): pass", namespace)  # noqa: S102  text of CuPy's own docs
    return inspect.signature(namespace["f"])


def _signature(obj):
    """(name, kind, default) of each parameter, ``self`` dropped; None for a ufunc."""
    if hasattr(obj, "nin") and hasattr(obj, "nout"):
        return None
    try:
        signature = inspect.signature(obj)
        kinds = {p.kind for p in signature.parameters.values()}
        if isinstance(obj, type) and inspect.Parameter.VAR_POSITIONAL in kinds:
            signature = _doc_signature(obj)  # a Cython class: (*args, **kwargs) hides its own
    except (TypeError, ValueError):
        signature = _doc_signature(obj)
    return [(p.name, p.kind, p.default) for p in signature.parameters.values() if p.name != "self"]


@pytest.mark.parametrize("name", package_calls() + METHODS)
def test_stand_in_signature_equals_cupys(name):
    try:
        real = _resolve(cupy, name)
    except AttributeError:  # the package may only probe for it (hasattr(xp, "vecdot")) ...
        with pytest.raises(AttributeError):  # ... and then the stand-in must lack it too
            _resolve(emulated_cupy, name)
        return
    mine = _resolve(emulated_cupy, name)
    if inspect.ismodule(real):  # a namespace the package reaches through (cupy.cuda)
        assert inspect.ismodule(mine), name
        return
    if isinstance(real, type) and issubclass(real, np.generic):  # a scalar type: NumPy's own
        assert mine is real
        return
    if isinstance(real, type) and not _is_class_with_signature(real):
        return  # a class the package only names (isinstance, attribute access)
    assert _signature(mine) == _signature(real), name
    if _signature(real) is None:  # ufuncs: same arity, and .at / .reduce where CuPy has them
        assert (mine.nin, mine.nout) == (real.nin, real.nout), name
        for method in ("at", "reduce"):
            assert _signature(getattr(mine, method)) == _signature(getattr(real, method))


def _is_class_with_signature(cls):
    try:
        _signature(cls)
    except (TypeError, ValueError):
        return False
    return True


def test_the_package_calls_cupy_at_all():
    calls = package_calls()
    assert {"asarray", "zeros", "empty_like", "cuda.Device", "RawModule"} <= set(calls), calls
