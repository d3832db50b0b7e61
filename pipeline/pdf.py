"""The briefing as a PDF: the very Markdown document the download gives, typeset with fpdf2.

markdown-it-py (CommonMark with footnotes) parses the Markdown; each block becomes an fpdf2
`multi_cell` whose inline text uses fpdf2's own markup (bold, italics, links), so links stay
clickable; only the document's own links (its sources) are links, every other text is plain.
The fonts ship in assets/fonts: DejaVu Sans for Latin, Greek, Cyrillic, Hebrew and Arabic, and
Droid Sans Fallback for Chinese, Japanese and Korean. HarfBuzz (uharfbuzz) shapes the text, so
Arabic letters join and right-to-left names read in order inside a line.

fpdf2's own `write_html` is not used: it mis-orders a right-to-left run that follows a fallback
font's run in the same paragraph (fpdf2 2.8.9), which `multi_cell` does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from fpdf import FPDF
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

FONT_DIR = Path(__file__).resolve().parent.parent / "assets" / "fonts"
BODY_FONT = "DejaVuSans"
CJK_FONT = "DroidSansFallback"
BODY_PT = 10.5
HEADING_PT = {"h1": 18.0, "h2": 13.5, "h3": 12.0}
LINE_MM = 5.2  # line height of body text
MARGIN_MM = 18.0
INDENT_MM = 4.0  # a list item's indent
MARKER_MM = 7.0  # room for a bullet or an item number
LINK_BLUE = (20, 80, 170)

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).use(footnote_plugin)
_FPDF_MARKERS = re.compile(r"(\*\*|__|--|~~)")  # fpdf2's inline markers: bold, italics, underline, strike
# fpdf2 reads `[text](url)` anywhere in a markdown cell as a link, and offers no escape for it, so
# untrusted text that spells one ("[x](javascript:…)" in a page title) would become a live link.
# Our links are spelt with control characters instead, which literal text cannot contain.
_LINK_START, _LINK_MIDDLE, _LINK_END = "\x02", "\x03", "\x04"
_LINK_SYNTAX = re.compile(r"^\x02([^\x02\x03\x04]+)\x03([^\x02\x03\x04]+)\x04(.*)$", re.DOTALL)
# Never printed: control characters (ours delimit links), and the word joiners that keep the
# page from autolinking (pipeline.markdown.defuse_autolinks), which a PDF does not do.
_UNPRINTED = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2060]")


@dataclass
class _State:
    """Where the walk over the block tokens is: open lists and the current item's marker."""

    lists: list[list] = field(default_factory=list)  # [ordered, next number] per open list
    marker: str | None = None  # set by list_item_open, used by the item's first paragraph
    heading: str | None = None


def render_pdf(markdown_text: str, *, title: str) -> bytes:
    """The Markdown document as PDF bytes, with clickable links and the document's footnotes."""
    pdf = _document(title)
    state = _State()
    tokens = _MARKDOWN.parse(markdown_text)
    for token in tokens:
        _block(pdf, state, token)
    return bytes(pdf.output())


def pdf_filename(markdown_name: str) -> str:
    """The PDF's download name, beside the Markdown's: `acme-briefing-1a2b3c4d.pdf`."""
    return markdown_name.removesuffix(".md") + ".pdf"


def _document(title: str) -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("Interview Prep")
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(True, margin=MARGIN_MM)
    for style, suffix in (("", ""), ("B", "-Bold"), ("I", "-Oblique"), ("BI", "-BoldOblique")):
        pdf.add_font(BODY_FONT, style, FONT_DIR / f"DejaVuSans{suffix}.ttf")
    pdf.add_font(CJK_FONT, "", FONT_DIR / "DroidSansFallbackFull.ttf")
    # Glyphs DejaVu lacks come from the CJK font, whatever the style (it has no bold or italic).
    pdf.set_fallback_fonts([CJK_FONT], exact_match=False)
    pdf.set_text_shaping(True, direction="ltr")
    pdf.MARKDOWN_LINK_COLOR = LINK_BLUE
    pdf.MARKDOWN_LINK_REGEX = _LINK_SYNTAX
    pdf.add_page()
    pdf.set_font(BODY_FONT, size=BODY_PT)
    return pdf


def _block(pdf: FPDF, state: _State, token: Token) -> None:
    kind = token.type
    if kind == "heading_open":
        state.heading = token.tag
        pdf.ln(3 if token.tag != "h1" else 0)
    elif kind == "heading_close":
        state.heading = None
        pdf.ln(1)
    elif kind in ("bullet_list_open", "ordered_list_open", "footnote_block_open"):
        start = int(token.attrGet("start") or 1) if kind == "ordered_list_open" else 1
        state.lists.append([kind != "bullet_list_open", start])
        if kind == "footnote_block_open":
            pdf.ln(2)
    elif kind in ("bullet_list_close", "ordered_list_close", "footnote_block_close"):
        state.lists.pop()
        pdf.ln(1.5)
    elif kind == "footnote_open":  # numbered by its label ([^3] is source 3), as the Sources list is
        state.marker = f"{token.meta['label']}."
    elif kind == "list_item_open":
        ordered, number = state.lists[-1]
        state.marker = f"{number}." if ordered else "•"
        state.lists[-1][1] += 1
    elif kind == "hr":
        pdf.ln(2)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(2)
    elif kind == "inline":
        _text(pdf, state, _inline(token.children or []))
    elif kind in ("code_block", "fence"):
        _text(pdf, state, _escape(token.content.rstrip("\n")))
    elif kind == "paragraph_close" and not state.lists:
        pdf.ln(1.5)


def _text(pdf: FPDF, state: _State, markup: str) -> None:
    """One block of inline markup: a heading, a paragraph, or a list item's text."""
    if state.heading:
        pdf.set_font(BODY_FONT, "B", HEADING_PT.get(state.heading, BODY_PT))
        pdf.multi_cell(
            0,
            HEADING_PT.get(state.heading, BODY_PT) * 0.5,
            markup,
            markdown=True,
            align="L",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_font(BODY_FONT, "", BODY_PT)
        return
    if state.lists:
        indent = INDENT_MM * len(state.lists)
        pdf.set_x(pdf.l_margin + indent)
        marker, state.marker = state.marker, None
        pdf.cell(MARKER_MM, LINE_MM, marker or "")
    pdf.multi_cell(0, LINE_MM, markup, markdown=True, align="L", new_x="LMARGIN", new_y="NEXT")


def _inline(children: list[Token]) -> str:
    """Inline tokens as fpdf2 markup: **bold**, __italics__, [text](url); everything else literal."""
    out: list[str] = []
    link: list[str] | None = None  # the text of the link being read, and its URL last
    for child in children:
        kind = child.type
        if kind in ("strong_open", "strong_close"):
            piece = "**"
        elif kind in ("em_open", "em_close"):
            piece = "__"
        elif kind == "link_open":
            link = [str(child.attrGet("href") or "")]
            continue
        elif kind == "link_close" and link is not None:
            href, text = link[0], "".join(link[1:])
            link = None
            safe = href.startswith(("https://", "http://")) and not re.search(r"[\s()\[\]]", href)
            piece = f"{_LINK_START}{text or _escape(href)}{_LINK_MIDDLE}{href}{_LINK_END}" if safe else text
        elif kind in ("softbreak", "hardbreak"):
            piece = " " if kind == "softbreak" else "\n"
        elif kind == "footnote_ref":
            piece = _escape(f"[{child.meta['label']}]")  # not markdown-it's order of first reference
        else:  # text, code_inline, and anything else as its literal content
            piece = _escape(child.content)
        if link is not None:
            link.append(piece)
        else:
            out.append(piece)
    return "".join(out)


def _escape(text: str) -> str:
    """Literal text: a backslash before a doubled marker makes fpdf2 print the marker itself;
    control characters (which would spell our links) and word joiners are dropped."""
    return _FPDF_MARKERS.sub(r"\\\1", _UNPRINTED.sub("", text))
