"""GX's answers remembered for the test session: an input any worker has validated before is
answered from that answer's file instead of by GX again.

GX's result is a function of the suite, the frame, the parameters and the detail asked for (a
run's outputs are byte-identical for the same inputs), and the suite's tests ask it the same
questions many times: the finance desk's runs are mostly of the same few rows, the rejected
runs' cases share every frame but the one they break, the profile tests validate as rows the
frames the suites' tests validated, and the gate's tests check the same clean run's datasets.
Every distinct input still goes to GX the first time it is asked (on each worker, if both ask
it at once). The slices of a long frame (`quality/slices.py` imports `run_suite` by name, and
is patched too) are remembered alike: the profile tests' frames differ from each other in a
row or two, so most of their slices are an earlier case's. A test that must ask GX itself
says `@pytest.mark.real_gx`.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

from transforms.quality import gx_run


def remembered(run_suite, folder: Path):
    """`run_suite` (`gx_run.run_suite`), answering an input any worker has seen this session
    from its file in `folder` (a JSON file per answer, by a digest of suite, frame, parameters
    and detail, and the types of the values of its object columns). A frame pandas cannot hash,
    or an answer JSON cannot hold, goes to GX each time; an input GX raised on is not kept (it
    raises again)."""
    import pandas as pd

    def run(
        document: dict,
        frame,
        keys: list[str],
        parameters: dict,
        detail: gx_run.Detail = gx_run.Detail.ROWS,
    ) -> dict:
        try:
            rows = pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()
        except TypeError:
            return run_suite(document, frame, keys, parameters, detail)
        key = (
            json.dumps(document, sort_keys=True),
            tuple(frame.columns),
            tuple(str(dtype) for dtype in frame.dtypes),
            rows,
            _value_types(frame),
            tuple(keys),
            repr(sorted(parameters.items())),
            detail.value,
        )
        path = folder / f"{hashlib.sha256(repr(key).encode()).hexdigest()}.json"
        if path.exists():  # a file appears whole (`_kept`)
            return json.loads(path.read_bytes())
        return _kept(path, run_suite(document, frame, keys, parameters, detail))

    return run


def _value_types(frame) -> bytes:
    """The type of every value in the frame's object columns, hashed row by row: pandas hashes
    such a value by its text, so 1 and "1", or a date and its ISO text, would share a key."""
    import pandas as pd

    objects = [c for c, dtype in frame.dtypes.items() if pd.api.types.is_object_dtype(dtype)]
    if not objects:
        return b""
    types = frame[objects].map(lambda value: type(value).__qualname__)
    return pd.util.hash_pandas_object(types, index=False).to_numpy().tobytes()


def _kept(path: Path, answer: dict) -> dict:
    """The answer as JSON gives it back (as a later reader of the file gets it), written to
    `path` whole (a temporary file renamed); an answer JSON cannot hold is not kept."""
    try:
        text = json.dumps(answer)
    except (TypeError, ValueError):
        return answer
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}")
    temporary.write_text(text)
    os.replace(temporary, path)
    return json.loads(text)
