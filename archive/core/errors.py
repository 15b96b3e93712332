"""Exceptions that more than one layer raises or catches."""


class ConfigError(Exception):
    """The configuration is wrong; nothing was crawled."""
