"""scratchgan.metrics: how good are generated images, measured offline.

Each metric takes two image sets (uint8 or [0, 1] floats, N x H x W or N x C x H x W) or, except
SWD, precomputed arrays (features N x D; for IS and coverage, class probabilities N x C). Images
are embedded with the data set's own classifier, a small CNN scratchgan trains on the training split
and caches (classifier.py): no Inception weights exist offline, so the numbers rank this project's
models against each other and are not comparable with papers' values.

    fid(real, fake, classifier=None)          Frechet distance of Gaussian fits (lower is better)
    frechet_distance(mu1, S1, mu2, S2)        the closed form behind it
    kid(real, fake, ...) -> KID(mean, std)    unbiased MMD^2, cubic polynomial kernel, over subsets
    inception_score(samples, ...) -> (mean, std)
                                              exp E KL(p(y|x) || p(y)) over 10 splits
    swd(real, fake, ...) -> SWD(levels, resolutions, mean)
                                              ProGAN's sliced Wasserstein distance x 1e3
    precision_recall(real, fake, k=3) -> (precision, recall)
                                              k-NN manifolds (Kynkaanniemi et al. 2019)
    mode_coverage(samples, ...) -> ModeCoverage(histogram, covered, num_classes, kl)

    load_classifier(dataset) / train_classifier(dataset)
        -> Classifier (.features .probabilities .embed)
    compute_all(real, fake, classifier), evaluate_run(run_dir, n=10000), print_table(metrics)
    measure_baselines(dataset), update_results(runs, baselines, path)   (docs/RESULTS.md)

``classifier`` is a Classifier or a data-set name such as "fashion-mnist"; it is needed only when
images are passed.

Example:
    >>> import scratchgan.metrics as M
    >>> M.fid(test_images, generated, classifier="fashion-mnist")
"""

from .baselines import measure_baselines
from .classifier import (
    Classifier,
    FeatureCNN,
    dataset_embedding,
    load_classifier,
    train_classifier,
)
from .coverage import ModeCoverage, mode_coverage
from .evaluate import compute_all, evaluate_run, print_table
from .fid import fid, frechet_distance
from .inception_score import InceptionScore, inception_score
from .kid import KID, kid
from .precision_recall import PrecisionRecall, precision_recall
from .report import update_results
from .swd import SWD, swd

__all__ = [
    "KID",
    "SWD",
    "Classifier",
    "FeatureCNN",
    "InceptionScore",
    "ModeCoverage",
    "PrecisionRecall",
    "compute_all",
    "dataset_embedding",
    "evaluate_run",
    "fid",
    "frechet_distance",
    "inception_score",
    "kid",
    "load_classifier",
    "measure_baselines",
    "mode_coverage",
    "precision_recall",
    "print_table",
    "swd",
    "train_classifier",
    "update_results",
]
