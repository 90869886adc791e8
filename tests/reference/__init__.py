"""A second, deliberately simple implementation of the rules in docs/, and generated incidents
to compare it with the pipeline (differential tests)."""
