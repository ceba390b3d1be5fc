"""Pretrained weights: typed entries, verified downloads, cache (see issue 5)."""

import dataclasses
import fnmatch

_WEIGHTS = {}


@dataclasses.dataclass(frozen=True)
class WeightsSpec:
    name: str
    model: str


def list_weights(pattern="*"):
    return [w for n, w in sorted(_WEIGHTS.items()) if fnmatch.fnmatchcase(n, pattern)]


def create_with_weights(name, weights, **kwargs):
    raise ValueError(f"No weights {weights!r} are published for {name!r}.")
