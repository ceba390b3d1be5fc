"""The multilayer perceptron classifier (docs/adding-a-family.md: one family, one folder)."""

from zoo.models.mlp.mlp import MLP
from zoo.models.mlp.mlp_variants import mlp

__all__ = ["MLP", "mlp"]
