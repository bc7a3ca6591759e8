"""The one error a missing data set raises."""


class DatasetNotFoundError(FileNotFoundError):
    """A data set is not on this machine.

    The message lists every place that was searched and, where there is one, the single
    command that installs the data set.
    """


def not_found(what, looked_in, install=None):
    """Build a DatasetNotFoundError: `looked_in` is a list of place descriptions."""
    lines = [f"{what} not found. Looked in:"]
    lines += [f"  {i}. {place}" for i, place in enumerate(looked_in, 1)]
    if install:
        lines.append(f"Install it with: {install}")
    return DatasetNotFoundError("\n".join(lines))
