"""Errors the harness reports to users as one clear line (never a traceback).

Every message names the file, the example id where there is one, and what is wrong.
The command-line entry points catch ``GritEvalError``, print ``<prog>: error: <message>`` and
exit with status 2.
"""
import argparse
import errno
import os
from typing import NoReturn


class GritEvalError(Exception):
    """Base class: a problem with the user's input or setup, explained in the message."""


class DataError(GritEvalError):
    """A data file (samples, ground truth, images, options) is missing or malformed."""


class SubmissionError(GritEvalError):
    """A submission (zip or folder) is malformed, incomplete or unsafe."""


class StoreError(GritEvalError):
    """The prediction store of a run directory cannot be used as it is."""


class ConfigError(GritEvalError):
    """A setting is missing, unknown or inconsistent."""


class OneLineArgumentParser(argparse.ArgumentParser):
    """argparse without the usage block on errors: one line ``<prog>: error: ...``, exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def error_line(exc: BaseException) -> str:
    """The one-line message of a user-facing error (``GritEvalError`` or ``OSError``)."""
    if isinstance(exc, OSError) and exc.filename is not None:
        if exc.errno in (errno.EEXIST, errno.ENOTDIR) and not os.path.isdir(exc.filename):
            return f"{exc.filename}: is a file where a folder is needed"
        return f"{exc.filename}: {exc.strerror or exc}"
    return " ".join(str(exc).split()) if isinstance(exc, OSError) else str(exc)
