"""How a step's output is kept in its attempt row, and read back when a job resumes.

The scrape's home page is both the site's own fields and the first of its pages; the checkpoint
keeps its text once, in the page, and the site's `content` is filled in again on the way back.
"""

from __future__ import annotations

from core.request import Frozen
from pipeline.models import ScrapedSite


def pack(output: Frozen) -> dict:
    """The JSON an attempt row keeps for `output`."""
    data = output.to_json_dict()
    if isinstance(output, ScrapedSite) and output.pages and output.pages[0].content == output.content:
        data["content"] = ""
    return data


def unpack(model: type[Frozen], data: dict) -> Frozen:
    """The step's output again, from what pack() kept."""
    output = model.model_validate(data)
    if isinstance(output, ScrapedSite) and output.pages and not output.content:
        output = output.model_copy(update={"content": output.pages[0].content})
    return output
