"""Errors a user can cause. Each message says what went wrong and what to do next.

The CLI prints an `OverseerError` as one line (no traceback unless `--debug`);
anything else is a bug in overseer and is shown in full.
"""

from __future__ import annotations


class OverseerError(Exception):
    """Base class for every error caused by bad input or a missing resource."""


class ModelNotFoundError(OverseerError):
    """The model name or path does not resolve to a loadable model."""


class UnsupportedArchitectureError(OverseerError):
    """The model's architecture has no known residual-stream layout."""


class LayerOutOfRangeError(OverseerError):
    """A layer index outside `[-n_layers, n_layers)`."""


class InvalidInputError(OverseerError):
    """Empty, mis-shaped or non-finite input (texts, tensors, parameters)."""


class DatasetError(OverseerError):
    """A dataset file that is missing, empty or malformed."""


class MissingDependencyError(OverseerError):
    """An optional package needed for this feature is not installed."""


class ConfigurationError(OverseerError):
    """Missing API key, unreachable endpoint, or an inconsistent setting."""


class NotFittedError(OverseerError):
    """A fitted object (steering method, probe, detector) used before `fit` or `load`."""
