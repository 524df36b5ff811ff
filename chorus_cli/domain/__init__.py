"""The rules of SPEC.md: use cases that take a unit of work and raise domain errors."""
