"""SpeedNet: a small, wide convolutional network sized for fast training on a CPU."""

from zoo.models.speednet.model import SpeedNet

__all__ = ["SpeedNet"]
