"""`python -m flows.cli`: the `credits` command line."""

from flows.console import main

main()
