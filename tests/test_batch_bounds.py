"""A batch's input is bounded: an oversized file is refused before it is read, reading stops at
the cap, at most a few bad lines are listed, and a huge field is a clear error, on the page
(AppTest), through the API and on the command line."""

from __future__ import annotations

import tomllib

import pytest

from pipeline.batch_input import MAX_COMPANIES, MAX_FILE_BYTES, MAX_LINES, MAX_LISTED, BadBatch, parse_lines
from settings import PROJECT_DIR
from tests.helpers import count_jobs, open_page
from tests.test_cli import _cli
from ui.format import escape_markdown

TIMEOUT_S = 30
HUGE_FIELD = "Acme" + "x" * 200_000  # past the csv module's field limit of 131 072 characters


def _page_error(app_env, *, text: str | None = None, upload: bytes | None = None) -> str:
    """The error the batch page shows for this list or uploaded file; nothing was queued."""
    at = open_page("pages/batch.py", timeout_s=TIMEOUT_S)
    if text is not None:
        at.text_area(key="batch_lines").input(text)
    if upload is not None:
        at.file_uploader(key="batch_file").set_value(("companies.csv", upload, "text/csv"))
    at = at.form_submit_button[0].click().run()
    assert not at.exception, at.exception
    assert count_jobs(app_env["DATABASE_URL"]) == 0
    assert len(at.error) == 1
    return at.error[0].value


def test_the_upload_limit_is_the_files_limit():
    config = tomllib.loads((PROJECT_DIR / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == MAX_FILE_BYTES  # Streamlit's MB is 2**20 bytes


def test_the_page_says_what_is_wrong_with_a_huge_field_a_huge_file_and_many_bad_lines(app_env):
    assert "cannot be read as CSV" in _page_error(app_env, text=f"{HUGE_FIELD}, https://acme.example\n")
    assert "list or file is larger than 1 MB" in _page_error(app_env, upload=b"Acme\n" * (MAX_FILE_BYTES // 5 + 1))
    many = _page_error(app_env, upload=b"Acme, ftp://acme.example\n" * 30)
    assert many.count(escape_markdown("Only http:// and https://")) == MAX_LISTED
    assert escape_markdown(f"{30 - MAX_LISTED} more have errors") in many
    assert len(many) < 2_000


def test_reading_stops_at_the_cap():
    # Past the cap nothing more is read: not the bad lines, not the unreadable field at the end.
    rows = "Acme, ftp://acme.example\n" * 30_000 + HUGE_FIELD  # under the file limit
    with pytest.raises(BadBatch) as refused:
        parse_lines(rows)
    assert [str(error) for error in refused.value.errors] == [
        f"The batch: has more than {MAX_COMPANIES} companies; at most {MAX_COMPANIES} can be researched at once."
    ]
    with pytest.raises(BadBatch, match=f"has more than {MAX_LINES} lines"):
        parse_lines("Acme\n" + "\n" * 40_000 + HUGE_FIELD)


def test_the_api_names_a_huge_field(client):
    answer = client.post("/api/batches", json={"companies": [{"companyName": HUGE_FIELD[:150_000]}]})
    assert answer.status_code == 422
    assert answer.json()["error"] == "companies.0.companyName is too long (at most 100 characters)."


def test_the_cli_says_what_is_wrong_with_a_huge_field_and_a_huge_file(app_env, tmp_path):
    huge_field, huge_file = tmp_path / "field.csv", tmp_path / "file.csv"
    huge_field.write_text(f"{HUGE_FIELD}, https://acme.example\n")
    huge_file.write_bytes(b"Acme\n" * (MAX_FILE_BYTES // 5 + 1))
    for path, words in ((huge_field, "cannot be read as CSV"), (huge_file, "list or file is larger than 1 MB")):
        done = _cli(str(path), command="batch")
        assert done.returncode == 2, done.stderr
        assert words in done.stderr and "Traceback" not in done.stderr
    assert count_jobs(app_env["DATABASE_URL"]) == 0


def test_the_api_lists_the_first_bad_companies_and_counts_the_rest(client):
    companies = [{"companyName": f"Acme {n}", "companyUrl": "ftp://acme.example"} for n in range(12)]
    answer = client.post("/api/batches", json={"companies": companies})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error.count("Only http:// and https://") == MAX_LISTED
    assert error.endswith(f"{12 - MAX_LISTED} more have errors; fix the ones above first.")
