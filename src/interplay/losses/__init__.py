"""Loss terms from matrix information: ``InterplayLoss`` (MIR/HDR) and ``CrossModalAlignmentLoss`` (CMA)."""

from interplay.losses.alignment import CrossModalAlignmentLoss
from interplay.losses.supervised import InterplayLoss

__all__ = ["CrossModalAlignmentLoss", "InterplayLoss"]
