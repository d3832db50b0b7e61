"""Fake public job-board APIs in the shapes the real ones answer: Greenhouse, Lever and Ashby.

Each holds boards by name (`boards`, a dict tests may change) and starts with Acme Robotics's:
Greenhouse `acmerobotics` (three jobs, one with a pay range), Lever `acme-lever` and Ashby
`acme-ashby` (one job each, with pay). An unknown board or job is a 404 in the service's own
error shape. Every 200 carries an ETag, and a matching If-None-Match gets a 304.
"""

from __future__ import annotations

import copy
import hashlib
import html
import json

from harness.fakes.server import FakeServer, Reply, Request

GREENHOUSE_TOKEN = "acmerobotics"
GREENHOUSE_JOB_ID = 4012345
LEVER_SITE = "acme-lever"
LEVER_ID = "5f7d1c2e-9a8b-4c3d-8e2f-1a2b3c4d5e6f"
ASHBY_BOARD = "acme-ashby"
ASHBY_ID = "0c8e6b2a-1f3d-4e5a-9b7c-6d5e4f3a2b1c"

BACKEND_HTML = """<h2>About the role</h2>
<p>You will build the fleet software that runs our sorting robots.</p>
<h3>Requirements</h3>
<ul>
<li>5+ years of experience with Python in production</li>
<li>Experience running services on Kubernetes</li>
<li>Good knowledge of PostgreSQL and data modelling</li>
</ul>
<h3>Nice to have</h3>
<ul><li>Familiarity with ROS or robot fleets</li></ul>"""


def _greenhouse_job(job_id: int, title: str, department: str, office: str, *, pay: list[dict] | None = None) -> dict:
    return {
        "id": job_id,
        "internal_job_id": job_id - 4000000,
        "title": title,
        "updated_at": "2026-10-01T09:00:00-04:00",
        "first_published": "2026-09-01T09:00:00-04:00",
        "requisition_id": f"REQ-{job_id}",
        "location": {"name": office},
        "absolute_url": f"https://acme.example/careers?gh_jid={job_id}",
        "company_name": "Acme Robotics",
        "language": "en",
        "metadata": None,
        "data_compliance": [{"type": "gdpr", "requires_consent": False, "retention_period": None}],
        "content": html.escape(BACKEND_HTML if "Backend" in title else f"<p>{title} at Acme Robotics.</p>"),
        "departments": [{"id": 1000 + len(department), "name": department, "child_ids": [], "parent_id": None}],
        "offices": [{"id": 2000 + len(office), "name": office, "location": office, "child_ids": [], "parent_id": None}],
        "pay_input_ranges": pay or [],
    }


def greenhouse_boards() -> dict[str, list[dict]]:
    """The default Greenhouse boards: token → jobs (full records; the fake trims them per request)."""
    pay = [
        {
            "min_cents": 9500000,
            "max_cents": 12000000,
            "currency_type": "EUR",
            "title": "Lyon",
            "blurb": "The base salary range for this role in Lyon.",
        }
    ]
    return {
        GREENHOUSE_TOKEN: [
            _greenhouse_job(GREENHOUSE_JOB_ID, "Senior Backend Engineer", "Engineering", "Lyon", pay=pay),
            _greenhouse_job(GREENHOUSE_JOB_ID + 1, "Robotics Engineer", "Engineering", "Lyon"),
            _greenhouse_job(GREENHOUSE_JOB_ID + 2, "Site Operations Lead", "Operations", "Remote - Europe"),
        ]
    }


class _EtagServer(FakeServer):
    """A JSON API whose 200s carry an ETag that a matching If-None-Match turns into a 304."""

    def reply(self, request: Request, data: object) -> Reply:
        body = json.dumps(data).encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if request.headers.get("if-none-match") == etag:
            return Reply(304, b"", {"ETag": etag})
        return Reply(200, body, {"Content-Type": "application/json; charset=utf-8", "ETag": etag})


class FakeGreenhouse(_EtagServer):
    """Greenhouse's Job Board API: `/v1/boards/{token}/departments` and `/v1/boards/{token}/jobs/{id}`."""

    def __init__(self) -> None:
        super().__init__()
        self.boards = greenhouse_boards()

    def reset(self) -> None:
        super().reset()
        self.boards = greenhouse_boards()

    def handle(self, request: Request) -> Reply:
        parts = request.path.strip("/").split("/")
        if len(parts) < 4 or parts[:2] != ["v1", "boards"] or parts[2] not in self.boards:
            return Reply.json({"status": 404, "error": "Job board not found"}, 404)
        jobs = self.boards[parts[2]]
        if parts[3:] == ["departments"]:
            return self.reply(request, {"departments": _departments(jobs)})
        job = next((job for job in jobs if str(job["id"]) == parts[4]), None)
        if parts[3] != "jobs" or job is None or len(parts) != 5:
            return Reply.json({"status": 404, "error": "Job not found"}, 404)
        return self.reply(request, _trim(job, content=True, pay=request.query.get("pay_transparency") == ["true"]))


def _departments(jobs: list[dict]) -> list[dict]:
    """Each department with its jobs (without content), as `/departments` lists them; one has none yet."""
    departments: dict[int, dict] = {}
    for job in jobs:
        for department in job["departments"]:
            listed = departments.setdefault(department["id"], {**copy.deepcopy(department), "jobs": []})
            listed["jobs"].append(_trim(job, content=False, pay=False))
    empty = {"id": 1900, "name": "Marketing", "parent_id": None, "child_ids": [], "jobs": []}
    return [*departments.values(), empty]


def _trim(job: dict, *, content: bool, pay: bool) -> dict:
    """A job as Greenhouse lists it: content, departments and offices only with content=true."""
    out = copy.deepcopy(job)
    if not content:
        for key in ("content", "departments", "offices"):
            out.pop(key)
    if not pay:
        out.pop("pay_input_ranges")
    return out


def lever_sites() -> dict[str, list[dict]]:
    """The default Lever sites: site → postings."""
    return {
        LEVER_SITE: [
            {
                "id": LEVER_ID,
                "text": "Senior Backend Engineer",
                "categories": {
                    "team": "Engineering",
                    "department": "R&D",
                    "location": "Lyon",
                    "commitment": "Full-time",
                    "allLocations": ["Lyon"],
                },
                "country": "FR",
                "createdAt": 1759300000000,
                "description": "<div>You will build the fleet software that runs our sorting robots.</div>",
                "descriptionPlain": "You will build the fleet software that runs our sorting robots.\n",
                "lists": [
                    {
                        "text": "Requirements",
                        "content": "<li>5+ years of experience with Python in production</li>"
                        "<li>Experience running services on Kubernetes</li>",
                    }
                ],
                "additional": "<div>We offer a relocation package.</div>",
                "additionalPlain": "We offer a relocation package.\n",
                "hostedUrl": f"https://jobs.lever.co/{LEVER_SITE}/{LEVER_ID}",
                "applyUrl": f"https://jobs.lever.co/{LEVER_SITE}/{LEVER_ID}/apply",
                "workplaceType": "hybrid",
                "salaryRange": {"currency": "EUR", "interval": "per-year-salary", "min": 90000, "max": 115000},
                "salaryDescriptionPlain": "",
            }
        ]
    }


class FakeLever(_EtagServer):
    """Lever's Postings API: `/v0/postings/{site}?mode=json` and `/v0/postings/{site}/{id}?mode=json`."""

    def __init__(self) -> None:
        super().__init__()
        self.sites = lever_sites()

    def reset(self) -> None:
        super().reset()
        self.sites = lever_sites()

    def handle(self, request: Request) -> Reply:
        parts = request.path.strip("/").split("/")
        missing = Reply.json({"ok": False, "error": "Document not found"}, 404)
        if len(parts) not in (3, 4) or parts[:2] != ["v0", "postings"] or parts[2] not in self.sites:
            return missing
        postings = self.sites[parts[2]]
        if len(parts) == 3:
            return self.reply(request, postings)
        posting = next((p for p in postings if p["id"] == parts[3]), None)
        return missing if posting is None else self.reply(request, posting)


def ashby_boards() -> dict[str, list[dict]]:
    """The default Ashby boards: board → jobs."""
    salary = {
        "id": "comp-1",
        "summary": "€90K – €115K",
        "compensationType": "Salary",
        "interval": "1 YEAR",
        "currencyCode": "EUR",
        "minValue": 90000,
        "maxValue": 115000,
    }
    return {
        ASHBY_BOARD: [
            {
                "id": ASHBY_ID,
                "title": "Senior Backend Engineer",
                "department": "Engineering",
                "team": "Fleet Software",
                "employmentType": "FullTime",
                "location": "Lyon",
                "secondaryLocations": [],
                "publishedAt": "2026-09-01T09:00:00.000+00:00",
                "isListed": True,
                "isRemote": False,
                "address": {"postalAddress": {"addressLocality": "Lyon", "addressCountry": "France"}},
                "jobUrl": f"https://jobs.ashbyhq.com/{ASHBY_BOARD}/{ASHBY_ID}",
                "applyUrl": f"https://jobs.ashbyhq.com/{ASHBY_BOARD}/{ASHBY_ID}/application",
                "descriptionHtml": BACKEND_HTML,
                "descriptionPlain": "You will build the fleet software that runs our sorting robots.",
                "compensation": {
                    "compensationTierSummary": "€90K – €115K • Offers Equity",
                    "scrapeableCompensationSalarySummary": "€90K - €115K",
                    "compensationTiers": [
                        {"id": "tier-1", "tierSummary": "€90K – €115K", "title": "Lyon", "components": [salary]}
                    ],
                    "summaryComponents": [salary],
                },
            }
        ]
    }


class FakeAshby(_EtagServer):
    """Ashby's Posting API: `/posting-api/job-board/{board}?includeCompensation=true`."""

    def __init__(self) -> None:
        super().__init__()
        self.boards = ashby_boards()

    def reset(self) -> None:
        super().reset()
        self.boards = ashby_boards()

    def handle(self, request: Request) -> Reply:
        parts = request.path.strip("/").split("/")
        if len(parts) != 3 or parts[:2] != ["posting-api", "job-board"] or parts[2] not in self.boards:
            return Reply.json({"success": False, "error": "Job board not found"}, 404)
        jobs = copy.deepcopy(self.boards[parts[2]])
        if request.query.get("includeCompensation") != ["true"]:
            for job in jobs:
                job.pop("compensation", None)
        return self.reply(request, {"apiVersion": "1", "jobs": jobs})
