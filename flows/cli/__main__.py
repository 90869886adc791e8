"""`python -m flows.cli`: the `credits` command line."""

from flows.cli import main

main()
