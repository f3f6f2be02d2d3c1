"""Errors a person can act on. The CLI prints them as one line and exits with code 2."""


class FerkitError(Exception):
    """Base class for errors caused by the user's input (files, options), not by a bug."""


class DatasetError(FerkitError):
    """A dataset path that does not exist, holds no recognisable dataset, or (with strict=True) holds bad data."""
