"""Settings read from the environment: names, defaults, parsing and refusals."""

from __future__ import annotations

import pytest

from settings import DEFAULT_DATABASE_URL, DEFAULT_GITHUB_API_URL, Settings


def test_defaults_need_nothing_set():
    settings = Settings.from_mapping({})

    assert settings.database_url == DEFAULT_DATABASE_URL and "/data/" in settings.database_url
    assert settings.github_api_url == DEFAULT_GITHUB_API_URL
    assert settings.anthropic_api_key is None and settings.allow_private_urls is False
    assert settings.workers >= 1 and settings.job_deadline_s == 90.0


def test_every_documented_name_is_read():
    settings = Settings.from_mapping({
        "DATABASE_URL": "postgresql://db/prep", "ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": "http://a",
        "ANTHROPIC_MODEL": "m", "GITHUB_TOKEN": "t", "GITHUB_API_URL": "http://gh/", "PREP_WORKERS": "3",
        "PREP_ALLOW_PRIVATE_URLS": "yes", "PREP_API_TOKEN": "x", "PREP_LEASE_S": "5", "PREP_JOB_DEADLINE_S": "30",
        "PREP_STEP_TIMEOUTS": "scrape-website=20, analyze-with-claude=45",
    })  # fmt: skip

    assert (settings.database_url, settings.anthropic_model, settings.github_api_url) == (
        "postgresql://db/prep",
        "m",
        "http://gh",
    )
    assert (settings.workers, settings.allow_private_urls, settings.lease_s, settings.job_deadline_s) == (
        3,
        True,
        5.0,
        30.0,
    )
    assert settings.step_timeouts_s == {"scrape-website": 20.0, "analyze-with-claude": 45.0}


def test_secrets_stay_out_of_the_repr():
    text = repr(
        Settings.from_mapping(
            {"ANTHROPIC_API_KEY": "sk-secret", "GITHUB_TOKEN": "gh-secret", "PREP_API_TOKEN": "api-secret"}
        )
    )
    assert "secret" not in text


@pytest.mark.parametrize(
    "env",
    [
        {"PREP_WORKERS": "0"},
        {"PREP_WORKERS": "many"},
        {"PREP_STEP_TIMEOUTS": "scrape-website"},
        {"PREP_STEP_TIMEOUTS": "scrape-site=3"},
    ],
)
def test_bad_values_are_refused(env):
    with pytest.raises(ValueError):
        Settings.from_mapping(env)
