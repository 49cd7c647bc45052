"""Speaker-aware cross-validation for access control."""

from ._split import OpenSetGroupKFold

__all__ = ["OpenSetGroupKFold"]
