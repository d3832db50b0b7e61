"""A fake GitHub REST API: organisations, their repositories, org search, and rate limits.

Serves `GET /orgs/{org}`, `GET /orgs/{org}/repos` and `GET /search/users` from an in-memory
dataset that starts with one organisation, "acme-robotics" ("Acme Robotics", blog
https://acme.example). Every reply carries GitHub's rate-limit headers, counting down per
resource ("core" and "search"); a resource at zero answers 403 as GitHub does. Replies carry an
ETag; a request whose If-None-Match matches gets 304 and is not counted (GitHub promises that for
authorized requests; the fake does it for all).
`GET /rate_limit` answers the windows for free. `conditional` and `counted` tally requests.
"""

from __future__ import annotations

import copy
import hashlib
import time
from dataclasses import dataclass

from harness.fakes.server import FakeServer, Reply, Request

CORE_LIMIT = 5000
SEARCH_LIMIT = 30
RESET_IN_S = 3600  # when a fresh window resets, seconds from now


@dataclass
class _Bucket:
    limit: int
    remaining: int
    reset_at: int  # Unix time, seconds

    def headers(self, resource: str) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset_at),
            "x-ratelimit-used": str(self.limit - self.remaining),
            "x-ratelimit-resource": resource,
        }

    def as_json(self) -> dict[str, int]:
        used = self.limit - self.remaining
        return {"limit": self.limit, "remaining": self.remaining, "reset": self.reset_at, "used": used}


def repo(
    name: str,
    *,
    language: str | None = None,
    stars: int = 0,
    topics: list[str] | None = None,
    fork: bool = False,
    archived: bool = False,
    description: str | None = None,
    pushed_at: str = "2025-01-01T00:00:00Z",
) -> dict:
    """One repository in the shape `add_org(repos=...)` takes (html_url is filled in per org)."""
    return {
        "name": name,
        "language": language,
        "stargazers_count": stars,
        "topics": topics or [],
        "fork": fork,
        "archived": archived,
        "description": description,
        "pushed_at": pushed_at,
    }


ACME_REPOS = [
    repo("robot-os", language="Python", stars=900, topics=["robotics", "ros", "python"],
         description="The operating system of our robots."),
    repo("motion-planner", language="C++", stars=500, topics=["robotics", "motion-planning"]),
    repo("fleet-dashboard", language="TypeScript", stars=300, topics=["react", "dashboard"]),
    repo("firmware", language="C", stars=200, topics=["embedded"]),
    repo("simulator", language="Python", stars=120, topics=["simulation", "hacktoberfest"]),
    repo("acme-cli", language="Go", stars=80, topics=["cli"]),
    repo("handbook", language=None, stars=40),
    repo("old-planner", language="C++", stars=2000, archived=True),
    repo("linux", language="C", stars=5000, fork=True),
]  # fmt: skip


class FakeGitHub(FakeServer):
    """GitHub's REST API for organisations, over a dataset tests can extend with `add_org`."""

    def __init__(self) -> None:
        self.limits = {"core": CORE_LIMIT, "search": SEARCH_LIMIT}
        super().__init__()
        self._restore()

    # --- the dataset ---------------------------------------------------------------------

    def add_org(self, login: str, name: str | None = None, blog: str | None = "", repos: list[dict] = ()) -> None:
        """Register (or replace) an organisation and its repositories; `blog` as GitHub stores it."""
        with self._lock:
            self.orgs[login.lower()] = {
                "login": login,
                "id": 1000 + len(self.orgs),
                "type": "Organization",
                "name": name,
                "blog": blog,
                "html_url": f"https://github.com/{login}",
                "description": None,
                "public_repos": len(repos),
            }
            self.repos[login.lower()] = [
                {
                    "full_name": f"{login}/{r['name']}",
                    "html_url": f"https://github.com/{login}/{r['name']}",
                    **copy.deepcopy(r),
                }
                for r in repos
            ]

    def remove_org(self, login: str) -> None:
        """Forget an organisation and its repositories (to reorder search results, re-add it)."""
        with self._lock:
            self.orgs.pop(login.lower(), None)
            self.repos.pop(login.lower(), None)

    def reset(self) -> None:
        """Forget requests and faults, and go back to the default dataset and full rate limits."""
        super().reset()
        self.limits = {"core": CORE_LIMIT, "search": SEARCH_LIMIT}
        self._restore()

    def set_limits(self, core: int, search: int | None = None, reset_in_s: int = RESET_IN_S) -> None:
        """Start fresh windows with these limits (60 and 10 are GitHub's for anonymous callers)."""
        with self._lock:
            self.limits = {"core": core, "search": search if search is not None else self.limits["search"]}
            self._new_windows(reset_in_s)

    def _new_windows(self, reset_in_s: int) -> None:
        reset_at = int(time.time()) + reset_in_s
        self.buckets = {name: _Bucket(limit, limit, reset_at) for name, limit in self.limits.items()}
        self.counted = 0  # requests that cost rate limit
        self.counted_search = 0  # of those, search requests (a separate, per-minute limit)
        self.conditional = 0  # requests with If-None-Match (answered 304 or not)
        self.not_modified = 0  # of those, answered 304 (not counted)
        self.over_limit = 0  # requests answered 403 because the window was used up
        self.strip_headers: set[str] = set()  # header names left out of every reply (a server without limits)

    def _restore(self) -> None:
        with self._lock:
            self.orgs: dict[str, dict] = {}
            self.repos: dict[str, list[dict]] = {}
            self._new_windows(RESET_IN_S)
        self.add_org("acme-robotics", "Acme Robotics", "https://acme.example", ACME_REPOS)

    def set_remaining(self, remaining: int, resource: str = "core") -> None:
        """Pretend earlier requests used up the rate limit down to `remaining`."""
        with self._lock:
            self.buckets[resource].remaining = remaining

    # --- scripted rate limits (answer the next request to `path`) -------------------------

    def primary_rate_limit(self, path: str, reset_in_s: float = 30) -> None:
        """The next request to `path` finds the primary rate limit exhausted until `reset_in_s` from now."""
        bucket = _Bucket(self.limits["core"], 0, int(time.time() + reset_in_s))
        self.fail(path, Reply.json(_limit_body("API rate limit exceeded"), 403, **bucket.headers("core")))

    def secondary_rate_limit(self, path: str, retry_after_s: int = 7) -> None:
        """The next request to `path` hits a secondary rate limit with a Retry-After of `retry_after_s`."""
        headers = {**self.buckets["core"].headers("core"), "retry-after": str(retry_after_s)}
        self.fail(path, Reply.json(_limit_body("You have exceeded a secondary rate limit"), 403, **headers))

    # --- what tests check ----------------------------------------------------------------

    @property
    def authorizations(self) -> list[str | None]:
        """The Authorization header of each API request received (None when absent), in order."""
        return [r.headers.get("authorization") for r in self.requests if r.path != "/rate_limit"]

    def paths(self) -> list[str]:
        """The path of each API request received, in order (the free /rate_limit reads left out)."""
        return [r.path for r in self.requests if r.path != "/rate_limit"]

    # --- the API -------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        if request.path == "/rate_limit":  # free on GitHub too
            with self._lock:
                return Reply.json({"resources": {name: b.as_json() for name, b in self.buckets.items()}})
        resource = "search" if request.path.startswith("/search/") else "core"
        with self._lock:
            bucket = self.buckets[resource]
            reply = self._route(request)
            etag = f'"{hashlib.sha256(reply.body).hexdigest()[:16]}"'
            if "if-none-match" in request.headers:
                self.conditional += 1
                if request.headers["if-none-match"] == etag:
                    self.not_modified += 1
                    return Reply(304, b"", {"ETag": etag, **bucket.headers(resource)})
            if bucket.remaining <= 0:
                self.over_limit += 1
                return Reply.json(_limit_body("API rate limit exceeded"), 403, **bucket.headers(resource))
            bucket.remaining -= 1
            self.counted += 1
            self.counted_search += resource == "search"
            headers = bucket.headers(resource)
        reply.headers.update(headers, ETag=etag)
        for name in self.strip_headers:
            reply.headers.pop(name, None)
        return reply

    def _route(self, request: Request) -> Reply:
        parts = request.path.strip("/").split("/")
        if request.method != "GET":
            return _not_found()
        if parts == ["search", "users"]:
            return self._search(request.query.get("q", [""])[0], _int(request.query, "per_page", 30))
        if len(parts) == 2 and parts[0] == "orgs":
            org = self.orgs.get(parts[1].lower())
            return Reply.json(org) if org else _not_found()
        if len(parts) == 3 and parts[0] == "orgs" and parts[2] == "repos":
            if parts[1].lower() not in self.orgs:
                return _not_found()
            repos = sorted(self.repos[parts[1].lower()], key=lambda r: r["pushed_at"], reverse=True)
            per_page = min(_int(request.query, "per_page", 30), 100)
            page = max(_int(request.query, "page", 1), 1)
            return Reply.json(repos[(page - 1) * per_page : page * per_page])
        return _not_found()

    def _search(self, q: str, per_page: int) -> Reply:
        terms = [t.lower() for t in q.split() if not t.startswith("type:")]
        if not terms:
            return Reply.json({"message": "Validation Failed"}, 422)
        items = [
            {"login": org["login"], "id": org["id"], "type": "Organization", "html_url": org["html_url"],
             "score": 1.0}
            for org in self.orgs.values()
            if all(t in f"{org['login']} {org['name'] or ''}".lower() for t in terms)
        ]  # fmt: skip
        return Reply.json({"total_count": len(items), "incomplete_results": False, "items": items[:per_page]})


def _limit_body(message: str) -> dict:
    return {"message": message, "documentation_url": "https://docs.github.com/rest/rate-limit"}


def _not_found() -> Reply:
    return Reply.json({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, 404)


def _int(query: dict[str, list[str]], name: str, default: int) -> int:
    try:
        return int(query[name][0])
    except (KeyError, IndexError, ValueError):
        return default
