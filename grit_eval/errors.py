"""Errors the harness reports to users as one clear line (never a traceback).

Every message names the file, the example id where there is one, and what is wrong.
The command-line entry points catch ``GritEvalError``, print ``<prog>: error: <message>`` and
exit with status 2.
"""


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
