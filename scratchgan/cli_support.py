"""What the ``scratchgan`` command needs besides its subcommands: an argument parser whose errors
are one line, typed number arguments that name the bad value, and the rule that turns an
exception into one line on stderr and an exit status (2: usage, 1: failure), with ``--debug``
showing the traceback instead; and the one-BLAS-thread default of the commands that train."""

import argparse
import math
import os
import sys
import traceback

USAGE, FAILURE = 2, 1


class CommandError(Exception):
    """A user-facing error in how a command was called: one line, exit status 2."""


class CommandFailure(Exception):
    """A user-facing failure of a well-formed command: one line, exit status 1."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``scratchgan train: argument --epochs: ...``."""

    def error(self, message):
        self.exit(USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _whole_number(text, least):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < least:
        raise argparse.ArgumentTypeError(
            f"{text} is below {least}: expected a whole number >= {least}"
        )
    return value


def positive_int(text):
    """argparse type: a whole number >= 1."""
    return _whole_number(text, 1)


def count(text):
    """argparse type: a whole number >= 0."""
    return _whole_number(text, 0)


def number(text):
    """argparse type: a finite float."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def usage_errors():
    """The exception types that mean the command was called wrongly (exit status 2)."""
    from .models import NotBuilt
    from .training.protocol import Unsupported
    from .training.recipes import RecipeError
    from .training.runs import RunError

    return (CommandError, Unsupported, NotBuilt, RecipeError, RunError, ValueError)


def failures():
    """The exception types that mean a well-formed command failed (exit status 1)."""
    from .training.checkpoints import CheckpointError

    return (CommandFailure, CheckpointError, OSError, RuntimeError, MemoryError)


def one_line(error):
    text = " ".join(str(error).split()) or type(error).__name__
    return text


def run_reporting_errors(command, func, args, debug=False):
    """``func(args)``'s exit status; an exception becomes one line on stderr (a traceback with
    ``debug``): status 2 for a usage error, 1 for a failure, 1 for anything unexpected."""
    try:
        return func(args)
    except KeyboardInterrupt:
        raise
    except Exception as error:  # noqa: BLE001 (every error becomes one line; --debug shows it)
        if debug:
            traceback.print_exc()
        status = (
            USAGE
            if isinstance(error, usage_errors()) and not isinstance(error, failures())
            else FAILURE
        )
        hint = getattr(error, "hint", None) or _checkpoint_hint(error, command, args)
        known = isinstance(error, usage_errors() + failures())
        prefix = "" if known else f"unexpected {type(error).__name__}: "
        run = getattr(args, "run", None)
        if run and run not in str(error):  # say which run a model's refusal is about
            prefix = f"RUN {run}: {prefix}"
        tail = "" if known or debug else " (run again with --debug for the traceback)"
        print(f"scratchgan {command}: {prefix}{one_line(error)}{hint}{tail}", file=sys.stderr)
        return status


def _checkpoint_hint(error, command, args):
    previous = getattr(error, "previous", None)
    if not previous:
        return ""
    if command == "train":
        return (
            f"; the previous good checkpoint is {previous}: continue from it with "
            f"--resume-from {previous}"
        )
    return f"; the previous good checkpoint is {previous}: use it with --checkpoint {previous}"


BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _limit_blas_threads():
    """Run BLAS on one thread unless the user chose (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS,
    MKL_NUM_THREADS).

    The models' matrices are small (batch 32 MLPs): a second BLAS thread gains nothing there, and on
    a busy machine OpenBLAS threads waiting for each other made a GAN step 17x slower (254 vs 4,218
    images/s on 2 shared cores). Needs threadpoolctl; without it nothing changes.
    """
    if any(os.environ.get(v) for v in BLAS_THREAD_VARIABLES):
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(1, user_api="blas")
