"""Exceptions whose messages name the file, line or config key a user has to fix."""


class PolyalpacaError(Exception):
    """Base class: every error meant for the user, not a bug."""


class ConfigError(PolyalpacaError):
    """The configuration is invalid; the message names the key path (e.g. ``tunings.chen-lora.lora.r``)."""


class DataError(PolyalpacaError):
    """An input file is malformed; the message starts with ``path:line:``."""
