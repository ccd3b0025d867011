"""Library version, recorded in every saved model."""

__version__ = "0.1.0"
