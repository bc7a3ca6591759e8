"""Load a directory of PNG/JPEG images, optionally one subfolder per class."""

import os

import numpy as np
from PIL import Image

from .errors import not_found

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
GRAY_MODES = ("1", "L", "LA")
DEFAULT_SIZE = 64


def _is_image(name):
    return name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith(".")


def _list_images(directory):
    return sorted(
        n
        for n in os.listdir(directory)
        if _is_image(n) and os.path.isfile(os.path.join(directory, n))
    )


def _subfolders(directory):
    names = (n for n in os.listdir(directory) if not n.startswith("."))
    return sorted(n for n in names if os.path.isdir(os.path.join(directory, n)))


def _resolve_split(path, split):
    """Return the directory holding `split`: PATH/split when PATH has train/ or test/, else PATH."""
    if not os.path.isdir(path):
        raise not_found(f"Image folder {path!r}", [path], install=None)
    subs = _subfolders(path)
    if "train" in subs or "test" in subs:
        root = os.path.join(path, split)
        if not os.path.isdir(root):
            raise not_found(f"Split {split!r} of image folder {path!r}", [root], install=None)
        return root
    if split != "train":
        raise ValueError(
            f"split={split!r}: folder {path!r} has no train/ and test/ subfolders, "
            "so the whole folder is split='train' and no other split exists"
        )
    return path


def load_folder(path, split="train", size=None):
    """Load every PNG/JPEG image under `path` as one uint8 array.

    Layout: images directly in the folder (labels None), or one subfolder per class
    (labels = index of the class folder in sorted order, int64; only folders that contain
    images count as classes). If the folder has train/ and test/ subfolders, `split` picks one;
    otherwise the whole folder is split "train". Names starting with "." are ignored.

    Every image is resized (bilinear, aspect ratio not kept) to `size`: an int (square) or
    (height, width). By default that is the images' common size when they all agree, else 64x64.
    If every image is grayscale (Pillow modes 1, L, LA) the result is N x H x W; otherwise all are
    converted to RGB (alpha dropped) and the result is N x 3 x H x W.

    Returns:
        (images, labels): uint8 array, int64 array of shape (N,) or None.
    """
    root = _resolve_split(os.fspath(path), split)
    loose = _list_images(root)
    classes = [c for c in _subfolders(root) if _list_images(os.path.join(root, c))]
    if loose and classes:
        raise ValueError(
            f"{root}: has both images and class subfolders {classes}; put every image in a class "
            "folder or use no subfolders"
        )
    if classes:
        files = [
            (os.path.join(root, c, n), i)
            for i, c in enumerate(classes)
            for n in _list_images(os.path.join(root, c))
        ]
    else:
        files = [(os.path.join(root, n), None) for n in loose]
    if not files:
        raise ValueError(f"{root}: no images with extensions {', '.join(IMAGE_EXTENSIONS)}")

    headers = []  # (size, mode) read from each header, without decoding the pixels
    for file, _ in files:
        with Image.open(file) as im:
            headers.append((im.size, im.mode))
    if size is None:
        sizes = {wh for wh, _ in headers}  # Pillow sizes are (width, height)
        width, height = sizes.pop() if len(sizes) == 1 else (DEFAULT_SIZE, DEFAULT_SIZE)
    elif isinstance(size, int) and not isinstance(size, bool) and size > 0:
        width = height = size
    elif (
        isinstance(size, (tuple, list))
        and len(size) == 2
        and all(isinstance(s, int) and s > 0 for s in size)
    ):
        height, width = size
    else:
        raise ValueError(
            f"size={size!r}: expected a positive int or a (height, width) pair of positive ints"
        )

    gray = all(mode in GRAY_MODES for _, mode in headers)
    out = np.empty(
        (len(files), height, width) if gray else (len(files), 3, height, width), dtype=np.uint8
    )
    for i, (file, _) in enumerate(files):
        with Image.open(file) as im:
            im = im.convert("L" if gray else "RGB")
        if im.size != (width, height):
            im = im.resize((width, height), Image.Resampling.BILINEAR)
        arr = np.asarray(im, dtype=np.uint8)
        out[i] = arr if gray else arr.transpose(2, 0, 1)
    labels = None if not classes else np.array([label for _, label in files], dtype=np.int64)
    return out, labels
