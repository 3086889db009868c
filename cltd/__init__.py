"""CLTD: a community data trust."""

__version__ = "0.1.0"
