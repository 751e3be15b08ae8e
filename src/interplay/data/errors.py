"""The error raised for every problem with data files or data-set names."""

from interplay.validation import InterplayValueError

__all__ = ["DataError"]


class DataError(InterplayValueError):
    """A data set is unknown, missing, incomplete or corrupt; the message says what to do."""
