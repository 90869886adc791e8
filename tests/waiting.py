"""Waiting for another process without reading a clock: a bounded number of short sleeps.

A wait is a limit on how long a test may hang, never a measurement: speed belongs in
`make bench`."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


def until(condition: Callable[[], object], *, seconds: float, every: float = 0.05) -> bool:
    """Whether `condition()` became true within about `seconds` (checked every `every` s)."""
    for _ in range(math.ceil(seconds / every)):
        if condition():
            return True
        time.sleep(every)
    return bool(condition())
