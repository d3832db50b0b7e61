"""ui.format and ui.job_view.step_lines: human durations and times, and untrusted text kept literal."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt  # a CommonMark renderer (markdown-it-py, pinned)

from pipeline.markdown import WORD_JOINER
from ui.format import STATUS_ICONS, escape_markdown, human_duration, human_eta, job_duration_ms, when
from ui.job_view import step_lines
from worker.status import StepState

ROOT = Path(__file__).resolve().parent.parent
MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])

HOSTILE = [
    "http://a.example redirected to [click me](https://evil.example)",
    "![tracker](https://evil.example/pixel.png)",
    "<https://evil.example> and <img src=x onerror=alert(1)>",
    "**bold** __bold__ *it* _it_ `code` ~~gone~~",
    "# Heading",
    "1. list item",
    "- bullet + more",
    "| a | b |",
    r"back\slash \[not a link\](x)",
    "$x^2$ and :red[coloured] and :smile:",
    "&lt;script&gt; &amp; &#91;",
    "[ref]: https://evil.example",
]


def rendered(markdown: str) -> str:
    """The HTML of `markdown`, without the invisible word joiners that keep Streamlit from autolinking."""
    return MARKDOWN.render(markdown).replace(WORD_JOINER, "")


def literal(text: str) -> str:
    """What a renderer makes of `text` when it contains no markup at all: one paragraph of it."""
    body = escape(text, quote=False).replace('"', "&quot;")
    return f"<p>{body}</p>\n"


# --- escape_markdown ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_renders_literally(text: str) -> None:
    assert rendered(escape_markdown(text)) == literal(text)


def test_links_and_images_do_not_survive() -> None:
    html = rendered(escape_markdown("see [here](https://evil.example) ![x](https://evil.example/x.png)"))
    assert "<a " not in html and "<img" not in html


def test_plain_words_are_left_alone() -> None:
    assert escape_markdown("the site answered 503") == "the site answered 503"
    assert escape_markdown("") == ""


def test_every_special_character_is_backslashed() -> None:
    assert escape_markdown("[x](y)") == r"\[x\]\(y\)"
    assert escape_markdown("a\\b") == "a\\\\b"


@given(
    st.text(alphabet=string.ascii_letters + string.digits + string.punctuation + " ", min_size=1)
    .map(str.strip)
    .filter(bool)
)
def test_any_line_of_ascii_renders_literally(text: str) -> None:
    assert rendered(escape_markdown(text)) == literal(text)


# --- step_lines ----------------------------------------------------------------------------------


def step(**fields: object) -> StepState:
    base = {"id": "scrape-website", "label": "Reading the company website", "status": "failed", "attempts": 1}
    return StepState(**{**base, "duration_ms": 850, "error": None, "note": None, "meta": None, **fields})


def test_step_lines_escape_errors_and_notes() -> None:
    hostile = "http://a.example redirected to ![x](https://evil.example/x.png)\n\n# injected"
    text = step_lines([step(error=hostile), step(status="skipped", note=f"skipped: {hostile}")])

    html = rendered(text)
    assert "<img" not in html and "<a " not in html and "<h1>" not in html
    assert "injected" in html  # the text is still shown, as text
    assert "Last error: http" in text
    assert "**Reading the company website**" in text  # our own formatting stays


def test_step_lines_prefer_the_note_and_show_counts() -> None:
    text = step_lines([step(attempts=2, duration_ms=12_400, error="boom", note="not needed")])
    assert text == "- :material/error: **Reading the company website** — failed · 2 attempts · 12.4 s  \n  _not needed_"


def test_step_lines_for_a_pending_step() -> None:
    assert step_lines([step(status="pending", attempts=0, duration_ms=None)]) == (
        "- :material/schedule: **Reading the company website** — pending"
    )


# --- durations and times -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (None, "—"),
        (0, "0 ms"),
        (850, "850 ms"),
        (999.9, "999 ms"),
        (1000, "1.0 s"),
        (12_400, "12.4 s"),
        (60_000, "1 min"),
        (125_000, "2 min 5 s"),
        (3_600_000, "1 h"),
        (3_780_000, "1 h 3 min"),
    ],
)
def test_human_duration(ms: float | None, text: str) -> None:
    assert human_duration(ms) == text


@pytest.mark.parametrize(("seconds", "text"), [(0, "1 s"), (0.4, "1 s"), (45.4, "45 s"), (90, "1 min 30 s")])
def test_human_eta(seconds: float, text: str) -> None:
    assert human_eta(seconds) == text


def test_job_duration_ms() -> None:
    start = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert job_duration_ms(None, None) is None
    assert job_duration_ms(start, start + timedelta(seconds=2.5)) == 2500
    assert job_duration_ms(datetime.now(UTC) - timedelta(hours=1), None) >= 3_600_000  # still running


def test_when() -> None:
    assert when(datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)) == "2025-03-04 05:06 UTC"
    assert when(None) == "—"


def test_the_pages_use_material_icons_not_emoji() -> None:
    """Emoji render as empty boxes in a browser without an emoji font; Material icons ship with Streamlit."""
    emoji = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f]")
    sources = [ROOT / "app.py", *sorted((ROOT / "ui").glob("*.py")), *sorted((ROOT / "pages").glob("*.py"))]
    found = [
        f"{path.name}:{n}"
        for path in sources
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if emoji.search(line)
    ]
    assert found == []
    assert all(icon.startswith(":material/") for icon in STATUS_ICONS.values())
