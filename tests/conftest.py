"""Shared test setup: the fakes' fixtures are plugins listed here."""

pytest_plugins = [
    "tests.api_contract",
    "tests.app_fixtures",
    "tests.browser_fixtures",
    "tests.fakes.fixtures",
]
