"""Lightning side: the training module, its loss, schedule and metrics."""

from srnlab.lit.module import DeblurModule

__all__ = ["DeblurModule"]
