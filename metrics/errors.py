"""The one exception metric functions raise for input they cannot score."""


class UnscorableInput(ValueError):
    """Input the official scorer would crash on and that has no documented score.

    The message says what is wrong in words a user can act on; callers add the file name and
    the example id before showing it.
    """
