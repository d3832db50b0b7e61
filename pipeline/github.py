"""search-github: find the company's GitHub organisation and read its stack from its repositories.

    search_github(name, client, domain=..., deadline=..., cache=..., budget=...) -> GitHubData

Finding the organisation costs a few requests: `GET /orgs/{slug}` for slugs made from the name
("Acme Robotics" -> acme-robotics, acmerobotics, acme), then `GET /search/users?q=<name> type:org`.
An organisation is accepted when its `blog` is on the company's own domain; without a domain (or
without a blog), when its login is the whole name as a slug or its display name is the name.
An organisation whose blog points at another site is someone else with a similar name.

Rate limits. Every request is paid for from one budget (`pipeline/github_budget.py`; shared by
every job and process when the worker injects the database's) before it is sent, and every
reply's X-RateLimit-* headers update it; with no current window, GitHub's free `GET /rate_limit`
is read first. A request the budget cannot pay for is not sent: a cached reply, even an old one,
is used instead, else the search stops with the reason ("GitHub's hourly limit is used up until
14:05 UTC; set GITHUB_TOKEN to raise it"). Replies (200 and 404) are cached like pages; an expired
one is revalidated with its ETag, and a 304 is given back to the budget.

There is no retry loop here: GitHub's answers become `TransientError`s (rate limits carry
`retry_after`, uncapped) and the worker's backoff decides whether, and how long, to wait.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from core.cache import CachedResponse
from core.errors import NetworkError, PermanentError, ServiceUnavailable
from core.github_budget import CORE, SEARCH, Verdict, Window
from pipeline.cache import SourceCache
from pipeline.github_budget import BudgetExhausted, MemoryBudget, RateBudget, exhausted_reason
from pipeline.models import GitHubData, Repository
from pipeline.retry_after import retry_after_s

logger = logging.getLogger(__name__)

USER_AGENT = "interview-prep-tool/1.0 (search-github step)"
API_VERSION = "2022-11-28"
REQUEST_TIMEOUT_S = 10.0  # no single request waits longer than this
UNKNOWN_RATE_LIMIT_WAIT_S = 60.0  # GitHub's advice when a limit gives no reset time
LOW_RATE_LIMIT_REMAINING = 2  # at or below this, only the requests we cannot do without
MAX_SEARCH_CANDIDATES = 5  # search results checked with a `GET /orgs/{login}` each
MAX_TECH_STACK = 15
MAX_LOGIN_CHARS = 39  # GitHub's limit on a login

# Words that name a legal form rather than the company: "Stripe, Inc." is the org "stripe".
_LEGAL_SUFFIXES = {
    "inc", "incorporated", "llc", "ltd", "limited", "corp", "corporation", "co", "company",
    "gmbh", "ag", "sa", "sas", "plc", "bv", "nv", "oy", "ab", "pty",
}  # fmt: skip
# Topics that say nothing about the stack, whatever the year or suffix: hacktoberfest2025,
# awesome-python, good-first-issues, mit-license, …
_NOISE_TOPIC = re.compile(
    r"^(?:hacktober\w*|awesome(?:-.*)?|.*-?awesome|good-?first-?issues?|help-?wanted|up-?for-?grabs|"
    r"first-?timers?(?:-only)?|beginner-?friendly|open-?source|github|.*-?licen[cs]e|license|"
    r"hacktoberfest-?accepted|contributions?-?welcome|.*-?(?:19|20)\d\d|(?:19|20)\d\d-?.*)$"
)


def is_noise_topic(topic: str) -> bool:
    """Whether a topic says nothing about the technologies used (events, lists, licences, years)."""
    return bool(_NOISE_TOPIC.match(topic.strip().lower()))


# Topic spellings of language names, so "golang" does not repeat "Go".
_TOPIC_ALIASES = {"golang": "go", "cpp": "c++", "csharp": "c#", "js": "javascript", "ts": "typescript"}


def make_github_client(api_url: str, token: str | None, timeout_s: float = REQUEST_TIMEOUT_S) -> httpx.Client:
    """An httpx client for GitHub's REST API; sends the token as a Bearer header only when one is set."""
    headers = {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
        "User-Agent": USER_AGENT,
    }
    if token and token.strip():
        headers["Authorization"] = f"Bearer {token.strip()}"
    # httpx drops Authorization when a redirect leaves the origin, so following renames is safe.
    return httpx.Client(base_url=api_url, headers=headers, timeout=timeout_s, follow_redirects=True)


def search_github(
    company_name: str,
    client: httpx.Client,
    *,
    domain: str | None = None,
    deadline: float,
    max_repos: int = 6,
    cache: SourceCache | None = None,
    budget: RateBudget | None = None,
) -> GitHubData:
    """The company's organisation, its `max_repos` most-starred live repositories and the stack they show.

    `deadline` is a `time.monotonic()` value; `domain` is the host of the company's web site;
    `budget` is the rate limit shared with other jobs (default: this call's own view).
    Returns a warning and no data when no organisation fits or the rate limit is used up with
    nothing cached; raises `TransientError`s for rate limits, outages and network trouble,
    `PermanentError` for a rejected token.
    """
    api = _GitHubApi(client, deadline, cache, budget or MemoryBudget())
    try:
        return _search(api, company_name, domain, max_repos)
    except BudgetExhausted as error:
        return GitHubData(warning=error.message, skipped_reason=error.message)


def _search(api: _GitHubApi, company_name: str, domain: str | None, max_repos: int) -> GitHubData:
    org = _find_organisation(api, company_name, _clean_host(domain))
    if org is None:
        reason = " (GitHub's rate limit is nearly used up, so the search stopped early)" if api.ran_short else ""
        where = f" with the website {_clean_host(domain)}" if domain else ""
        return GitHubData(warning=f"No GitHub organisation found for {company_name}{where}{reason}.")

    login = org["login"]
    reply = api.get(f"/orgs/{login}/repos", {"type": "public", "per_page": 100, "sort": "pushed"})
    raw_repos = reply if isinstance(reply, list) else []
    live = [r for r in raw_repos if isinstance(r, dict) and not r.get("fork") and not r.get("archived")]
    live.sort(key=lambda r: (-_stars(r), str(r.get("name", "")).lower()))
    stack = _tech_stack(live)
    return GitHubData(
        organization=login,
        homepage=_homepage(org.get("blog")),
        repositories=[_repository(r) for r in _shown_repositories(live, stack, max_repos)],
        tech_stack=stack,
    )


def _shown_repositories(repos: list[dict], stack: list[str], max_repos: int) -> list[dict]:
    """The `max_repos` most starred, then for each stack item no shown repository has, the most
    starred repository that has it: every stack item is backed by a repository the job lists."""
    shown = repos[:max_repos]
    for term in stack:
        if not any(_has(repo, term) for repo in shown):
            backing = next((repo for repo in repos if _has(repo, term)), None)
            if backing is not None:
                shown.append(backing)
    return shown


def _has(repo: dict, term: str) -> bool:
    """Whether a repository's language or one of its topics is `term`."""
    language = repo.get("language")
    topics = [t.lower() for t in repo.get("topics") or [] if isinstance(t, str)]
    return (isinstance(language, str) and language.lower() == term.lower()) or term.lower() in topics


# --- talking to GitHub -----------------------------------------------------------------------


@dataclass
class _GitHubApi:
    """GET requests under one deadline, through the cache, paid for from the shared rate-limit budget."""

    client: httpx.Client
    deadline: float
    cache: SourceCache | None
    budget: RateBudget
    ran_short: bool = False  # an optional request was skipped to save the rate limit
    unlimited: bool = False  # /rate_limit reported no limits (e.g. an Enterprise server without them)

    def can_afford(self, path: str) -> bool:
        """Whether an optional request to `path` leaves the rate limit alone; remembers when not."""
        window = self.budget.window(_resource_of(path))
        if window is not None and window.remaining <= LOW_RATE_LIMIT_REMAINING:
            logger.info("GitHub rate limit low (%d left); skipping %s", window.remaining, path)
            self.ran_short = True
            return False
        return True

    def get(self, path: str, params: dict[str, object] | None = None) -> object | None:
        """The JSON at `path`, or None when GitHub answers 404.

        A cached reply within the TTL costs nothing; an older one is revalidated (a 304 costs
        nothing either) or, when the budget is spent, served as it is.
        """
        if self.cache is None:
            return self._fetch(path, params, None, None)
        key = f"github {self.client.build_request('GET', path, params=params).url}"
        entry, fresh = self.cache.lookup(key)
        if entry is not None and fresh:
            return _json_of(entry)
        return self.cache.inflight.run(key, lambda: self._fetch(path, params, key, entry), self.deadline)

    def _fetch(self, path: str, params: dict[str, object] | None, key: str | None, entry: CachedResponse | None):
        resource = _resource_of(path)
        if not self._reserve(resource):
            # Out of date, or passed over by a refresh, but better than nothing.
            stored = entry if entry is not None or self.cache is None else self.cache.store.load(key)
            if stored is not None:
                return _json_of(stored)
            window = self.budget.window(resource)
            if window is None:  # the window reset since the denial: ask again
                return self._fetch(path, params, key, entry)
            raise BudgetExhausted(exhausted_reason(window, "authorization" in self.client.headers))
        response = self._send(path, params, entry.validators() if entry else {})
        if response.status_code == 304 and entry is not None:
            self.budget.give_back(resource)  # GitHub does not count a 304; its headers say if it did
            self._observe(path, response)
            self.cache.store.save(key, entry.revalidated())
            return _json_of(entry)
        self._observe(path, response)
        _raise_for_status(response)
        if self.cache is not None and response.status_code in (200, 404):
            self.cache.store.save(
                key, CachedResponse.of(str(response.url), response.status_code, response.headers, response.content)
            )
        if response.status_code == 404:
            return None
        try:
            return response.json()
        except ValueError as e:
            raise ServiceUnavailable("GitHub sent a reply that is not valid JSON.") from e

    def _reserve(self, resource: str) -> bool:
        """Take one request from the budget; with no current window, read GitHub's (free) /rate_limit first."""
        verdict = self.budget.take(resource)
        if verdict is Verdict.UNKNOWN and not self.unlimited:
            # One probe at a time in this process (the others then find the window), waited for
            # no longer than this search may run: another search's probe has its own deadline.
            if not _PROBE_LOCK.acquire(timeout=max(0.0, self.deadline - time.monotonic())):
                raise NetworkError("The GitHub search ran out of time waiting for GitHub's rate limits.")
            try:
                verdict = self.budget.take(resource)
                if verdict is Verdict.UNKNOWN:
                    self._probe()
                    verdict = self.budget.take(resource)
            finally:
                _PROBE_LOCK.release()
        return verdict is not Verdict.DENIED  # still unknown: this GitHub reports no limits

    def _probe(self) -> None:
        response = self._send("/rate_limit", None, {})
        try:
            resources = response.json().get("resources", {}) if response.status_code == 200 else {}
        except (ValueError, AttributeError):
            resources = {}
        windows = [w for w in (_window(name, resources.get(name)) for name in (CORE, SEARCH)) if w is not None]
        for window in windows:
            self.budget.observe(window)
        self.unlimited = not windows  # ask once per search, not before every request

    def _send(self, path: str, params: dict[str, object] | None, headers: dict[str, str]) -> httpx.Response:
        time_left = self.deadline - time.monotonic()
        if time_left <= 0:
            raise NetworkError("The GitHub search ran out of time before it finished.")
        try:
            return self.client.get(path, params=params, headers=headers, timeout=min(REQUEST_TIMEOUT_S, time_left))
        except httpx.TimeoutException as e:
            raise NetworkError("GitHub did not answer in time.") from e
        except httpx.TransportError as e:
            raise NetworkError(f"GitHub could not be reached ({type(e).__name__}).") from e

    def _observe(self, path: str, response: httpx.Response) -> None:
        """Fold the reply's X-RateLimit-* headers into the shared budget."""
        resource = response.headers.get("x-ratelimit-resource") or _resource_of(path)
        window = _window(
            resource,
            {
                "limit": _int_header(response, "x-ratelimit-limit"),
                "remaining": _int_header(response, "x-ratelimit-remaining"),
                "reset": _int_header(response, "x-ratelimit-reset"),
            },
        )
        if window is not None:
            self.budget.observe(window)


_PROBE_LOCK = threading.Lock()


def _window(resource: str, numbers: object) -> Window | None:
    """A window from GitHub's numbers (`limit`, `remaining`, `reset`), None when any is missing."""
    if not isinstance(numbers, dict):
        return None
    limit, remaining, reset = (numbers.get(k) for k in ("limit", "remaining", "reset"))
    if not all(isinstance(n, int) for n in (limit, remaining, reset)):
        return None
    return Window(resource, limit, remaining, reset)


def _json_of(entry: CachedResponse) -> object | None:
    return None if entry.status == 404 else json.loads(entry.body)


def _resource_of(path: str) -> str:
    """The rate-limit bucket GitHub counts a path against."""
    return SEARCH if path.startswith("/search/") else CORE


def _raise_for_status(response: httpx.Response) -> None:
    """Turn GitHub's error replies into the pipeline's errors; 2xx and 404 pass.

    Waits are passed on uncapped: how long a wait is honoured is the worker's decision.
    """
    status = response.status_code
    if status < 400 or status == 404:
        return
    if status == 401:
        raise PermanentError("The GitHub token was rejected; check that it is valid and not expired.")
    if status in (403, 429):
        if response.headers.get("x-ratelimit-remaining") == "0":
            reset_at = _int_header(response, "x-ratelimit-reset")  # epoch seconds, GitHub's clock
            wait = max(reset_at - time.time(), 0.0) if reset_at is not None else UNKNOWN_RATE_LIMIT_WAIT_S
            raise ServiceUnavailable(
                "GitHub's rate limit is exhausted; the search can run again once it resets.", retry_after=wait
            )
        retry_after = retry_after_s(response.headers)
        if retry_after is not None:
            raise ServiceUnavailable("GitHub asked us to slow down (secondary rate limit).", retry_after=retry_after)
        if status == 429 or "rate limit" in response.text.lower():
            raise ServiceUnavailable("GitHub is rate limiting requests.", retry_after=UNKNOWN_RATE_LIMIT_WAIT_S)
        raise PermanentError("GitHub refused the request (HTTP 403); the token may lack access.")
    if status >= 500:
        raise ServiceUnavailable(
            f"GitHub is having trouble (HTTP {status}).", retry_after=retry_after_s(response.headers)
        )
    if status == 422:  # a search query GitHub cannot parse finds nothing
        return
    raise PermanentError(f"GitHub rejected the request (HTTP {status}).")


def _int_header(response: httpx.Response, name: str) -> int | None:
    try:
        return int(float(response.headers[name]))
    except (KeyError, ValueError, OverflowError):
        return None


# --- finding the organisation ----------------------------------------------------------------

_MATCH, _PLAUSIBLE, _REJECT = "match", "plausible", "reject"


def _find_organisation(api: _GitHubApi, company_name: str, domain: str | None) -> dict | None:
    """The organisation that is the company, or None; see the module docstring for the rules."""
    fallback: dict | None = None
    tried: set[str] = set()

    def consider(login: str, whole_name_slug: bool) -> dict | None:
        """Look `login` up; return it when it is surely the company, keep it when it may be."""
        nonlocal fallback
        tried.add(login.lower())
        org = api.get(f"/orgs/{login}")
        if not isinstance(org, dict) or not org.get("login"):
            return None
        verdict = _judge(org, company_name, domain, whole_name_slug)
        if verdict == _MATCH or (verdict == _PLAUSIBLE and domain is None):
            return org
        if verdict == _PLAUSIBLE and fallback is None:
            fallback = org
        return None

    whole, partial = _slug_candidates(company_name, domain)
    for login in whole + partial:
        if login.lower() in tried:
            continue
        if tried and not api.can_afford("/orgs/"):
            return fallback
        if found := consider(login, whole_name_slug=login in whole):
            return found

    if fallback is not None and domain is None:
        return fallback
    if not api.can_afford("/search/users"):
        return fallback
    results = api.get("/search/users", {"q": f"{company_name} type:org", "per_page": MAX_SEARCH_CANDIDATES})
    items = results.get("items", []) if isinstance(results, dict) else []
    for item in items[:MAX_SEARCH_CANDIDATES]:
        login = item.get("login") if isinstance(item, dict) else None
        if not login or login.lower() in tried or item.get("type", "Organization") != "Organization":
            continue
        if not api.can_afford("/orgs/"):
            break
        if found := consider(login, whole_name_slug=False):
            return found
    return fallback


def _judge(org: dict, company_name: str, domain: str | None, whole_name_slug: bool) -> str:
    """Is this organisation the company: its blog decides when both sides have a site, else its names."""
    blog_host = _host_of(_homepage(org.get("blog")))
    if domain and blog_host:
        return _MATCH if _same_site(blog_host, domain) else _REJECT
    if whole_name_slug or _words(org.get("name") or "") == _words(company_name):
        return _PLAUSIBLE
    return _REJECT


def _slug_candidates(company_name: str, domain: str | None) -> tuple[list[str], list[str]]:
    """Logins to try: those spelling the whole name, then partial guesses (first word, site name)."""
    words = _words(company_name)
    whole = [w for w in dict.fromkeys(["-".join(words), "".join(words)]) if w]
    partial = [words[0]] if len(words) > 1 else []
    if domain:
        partial.append(domain.split(".")[0])
    valid = lambda s: re.fullmatch(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", s) and len(s) <= MAX_LOGIN_CHARS
    whole = [s for s in whole if valid(s)]
    return whole, [s for s in dict.fromkeys(partial) if valid(s) and s not in whole]


def _words(name: str) -> list[str]:
    """The name's words in lower-case ASCII, legal suffixes ("Inc.", "GmbH") dropped."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", ascii_name)
    while len(words) > 1 and words[-1] in _LEGAL_SUFFIXES:
        words.pop()
    return words


def _clean_host(domain: str | None) -> str | None:
    """A bare host: lower-case, no scheme, port, path or leading www."""
    if not domain or not domain.strip():
        return None
    host = _host_of(domain.strip() if "://" in domain else f"https://{domain.strip()}")
    return host or None


def _host_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return None
    return host.removeprefix("www.") or None


def _same_site(a: str, b: str) -> bool:
    """Same host, or one a subdomain of the other (blog.acme.com and acme.com)."""
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def _homepage(blog: object) -> str | None:
    """The org's `blog` as an https:// URL when it lacks a scheme; None when it is not a web address."""
    if not isinstance(blog, str) or not blog.strip():
        return None
    url = blog.strip()
    if "://" not in url:
        url = f"https://{url.lstrip('/')}"
    try:
        parts = urlsplit(url)
        return url if parts.scheme in ("http", "https") and parts.hostname else None
    except ValueError:  # e.g. a malformed IPv6 literal
        return None


# --- reading the repositories ----------------------------------------------------------------


def _stars(repo: dict) -> int:
    stars = repo.get("stargazers_count")
    return stars if isinstance(stars, int) else 0


def _repository(repo: dict) -> Repository:
    return Repository(
        name=str(repo.get("name", "")),
        url=str(repo.get("html_url", "")),
        description=repo.get("description") or "",
        language=repo.get("language") or None,
        stars=_stars(repo),
        topics=[t for t in repo.get("topics") or [] if isinstance(t, str)],
    )


def _tech_stack(repos: list[dict]) -> list[str]:
    """Languages by stars, then notable topics by stars, deduplicated; each repo weighs stars + 1.

    Counts every live repository, not only the ones shown, so a stack used by many small
    repositories still appears; stars make the popular ones dominate.
    """
    languages: dict[str, int] = defaultdict(int)
    topics: dict[str, int] = defaultdict(int)
    for repo in repos:
        weight = _stars(repo) + 1
        if isinstance(repo.get("language"), str) and repo["language"]:
            languages[repo["language"]] += weight
        for topic in repo.get("topics") or []:
            if isinstance(topic, str) and topic and not is_noise_topic(topic):
                topics[topic.lower()] += weight

    stack: list[str] = []
    seen: set[str] = set()
    for weights in (languages, topics):
        for term, _ in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0].lower())):
            key = _TOPIC_ALIASES.get(term.lower(), term.lower())
            if key not in seen:
                seen.add(key)
                stack.append(term)
    return stack[:MAX_TECH_STACK]
