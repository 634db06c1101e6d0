"""Test data, not tests: the plain user project is run by CI (and tests/install) in a fresh
virtual environment of its own, never by the repository's test run."""

collect_ignore = ["plain_user_project"]
