"""Numbered sources: every page, GitHub organisation summary, repository and job posting a job
read, then the keyless sources beside them (job board, blog posts, Wikipedia, discussion), each
with a stable id (S1, S2, …) and the exact text that citations are checked against."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from pipeline.models import ExtraSources, GitHubData, OpenRoles, Page, Repository, ScrapedSite, Source

POSTING_TITLE = "The job posting"
DISCUSSION_LABEL = "Third-party discussion on Hacker News, not a statement by the company"
# The order in which a page lists the kinds of source, and the heading of each group.
KIND_GROUPS = {
    "page": "Company site",
    "posting": "Job posting",
    "job-board": "Job board",
    "blog": "Blog",
    "organisation": "GitHub",
    "repository": "GitHub",
    "wikipedia": "Wikipedia",
    "discussion": "Discussion (third-party)",
}


@dataclass(frozen=True)
class SourceText:
    """A source, the text the job read from it (what quotes are checked against), and what of it
    the model is shown, most useful first (`prompt`; the whole text when empty)."""

    source: Source
    text: str
    prompt: str = ""

    @property
    def shown(self) -> str:
        """What the model and the offline analyzer read of this source."""
        return self.prompt or self.text

    @property
    def id(self) -> str:
        """The source's id, e.g. S3."""
        return self.source.id


def collect_sources(site: ScrapedSite, github: GitHubData, posting: Page | None = None) -> list[SourceText]:
    """Every source in a fixed order: pages, the posting, the GitHub organisation, its repositories."""
    found: list[tuple[Source, str, str]] = []

    def add(kind: str, url: str | None, title: str, text: str, prompt: str = "") -> None:
        found.append((Source(id=f"S{len(found) + 1}", kind=kind, url=url or None, title=title), text, prompt))

    for page in site.pages_or_summary():
        add("page", page.url, page.title or page.url, page_text(page), model_text(page))
    if posting is not None:
        add("posting", posting.url or None, posting.title or POSTING_TITLE, page_text(posting), model_text(posting))
    if github.organization and (github.repositories or github.tech_stack):
        add(
            "organisation",
            f"https://github.com/{github.organization}",
            f"GitHub organisation {github.organization}",
            organisation_text(github),
        )
    for repo in github.repositories:
        add("repository", repo.url, f"{github.organization or 'GitHub'}/{repo.name}", repository_text(repo))
    if site.extra is not None:
        for kind, url, title, text in extra_sources(site.extra):
            add(kind, url, title, text)
    return [SourceText(source, text, prompt) for source, text, prompt in found]


def extra_sources(extra: ExtraSources) -> list[tuple[str, str, str, str]]:
    """The keyless sources as (kind, url, title, text), in a fixed order."""
    found = []
    if extra.open_roles is not None:
        roles = extra.open_roles
        title = f"Open roles on the {roles.service.title()} board {roles.token}"
        found.append(("job-board", roles.board_url, title, open_roles_text(roles)))
    if extra.blog is not None:
        blog = extra.blog
        listed = [" — ".join(part for part in (p.published, p.title, p.summary) if part) for p in blog.posts]
        found.append(("blog", blog.feed_url, f"Blog feed: {blog.title or blog.feed_url}", "\n".join(listed)))
        for post in blog.posts:
            if post.text:  # deep mode read the post's page
                found.append(("blog", post.url, post.title, "\n".join([post.title, post.published, post.text])))
    if extra.identity is not None and extra.identity.summary:
        who = extra.identity
        text = "\n".join(part for part in (who.title, who.description, who.summary) if part)
        found.append(("wikipedia", who.wikipedia_url, f"Wikipedia: {who.title}", text))
    for story in extra.stories:
        text = "\n".join(
            [
                DISCUSSION_LABEL,
                story.title,
                f"{story.points} points, {story.comments} comments, {story.created_at[:10]}",
                *([f"Links to {story.link}"] if story.link else []),
            ]
        )
        found.append(("discussion", story.url, f"Hacker News: {story.title}", text))
    return found


def page_text(page: Page) -> str:
    """Everything the job read on a page: title, description, headings, main content, all visible
    text and structured data. Quotes are checked against it, so a true quote from a menu counts."""
    parts = [page.title, page.meta_description, *page.headings, page.main, page.content, page.data]
    return "\n".join(part for part in parts if part)


def model_text(page: Page) -> str:
    """What the model is shown of a page, most useful first: title, description, the headline when
    the main content lacks it, the main content (with none found: the headings and all visible
    text), then the structured data it does not already say. Menus, footers and banners stay out."""
    body = page.main or page.content
    seen = _flat(body)
    # Without main content, every heading: in visible text they are what separates its blocks.
    headline = [h for h in page.headings[: 1 if page.main else None] if page.main == "" or _flat(h) not in seen]
    data = [line for line in page.data.split("\n") if line and _flat(line) not in seen]
    return "\n".join(part for part in [page.title, page.meta_description, *headline, body, *data] if part)


def repository_text(repo: Repository) -> str:
    """What GitHub says about a repository: name, description, stars, language and topics."""
    lines = [f"Repository: {repo.name}", f"Description: {repo.description}", f"Stars: {repo.stars}"]
    if repo.language:
        lines.append(f"Language: {repo.language}")
    if repo.topics:
        lines.append(f"Topics: {', '.join(repo.topics)}")
    return "\n".join(lines)


def organisation_text(github: GitHubData) -> str:
    """The organisation summary: its login and the languages and topics of its repositories."""
    return "\n".join(
        [
            f"Organisation: {github.organization}",
            f"Languages and topics of its repositories: {', '.join(github.tech_stack) or 'none listed'}",
        ]
    )


def open_roles_text(roles: OpenRoles) -> str:
    """The open roles as a source: how many, by team and by location, then every title."""
    lines = [f"Open roles on the {roles.service.title()} job board: {len(roles.roles)}"]
    for label, values in (
        ("By team", [r.team for r in roles.roles]),
        ("By location", [r.location for r in roles.roles]),
    ):
        counts = Counter(v for v in values if v)
        if counts:
            lines.append(f"{label}: " + ", ".join(f"{name} ({n})" for name, n in counts.most_common(15)))
    for role in roles.roles:
        lines.append(" — ".join(part for part in (role.title, role.team, role.location) if part))
    return "\n".join(lines)


def _flat(text: str) -> str:
    return " ".join(text.casefold().split())
