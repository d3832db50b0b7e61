"""Settings read from the environment and `.streamlit/secrets.toml`: names, defaults, parsing and refusals."""

from __future__ import annotations

import re

import pytest
from pydantic_settings import SettingsConfigDict

from settings import DEFAULT_DATABASE_URL, DEFAULT_GITHUB_API_URL, KEYS, PROJECT_DIR, Settings

# Each name the README's configuration table documents, a value for it, and the setting it must change.
VALUES = {
    "DATABASE_URL": ("postgresql://db/prep", "database_url", "postgresql://db/prep"),
    "ANTHROPIC_API_KEY": ("k", "anthropic_api_key", "k"),
    "ANTHROPIC_BASE_URL": ("http://a", "anthropic_base_url", "http://a"),
    "ANTHROPIC_MODEL": ("m", "anthropic_model", "m"),
    "GITHUB_TOKEN": ("t", "github_token", "t"),
    "GITHUB_API_URL": ("http://gh/", "github_api_url", "http://gh"),
    "PREP_WORKERS": ("3", "workers", 3),
    "PREP_ALLOW_PRIVATE_URLS": ("yes", "allow_private_urls", True),
    "PREP_API_TOKEN": ("x", "api_token", "x"),
    "PREP_LEASE_S": ("5", "lease_s", 5.0),
    "PREP_JOB_DEADLINE_S": ("30", "job_deadline_s", 30.0),
    "PREP_STEP_TIMEOUTS": (
        "scrape-website=20, analyze-with-claude=45",
        "step_timeouts_s",
        {"scrape-website": 20.0, "analyze-with-claude": 45.0},
    ),
    "PREP_CACHE_TTL_S": ("600", "cache_ttl_s", 600.0),
    "PREP_PRICES": ('{"m": {"input": 1, "output": 2, "cacheRead": 0.5, "cacheWrite": 1.5}}', "prices", None),
    "PREP_KEEP_STEP_OUTPUT_DAYS": ("7", "keep_step_output_days", 7.0),
    "PREP_RENDER_JS": ("OFF", "render_js", "off"),
    "PREP_MODEL_IDLE_S": ("5", "model_idle_s", 5.0),
    "PREP_GREENHOUSE_API_URL": ("http://gh-boards/", "greenhouse_api_url", "http://gh-boards"),
    "PREP_LEVER_API_URL": ("http://lever/", "lever_api_url", "http://lever"),
    "PREP_ASHBY_API_URL": ("http://ashby/", "ashby_api_url", "http://ashby"),
    "PREP_WIKIPEDIA_API_URL": ("http://wp/", "wikipedia_api_url", "http://wp"),
    "PREP_WIKIDATA_API_URL": ("http://wd/", "wikidata_api_url", "http://wd"),
    "PREP_HN_API_URL": ("http://hn/", "hn_api_url", "http://hn"),
    "PREP_SOURCE_HOST_INTERVAL_MS": ("1000", "source_host_interval_ms", 1000.0),
}


def documented_names() -> list[str]:
    """The variables in the first column of the README's configuration table."""
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", table, flags=re.MULTILINE)


def test_the_documented_names_are_the_names_read():
    assert sorted(documented_names()) == sorted(KEYS) == sorted(VALUES)


@pytest.mark.parametrize("name", sorted(VALUES))
def test_every_documented_name_is_read(name):
    value, field, expected = VALUES[name]

    settings = Settings.from_mapping({name: value})

    read = getattr(settings, field)
    assert read != getattr(Settings.from_mapping({}), field)
    if name == "PREP_PRICES":
        assert (read["m"].input, read["m"].cache_write) == (1.0, 1.5) and "claude-sonnet-5-5" in read
    else:
        assert read == expected


def test_defaults_need_nothing_set():
    settings = Settings.from_mapping({})

    assert settings.database_url == DEFAULT_DATABASE_URL and "/data/" in settings.database_url
    assert settings.github_api_url == DEFAULT_GITHUB_API_URL
    assert settings.anthropic_api_key is None and settings.allow_private_urls is False
    assert settings.workers >= 1 and settings.job_deadline_s == 90.0


def test_a_mapping_is_read_alone(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "from-env")

    assert Settings.from_mapping({}).github_token is None
    assert Settings.from_mapping({"GITHUB_TOKEN": ""}).github_token is None


def test_empty_values_count_as_unset():
    assert Settings.from_mapping({"PREP_WORKERS": " ", "ANTHROPIC_MODEL": ""}) == Settings.from_mapping({})


def test_the_environment_wins_over_the_secrets_file(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('ANTHROPIC_MODEL = "from-secrets"\nPREP_WORKERS = 5\nGITHUB_TOKEN = "gh-file"\n[other]\nx = 1\n')

    class FromFile(Settings):
        model_config = SettingsConfigDict(toml_file=[tmp_path / "missing.toml", secrets])

    for name in KEYS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ANTHROPIC_MODEL", "from-env")
    monkeypatch.setenv("PREP_WORKERS", "")  # empty: the file's value stands

    settings = FromFile()

    assert (settings.anthropic_model, settings.workers, settings.github_token) == ("from-env", 5, "gh-file")


def test_load_reads_the_environment(monkeypatch):
    monkeypatch.setenv("PREP_CACHE_TTL_S", "120")
    monkeypatch.setenv("PREP_STEP_TIMEOUTS", "search-github=4")

    settings = Settings.load()

    assert (settings.cache_ttl_s, settings.step_timeouts_s) == (120.0, {"search-github": 4.0})


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
        {"PREP_ALLOW_PRIVATE_URLS": "perhaps"},
        {"PREP_LEASE_S": "-1"},
        {"PREP_STEP_TIMEOUTS": "scrape-website"},
        {"PREP_STEP_TIMEOUTS": "scrape-site=3"},
        {"PREP_PRICES": "{not json"},
    ],
)
def test_bad_values_are_refused(env):
    with pytest.raises(ValueError):
        Settings.from_mapping(env)
