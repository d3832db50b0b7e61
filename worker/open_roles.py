"""The company's open roles, looked up before a job is submitted, so the candidate can pick one as
the posting (the form, `GET /api/open-roles`, `python -m cli roles`)."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from pipeline.job_boards import find_open_roles
from pipeline.models import OpenRoles
from pipeline.source_reader import Reader
from worker.services import Services

LOOKUP_S = 10.0  # the most a lookup may take, seconds: someone is waiting for the list


def open_roles(services: Services, company_name: str, company_url: str | None) -> OpenRoles | None:
    """The roles open on the company's job board; None when no board has its name. Raises
    PipelineError when a board could not be asked."""
    deadline = time.monotonic() + LOOKUP_S
    reader = Reader(services.site_client, services.site_policy, services.sources, deadline, services.source_interval_s)
    domain = urlsplit(company_url).hostname if company_url else None
    return find_open_roles(" ".join(company_name.split()), domain, reader, services.source_apis)
