"""``torch.backends.cudnn``'s flags, accepted and ignored: scratchgan's CUDA ops are its own
kernels (kernels/*.cu) and cuBLAS, never cuDNN, so there is no algorithm search to enable
(``benchmark``) and CPU runs are already bit-reproducible (``deterministic``)."""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = False


def is_available():
    """False: scratchgan does not use cuDNN."""
    return False
