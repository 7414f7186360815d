"""The one error type the command line turns into a clear message (and exit code 1) instead of a traceback."""

from __future__ import annotations


class NexkError(Exception):
    """A problem the user can fix: the message says what was wrong and what to do."""
