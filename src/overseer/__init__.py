"""overseer: audit language models with the methods of current alignment research."""

from overseer.errors import OverseerError

__version__ = "0.1.0"
__all__ = ["OverseerError", "__version__"]
