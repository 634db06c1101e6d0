"""A test that uses no cassette: the plugin loads and stays out of the way."""


def test_arithmetic() -> None:
    assert 1 + 1 == 2
