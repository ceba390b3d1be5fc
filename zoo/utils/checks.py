"""Argument checks shared by the zoo: each raises naming the argument and the value received.

```python
units = check_positive_int("units", units)  # ValueError: ... Received: units=0
```
"""

import math
import numbers

from zoo.errors import UserValueError


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_finite(value):
    return _is_number(value) and math.isfinite(value)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_positive(name, value, allow_none=False):
    """A finite number > 0 as a float (None passes when `allow_none`)."""
    if value is None and allow_none:
        return None
    if not _is_finite(value) or not value > 0:
        raise UserValueError(f"`{name}` must be a finite number > 0. Received: {name}={value!r}")
    return float(value)


def check_non_negative(name, value):
    """A finite number >= 0 as a float."""
    if not _is_finite(value) or not value >= 0:
        raise UserValueError(f"`{name}` must be a finite number >= 0. Received: {name}={value!r}")
    return float(value)


def check_finite(name, value, allow_none=False):
    """A finite number as a float (None passes when `allow_none`)."""
    if value is None and allow_none:
        return None
    if not _is_finite(value):
        raise UserValueError(f"`{name}` must be a finite number. Received: {name}={value!r}")
    return float(value)


def check_positive_int(name, value, allow_none=False):
    """An int > 0 (None passes when `allow_none`)."""
    if value is None and allow_none:
        return None
    if not _is_int(value) or value <= 0:
        raise UserValueError(f"`{name}` must be an int > 0. Received: {name}={value!r}")
    return int(value)


def check_fraction(name, value, low_open=True, high_open=True):
    """A number in (0, 1) as a float; `low_open`/`high_open` False close either end."""
    bad = not _is_number(value)
    if not bad:
        bad = (value <= 0 if low_open else value < 0) or (value >= 1 if high_open else value > 1)
    if bad:
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise UserValueError(f"`{name}` must be in {lo}0, 1{hi}. Received: {name}={value!r}")
    return float(value)


def check_rate(name, value):
    """A rate in [0, 1) (dropout, masking) as a float."""
    return check_fraction(name, value, low_open=False)


def check_bool(name, value):
    if not isinstance(value, bool):
        raise UserValueError(f"`{name}` must be True or False. Received: {name}={value!r}")
    return value


def check_choice(name, value, choices):
    if value not in choices:
        raise UserValueError(f"`{name}` must be one of {list(choices)}. Received: {name}={value!r}")
    return value


def check_seed(seed, name="seed"):
    """None or an int."""
    if seed is not None and not _is_int(seed):
        raise UserValueError(f"`{name}` must be None or an int. Received: {name}={seed!r}")
    return seed


def check_widths(name, widths, allow_empty=True):
    """A sequence of ints > 0 (layer widths, depths) as a tuple."""
    try:
        widths = tuple(widths)
    except TypeError:
        raise UserValueError(
            f"`{name}` must be a sequence of ints > 0. Received: {name}={widths!r}"
        ) from None
    if not widths and not allow_empty:
        raise UserValueError(f"`{name}` must not be empty. Received: {name}={widths!r}")
    for w in widths:
        if not _is_int(w) or w <= 0:
            raise UserValueError(f"`{name}` must hold ints > 0. Received: {name}={widths!r}")
    return tuple(int(w) for w in widths)


def check_input_shape(input_shape, min_rank=1, max_rank=None, argument="input_shape"):
    """`input_shape` (no batch axis) as a tuple of positive ints."""
    try:
        shape = tuple(int(d) for d in input_shape)
    except (TypeError, ValueError):
        raise UserValueError(
            f"`{argument}` must be a tuple of positive ints. Received: {argument}={input_shape!r}"
        ) from None
    max_rank = max_rank or min_rank
    if not (min_rank <= len(shape) <= max_rank) or any(d <= 0 for d in shape):
        rank = f"{min_rank}" if min_rank == max_rank else f"{min_rank} to {max_rank}"
        raise UserValueError(
            f"`{argument}` must have {rank} positive dimensions (no batch). "
            f"Received: {argument}={input_shape!r}"
        )
    return shape
