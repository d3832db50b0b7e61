"""Reading the model's JSON item by item: what breaks a limit is clipped or set aside, never the reply.

Structured outputs enforce the schema's shape but not `maxItems`, `maxLength` or `minimum` (the
SDK moves them into descriptions), so a reply may hold seven tips where five are allowed or a
3 000-character talking point. Each item is fitted to BriefingDraft's limits: a list is cut to its
maximum (facts left over go to "Not verified" with the reason), a text is cut to its length, a
number under its minimum is dropped where it is optional; an item that still does not validate is
left out (a fact with a text goes to "Not verified"). A bad source id stays as it is: it fails
verification as a citation, not the reply.

The reply also arrives in pieces: `complete_sections` reads the sections of a partial JSON text
that can no longer change (every top-level key but the one still being written).
"""

from __future__ import annotations

import types
from typing import Union, get_args, get_origin

import annotated_types
import jiter
import pydantic

from pipeline.models import BriefingDraft, Claim, RequirementDraft, Unverified
from pipeline.verify import FACT_SECTIONS

_ALIAS = {info.alias or name: name for name, info in BriefingDraft.model_fields.items()}
_SECTION_TITLES = {**FACT_SECTIONS, "role_fit": "Role fit"}


def parse_partial(text: str) -> dict:
    """The JSON object in a reply that may still be arriving (or was cut off); {} if none yet."""
    text = _strip_code_fence(text)
    if not text:
        return {}
    try:
        data = jiter.from_json(text.encode(), partial_mode="on")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def parse_whole(text: str) -> dict | None:
    """The JSON object of a finished reply, or None when it is not one whole JSON object."""
    try:
        data = jiter.from_json(_strip_code_fence(text).encode())
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def complete_sections(data: dict, *, finished: bool) -> dict:
    """The top-level sections (by field name) that can no longer change: all of them when the
    reply is `finished` whole, else all but the last key, which may still be written."""
    keys = [key for key in data if key in _ALIAS]
    if not finished and keys:
        keys = keys[:-1] if keys[-1] == list(data)[-1] else keys
    return {_ALIAS[key]: data[key] for key in keys}


def read_sections(raw: dict) -> tuple[dict, list[Unverified]]:
    """Each raw section (by field name) fitted to its limits, and the fact items set aside."""
    sections: dict = {}
    slips: list[Unverified] = []
    for name, value in raw.items():
        info = BriefingDraft.model_fields[name]
        sections[name] = _fit_value(info.annotation, info.metadata, value, slips, _SECTION_TITLES.get(name))
    return sections, slips


def draft_of(sections: dict) -> BriefingDraft:
    """A draft of these fitted sections; every section not among them is empty."""
    return BriefingDraft.model_validate(sections)


def fit(model: type[pydantic.BaseModel], data: object, slips: list[Unverified] | None = None) -> object | None:
    """`data` as an instance of `model` after clipping what breaks a limit; None if unreadable."""
    if not isinstance(data, dict):
        return None
    values = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key in data:
            values[name] = _fit_value(info.annotation, info.metadata, data[key], slips, None)
    try:
        return model.model_validate(values)
    except pydantic.ValidationError:
        return None


def _fit_value(annotation: object, metadata: list, value: object, slips: list[Unverified] | None, title: str | None):
    """One value fitted to its annotation and limits (MaxLen, Ge); `title` names a fact section."""
    max_len = next((m.max_length for m in metadata if isinstance(m, annotated_types.MaxLen)), None)
    minimum = next((m.ge for m in metadata if isinstance(m, annotated_types.Ge)), None)
    inner, optional = _unwrap(annotation)
    if get_origin(inner) is list:
        if not isinstance(value, list):
            return []
        (element,) = get_args(inner)
        items = value
        if isinstance(element, type) and issubclass(element, pydantic.BaseModel):
            items = []
            for raw in value:
                item = fit(element, raw)
                if item is not None:
                    items.append(item)
                elif title and isinstance(raw, dict) and str(raw.get("text") or raw.get("requirement") or "").strip():
                    _set_aside(slips, title, raw, "The model's item could not be read.")
        if max_len is not None and len(items) > max_len:
            for extra in items[max_len:]:
                if title and isinstance(extra, Claim | RequirementDraft):
                    text = extra.text if isinstance(extra, Claim) else extra.requirement
                    reason = f"Over the limit of {max_len} items for this section."
                    if slips is not None:
                        slips.append(Unverified(section=title, text=text, reason=reason, evidence=extra.evidence))
            items = items[:max_len]
        return items
    if isinstance(inner, type) and issubclass(inner, pydantic.BaseModel):
        return fit(inner, value) if value is not None else None
    if isinstance(value, str) and max_len is not None:
        return value[:max_len]
    if isinstance(value, int | float) and not isinstance(value, bool) and minimum is not None and value < minimum:
        return None if optional else value  # a required number stays: the item fails and is left out
    return value


def _unwrap(annotation: object) -> tuple[object, bool]:
    """The annotation without `| None`, and whether it allowed None."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        return (args[0] if len(args) == 1 else annotation), len(args) < len(get_args(annotation))
    return annotation, False


def _set_aside(slips: list[Unverified] | None, title: str, raw: dict, reason: str) -> None:
    """Record an unreadable fact item under "Not verified" (its text only: its evidence is unread)."""
    if slips is not None:
        text = str(raw.get("text") or raw.get("requirement"))[:2000]
        slips.append(Unverified(section=title, text=text, reason=reason))


def _strip_code_fence(text: str) -> str:
    """The text without a ```json fence around it, if the model added one (closed or not yet)."""
    text = text.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rstrip()
        if text.endswith("```"):
            text = text[:-3]
    return text.strip()
