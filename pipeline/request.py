"""Validating what a candidate typed into a ResearchRequest, with a clear message per field."""

from __future__ import annotations

import unicodedata

from core.errors import InvalidInput
from core.request import MAX_NAME_CHARS, MAX_ROLE_CHARS, ResearchRequest
from pipeline.posting import check_posting_text
from pipeline.urls import check_url_static, normalize_url


def _clean_text(value: object, field: str, label: str, limit: int, *, required: bool) -> str | None:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{label} must be text.", field)
    text = " ".join(value.split())
    if not text:
        if required:
            raise InvalidInput(f"{label} is required.", field)
        return None
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text):
        raise InvalidInput(f"{label} contains control or invisible characters.", field)
    if len(text) > limit:
        raise InvalidInput(f"{label} is too long ({len(text)} characters; at most {limit}).", field)
    return text


def parse_request(
    company_name: object,
    company_url: object = None,
    role: object = None,
    deep_mode: object = False,
    refresh: object = False,
    *,
    allow_private: bool = False,
    job_description: object = None,
    job_description_url: object = None,
) -> ResearchRequest:
    """A valid request from raw inputs, or InvalidInput naming the field at fault."""
    name = _clean_text(company_name, "companyName", "Company name", MAX_NAME_CHARS, required=True)
    role_text = _clean_text(role, "role", "Target role", MAX_ROLE_CHARS, required=False)
    if not isinstance(deep_mode, bool):
        raise InvalidInput("Deep mode must be true or false.", "deepMode")
    if not isinstance(refresh, bool):
        raise InvalidInput("Refresh sources must be true or false.", "refresh")
    url = None
    if company_url is not None and not isinstance(company_url, str):
        raise InvalidInput("Website must be text.", "companyUrl")
    if company_url and company_url.strip():
        try:
            url = normalize_url(company_url)
            check_url_static(url, allow_private)
        except InvalidInput as error:
            error.field = error.field or "companyUrl"
            raise
    posting, posting_url = parse_posting(job_description, job_description_url, allow_private=allow_private)
    return ResearchRequest(
        company_name=name,
        company_url=url,
        role=role_text,
        deep_mode=deep_mode,
        refresh=refresh,
        job_description=posting,
        job_description_url=posting_url,
    )


def parse_posting(
    job_description: object = None, job_description_url: object = None, *, allow_private: bool = False
) -> tuple[str | None, str | None]:
    """The job posting as checked text or as a checked URL (at most one); InvalidInput naming the field."""
    posting = check_posting_text(job_description)
    posting_url = _checked_url(job_description_url, "jobDescriptionUrl", "The job posting URL", allow_private)
    if posting and posting_url:
        raise InvalidInput("Give the job posting either as text or as a URL, not both.", "jobDescriptionUrl")
    return posting, posting_url


def _checked_url(value: object, field: str, label: str, allow_private: bool) -> str | None:
    """A normalised public web URL, None when absent; InvalidInput naming `field` otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{label} must be text.", field)
    try:
        url = normalize_url(value)
        check_url_static(url, allow_private)
    except InvalidInput as error:
        error.field = field
        raise
    return url
