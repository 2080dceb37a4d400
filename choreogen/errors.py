"""User-facing errors.

Every problem caused by the user's input (a corrupt file, a wrong shape, an unknown option value)
is raised as :class:`ChoreogenError`. The CLI prints its one-line message and exits non-zero with
no traceback; programming errors still raise normally so they are visible.
"""
from __future__ import annotations

import os


class ChoreogenError(Exception):
    """An error caused by user input. ``str(err)`` is a complete one-line message."""

    def __init__(self, message: str, path: str | os.PathLike | None = None):
        self.path = None if path is None else os.fspath(path)
        self.problem = message
        super().__init__(f"{self.path}: {message}" if self.path else message)


class InputError(ChoreogenError):
    """An input file is missing, unreadable, corrupt or has the wrong content."""


class ConfigError(ChoreogenError):
    """An option or configuration value is invalid or incompatible."""
