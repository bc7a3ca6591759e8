"""A rank's supervisor: ``python -m scratchgan.distributed.supervise PROGRAM ARGS...``.

The ``--nproc`` launcher starts every rank under one (``mpiexec -n N python -m
scratchgan.distributed.supervise python -m scratchgan.cli ...``): it runs the rank as its child
and waits for it. When the rank dies of a signal (SIGKILL, a segfault) only its parent knows for
certain which process died first, so the supervisor says so on stderr, naming the rank and its
pid, and exits with 128 + the signal. It exits normally, so MPICH's Hydra (with
``-disable-auto-cleanup``) does not kill the others but tells them (SIGUSR1); each then raises
``RankDied`` naming the same rank (watchdog.py) and the job aborts. Without a supervisor, Hydra
kills the survivors at once and its report can name one of them instead (docs/DISTRIBUTED.md).

Standard library only, so it costs a bare interpreter per rank; the rank keeps the supervisor's
stdin, stdout, stderr and MPI connection (inherited), and dies with it (Linux's PDEATHSIG).
"""

import ctypes
import os
import signal
import socket
import subprocess
import sys

PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """In the child, before exec: SIGKILL this process when its supervisor dies (Linux)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: an orphaned rank meets the watchdog instead
        pass


def rank_name():
    """This process's rank from the launcher's environment (MPICH, Open MPI, Slurm)."""
    for name in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID"):
        if name in os.environ:
            return f"rank {os.environ[name]}"
    return "a rank"


def main(argv):
    if not argv:
        print(
            "usage: python -m scratchgan.distributed.supervise PROGRAM [ARGS...]", file=sys.stderr
        )
        return 2
    child = subprocess.Popen(argv, preexec_fn=_die_with_parent, close_fds=False)
    # Ctrl-C and Hydra's failure notice (SIGUSR1) reach the whole process group: the rank
    # handles them, the supervisor waits (ignored only now: an ignored signal is inherited)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    code = child.wait()
    if code >= 0:
        return code
    signum = -code
    print(
        f"error: {rank_name()} (pid {child.pid} on {socket.gethostname()}) died: killed by "
        f"signal {signum} ({signal.Signals(signum).name})",
        file=sys.stderr,
        flush=True,
    )
    return 128 + signum


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
