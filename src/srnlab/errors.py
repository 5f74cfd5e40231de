"""The exception types of a user's mistake. Mistakes a person can fix end a command with one line,
`<command>: error: ...`, and exit code 2 (srnlab.cli.runtime turns them into that line); everything else keeps
its traceback."""

from __future__ import annotations


class UserError(Exception):
    """A mistake in a command line, a config or an input file; the message names it and what to do."""


class ConfigError(UserError, ValueError):
    """A config value that cannot work; the message names the option."""
