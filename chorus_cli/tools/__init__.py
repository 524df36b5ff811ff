"""Developer tools run by the Makefile (never imported by the command line)."""
