"""A second, deliberately simple implementation of the README's rules, and generated incidents
to compare it with the pipeline (differential tests)."""
