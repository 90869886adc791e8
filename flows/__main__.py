"""`python -m flows`: Prefect's environment as `NAME=value` lines (for `make serve`), or with
`--generated` the folders `make clean` removes; the values are `settings`'."""

import os
import sys

from flows import settings

if sys.argv[1:] == ["--generated"]:
    print(os.environ["PREFECT_HOME"], settings.OUTPUT_DIR, settings.OUTBOX)
else:
    print("\n".join(f"{key}={os.environ[key]}" for key in settings.PREFECT_DEFAULTS))
