"""Pictures of a run: image grids, reconstructions, interpolation strips, 2-D latent grids, loss
curves.

Image pictures are exact pixel mosaics (each image scaled up by an integer factor, with a thin
separator), written with matplotlib's Agg-based ``imsave``; plots use a ``Figure`` on an Agg canvas.
Nothing here touches pyplot's global state, so it works headless and inside tests. Every function
takes plain NumPy arrays (or Tensors) and returns the path it wrote.

Image arrays may be N x H x W, N x 1 x H x W or N x 3 x H x W (NCHW, as models produce them),
with values in ``value_range`` (default [0, 1]; pass (-1, 1) for tanh outputs).
"""

import math
import os

import numpy as np

PAD = 2  # separator between images, in image pixels (before scaling)


def _host(images):
    if hasattr(images, "numpy") and not isinstance(images, np.ndarray):
        images = images.numpy()
    if hasattr(images, "get"):  # cupy array
        images = images.get()
    return np.asarray(images)


def to_display(images, value_range=(0.0, 1.0)):
    """Images -> float array N x H x W (grayscale) or N x H x W x 3 (colour)
    with values in [0, 1]."""
    x = _host(images).astype(np.float64)
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 4:
        if x.shape[1] == 1:
            x = x[:, 0]
        elif x.shape[1] == 3:
            x = x.transpose(0, 2, 3, 1)
        else:
            raise ValueError(
                f"images: expected 1 or 3 channels in N x C x H x W, got shape {x.shape}"
            )
    elif x.ndim != 3:
        raise ValueError(f"images: expected N x H x W or N x C x H x W, got shape {x.shape}")
    lo, hi = value_range
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0)


def mosaic(images, ncol=None, pad=PAD, pad_value=1.0, value_range=(0.0, 1.0)):
    """Images laid out in rows of ``ncol`` (default: a near-square grid), separated by ``pad``
    pixels.

    Returns a float array in [0, 1], (rows*(H+pad)+pad) x (ncol*(W+pad)+pad) [x 3]; empty cells are
    filled with ``pad_value``.
    """
    x = to_display(images, value_range)
    n, h, w = x.shape[:3]
    ncol = ncol or math.ceil(math.sqrt(n))
    nrow = math.ceil(n / ncol)
    out = np.full(
        (nrow * (h + pad) + pad, ncol * (w + pad) + pad) + x.shape[3:], pad_value, dtype=np.float64
    )
    for i in range(n):
        r, c = divmod(i, ncol)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        out[top : top + h, left : left + w] = x[i]
    return out


def _save_pixels(picture, path, scale):
    import matplotlib.image

    if scale > 1:
        picture = np.repeat(np.repeat(picture, scale, axis=0), scale, axis=1)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if picture.ndim == 2:
        matplotlib.image.imsave(path, picture, cmap="gray", vmin=0.0, vmax=1.0)
    else:
        matplotlib.image.imsave(path, picture)
    return path


def save_image_grid(images, path, ncol=None, scale=2, value_range=(0.0, 1.0)):
    """A grid of images (e.g. 64 samples as 8 x 8) written to ``path`` as a PNG.

    Size in pixels: (rows*(H+2)+2)*scale high, (ncol*(W+2)+2)*scale wide.

    Example:
        >>> save_image_grid(generator(fixed_z), "samples/epoch-001.png")   # 64 images -> 8 x 8
    """
    return _save_pixels(mosaic(images, ncol, value_range=value_range), path, scale)


def save_reconstructions(inputs, outputs, path, scale=2, value_range=(0.0, 1.0)):
    """Inputs in the top row, their reconstructions in the row below (the book's
    show_reconstructions)."""
    a, b = to_display(inputs, value_range), to_display(outputs, value_range)
    if a.shape != b.shape:
        raise ValueError(f"outputs: expected the inputs' shape {a.shape}, got {b.shape}")
    return _save_pixels(mosaic(np.concatenate([a, b]), ncol=len(a)), path, scale)


def save_interpolation(strips, path, scale=2, value_range=(0.0, 1.0)):
    """Interpolation strips: ``strips`` is R x S x (image), one row of S steps per strip."""
    x = _host(strips)
    if x.ndim < 4:
        raise ValueError(
            f"strips: expected R x S x H x W or R x S x C x H x W, got shape {x.shape}"
        )
    rows, steps = x.shape[:2]
    return _save_pixels(
        mosaic(x.reshape((rows * steps,) + x.shape[2:]), ncol=steps, value_range=value_range),
        path,
        scale,
    )


def latent_grid_codes(n=15, limit=2.0):
    """n*n codes on a regular grid over [-limit, limit]^2, row by row (top row = largest z2)."""
    ticks = np.linspace(-limit, limit, n, dtype=np.float32)
    z1, z2 = np.meshgrid(ticks, ticks[::-1])
    return np.stack([z1.ravel(), z2.ravel()], axis=1)


def save_latent_grid(decode, path, n=15, limit=2.0, scale=2, value_range=(0.0, 1.0)):
    """Decode an n x n grid of 2-D codes (see latent_grid_codes) and write the images as an n x n
    mosaic.

    ``decode`` maps a float32 array (n*n, 2) to images (n*n, ...).
    """
    images = decode(latent_grid_codes(n, limit))
    return _save_pixels(mosaic(images, ncol=n, value_range=value_range), path, scale)


def _figure(size):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dpi = 100
    fig = Figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig, dpi


def _save_figure(fig, path, dpi):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=dpi, format="png")
    return path


def save_loss_curves(
    curves, path, xlabel="epoch", ylabel="loss", title=None, size=(640, 400), log_y=False
):
    """Line plot of ``curves``: name -> (xs, ys), e.g. {"train bce": (epochs, values), "valid bce":
    ...}.

    Writes a PNG of exactly ``size`` pixels (width, height).
    """
    fig, dpi = _figure(size)
    ax = fig.add_subplot(1, 1, 1)
    for name, (xs, ys) in curves.items():
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        ax.plot(xs, ys, marker="o" if len(xs) < 30 else None, markersize=3, label=name)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log_y:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    if curves:
        ax.legend()
    fig.tight_layout()
    return _save_figure(fig, path, dpi)


def save_latent_scatter(codes, labels, path, class_names=None, size=(640, 560)):
    """Scatter plot of 2-D codes coloured by class (the book's view of an encoder's code space)."""
    codes = _host(codes)
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(f"codes: expected N x 2, got shape {codes.shape}")
    fig, dpi = _figure(size)
    ax = fig.add_subplot(1, 1, 1)
    points = ax.scatter(codes[:, 0], codes[:, 1], c=labels, s=4, cmap="tab10")
    if class_names is not None:
        handles, _ = points.legend_elements()
        ax.legend(handles, class_names, fontsize=7, loc="best")
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    fig.tight_layout()
    return _save_figure(fig, path, dpi)


def graph(*outputs, params=None, path="graph.html"):
    """The autograd graph behind ``outputs`` as one self-contained, interactive HTML page (op
    nodes, tensors, what each node saved, which implementation ran it, gradient statistics, the
    create_graph=True graph set apart); returns ``path``. ``params``: a Module, a dict of name ->
    Tensor or Module, or ``named_parameters()``, to name parameters and modules. Needs Graphviz."""
    from .inspection.graph_page import graph as draw

    return draw(*outputs, params=params, path=path)
