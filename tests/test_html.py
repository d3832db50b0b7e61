"""extract_page and same_site_links: what a person would read, from any input, quickly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.fakes.site import DESCRIPTION, HOME, TITLE
from pipeline.html import (
    MAX_CONTENT_CHARS,
    MAX_HEADINGS,
    MAX_PARSE_TAGS,
    extract_page,
    read_html,
    same_site_links,
)
from pipeline.models import Page

URL = "https://acme.example.com/"


def test_reads_title_description_headings_and_text() -> None:
    page = extract_page(URL, HOME)
    assert page.url == URL
    assert page.title == TITLE
    assert page.meta_description == DESCRIPTION
    assert page.headings == ["Robots that sort your warehouse", "Our stack", "Customers"]
    assert "written in Python, runs on Kubernetes and keeps its state in PostgreSQL." in page.content
    assert "do not read me" not in page.content and "font-family" not in page.content
    assert TITLE not in page.content  # the head is not body text


def test_hidden_and_non_visible_elements_are_dropped() -> None:
    html = """<html><body>
      <p>Visible one.</p>
      <script>secret_script()</script><style>.secret-style{}</style>
      <noscript>secret noscript</noscript><template><p>secret template</p></template>
      <svg><title>secret svg title</title><text>secret svg</text></svg>
      <!-- secret comment -->
      <div hidden><p>secret hidden attribute</p></div>
      <div aria-hidden="true">secret aria</div>
      <div aria-hidden="false">Visible two.</div>
      <p style="color: red; display : none">secret display none</p>
      <p style="visibility:hidden">secret visibility</p>
      <p style="display:block">Visible three.</p>
      <div hidden><div style="display:none"><h2>secret nested heading</h2></div></div>
      <h2>Visible heading</h2>
    </body></html>"""
    page = extract_page(URL, html)
    assert page.content == "Visible one.\nVisible two.\nVisible three.\nVisible heading"  # one block a line
    assert page.headings == ["Visible heading"]
    assert page.title == ""


def test_description_falls_back_to_open_graph() -> None:
    html = '<head><meta property="og:description" content="  From   Open Graph "></head><body>x</body>'
    assert extract_page(URL, html).meta_description == "From Open Graph"


def test_headings_are_deduplicated_and_capped() -> None:
    html = "<h1>Same</h1><h2> Same </h2>" + "".join(f"<h3>Heading {i}</h3>" for i in range(100)) + "<h4>Too deep</h4>"
    headings = extract_page(URL, html).headings
    assert headings[:2] == ["Same", "Heading 0"]
    assert len(headings) == MAX_HEADINGS
    assert "Too deep" not in headings


def test_text_is_whitespace_collapsed_and_capped() -> None:
    page = extract_page(URL, "<p>word\n\n\t  word</p>" + "<p>filler text</p>" * 5000)
    assert page.content.startswith("word word\nfiller text\n")
    assert len(page.content) == MAX_CONTENT_CHARS


@pytest.mark.parametrize(
    "html",
    [
        "",
        "<",
        "<<<>>>",
        "<p>unclosed <b>bold <i>italic",
        "</p></div></html>",
        "<html><head><title>One</title><title>Two</title>",
        "<p>nul\x00bytes\x00here</p>",
        b"\xff\xfe\x00<\x00p\x00>",
        b"<p>caf\xe9 latin-1 bytes</p>",
        "<?xml version='1.0'?><root><p>xml</p></root>",
        "<![CDATA[ data ]]><p>after</p>",
        "<div " + "a=1 " * 10_000 + ">attrs</div>",
        "<table><tr><td>cell<td>cell</table></td></tr>",
        "http://looks-like-a-url.example.com",
        "<a href='http://[::1'>bad link</a><a href='http://x:99999/'>bad port</a>",
    ],
)
@pytest.mark.filterwarnings("ignore::bs4.XMLParsedAsHTMLWarning")
def test_malformed_html_never_crashes(html: str | bytes) -> None:
    page = extract_page(URL, html)
    assert isinstance(page, Page)
    assert "\x00" not in page.content
    assert isinstance(same_site_links(URL, html), list)


def test_nul_bytes_do_not_hide_text() -> None:
    assert "nul bytes here" == extract_page(URL, "<p>nul\x00bytes\x00here</p>").content


def test_deep_nesting_is_parsed_in_bounded_time() -> None:
    # Checked by structure, not by a clock: the markup is cut at MAX_PARSE_TAGS tags, so the text
    # before the nest is read and the text beyond the cut is never parsed.
    depth = 5 * MAX_PARSE_TAGS
    page = extract_page(URL, "<title>Deep</title><h1>top</h1>" + "<div>" * depth + "bottom" + "</div>" * depth)
    assert isinstance(page, Page)
    assert (page.title, page.headings, page.content) == ("Deep", ["top"], "top")


def test_nesting_under_the_tag_cap_is_read_to_the_bottom() -> None:
    depth = MAX_PARSE_TAGS // 2 - 1  # an opening and a closing tag per level
    assert extract_page(URL, "<div>" * depth + "bottom" + "</div>" * depth).content == "bottom"


@settings(max_examples=300, deadline=2000)
@given(st.binary(max_size=3000) | st.text(max_size=3000))
def test_any_input_gives_a_page(data: bytes | str) -> None:
    page = extract_page(URL, data)
    assert isinstance(page, Page)
    assert len(page.content) <= MAX_CONTENT_CHARS
    assert all(link.startswith("https://acme.example.com/") for link in same_site_links(URL, data))


TAGS = st.sampled_from(["p", "div", "h1", "h2", "script", "style", "a", "title", "svg", "template", "span", "b"])


@st.composite
def tag_soup(draw: st.DrawFn) -> str:
    parts = draw(
        st.lists(
            st.one_of(
                TAGS.map(lambda t: f"<{t}>"),
                TAGS.map(lambda t: f"</{t}>"),
                st.just("<div hidden>"),
                st.just('<a href="/about">'),
                st.just("<!--"),
                st.text(max_size=20),
            ),
            max_size=200,
        )
    )
    return "".join(parts)


@settings(max_examples=300, deadline=2000)
@given(tag_soup())
def test_any_tag_soup_gives_a_page(html: str) -> None:
    page, links = read_html(URL, html)
    assert isinstance(page, Page)
    assert set(links) <= {"https://acme.example.com/about"}


# --- links ---------------------------------------------------------------------------------------


def test_same_site_links_are_absolute_deduplicated_and_on_the_same_host() -> None:
    html = """
      <a href="/about">About</a>
      <a href="about#team">About again</a>
      <a href="careers/">Careers</a>
      <a href="https://acme.example.com/blog?page=2">Blog</a>
      <a href="http://acme.example.com/product">Product over http</a>
      <a href="//acme.example.com/jobs">Scheme-relative</a>
      <a href="https://acme.example.com:8443/admin">Other port</a>
      <a href="https://github.com/acme">GitHub</a>
      <a href="https://evil.example.com/">Sub-domain of another name</a>
      <a href="https://user:pw@acme.example.com/x">Credentials</a>
      <a href="mailto:jobs@acme.example.com">Mail</a>
      <a href="javascript:alert(1)">Script</a>
      <a href="#top">Top</a>
      <a href="/">Home</a>
      <a href="/en/\n\tabout">Split by a newline and a tab</a>
      <a>No href</a>
    """
    assert same_site_links(URL, html) == [
        "https://acme.example.com/about",
        "https://acme.example.com/careers/",
        "https://acme.example.com/blog?page=2",
        "http://acme.example.com/product",
        "https://acme.example.com/jobs",
        "https://acme.example.com/en/about",
    ]


def test_links_honour_the_base_element() -> None:
    html = '<head><base href="https://acme.example.com/en/"></head><a href="team">Team</a>'
    assert same_site_links(URL, html) == ["https://acme.example.com/en/team"]


def test_links_inside_hidden_menus_still_count() -> None:
    page, links = read_html(URL, '<nav style="display:none"><a href="/careers">Careers</a></nav><p>Hi</p>')
    assert links == ["https://acme.example.com/careers"]
    assert page.content == "Hi"
