"""Verification in code: a factual claim is shown only when its quote occurs in the text the job
read from the source it names.

Quotes match after normalising Unicode (NFKC), case, whitespace, typographic quotes and dashes;
an ellipsis in a quote stands for a short omission, so the parts around it must occur in order,
each at least MIN_QUOTE_CHARS long and at most MAX_OMISSION_CHARS apart. A statement (overview,
challenge, culture, red flag, role-fit finding) needs a quote of at least MIN_STATEMENT_WORDS
words besides stopwords, so that a word found on any page cannot vouch for it; only a role-fit
finding may instead quote a GitHub line sharing a word with its requirement. A tech-stack item
must also be named in its quote, or be a language or topic of the organisation's repositories (a
small alias table covers common spellings), and is shown only as far as its quote names it; a
product must be named in its quote. A `discussion` source (what others say on Hacker News) backs
only a red flag (a thing to look into): a company fact, salary or role-fit finding whose only
quotes are from discussion is not verified. A salary is sourced only when its quote states both figures
as pay (a currency or a word such as "salary" or "earn"), with the period the quote names, if
any. Whatever fails goes to `not_verified` with the reason.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from pipeline.models import (
    Advice,
    AdviceItem,
    BriefingDraft,
    Citation,
    Claim,
    Evidence,
    GitHubData,
    Item,
    RoleFit,
    Salary,
    SalaryClaim,
    SalaryEstimate,
    Unverified,
    Verification,
)
from pipeline.sources import SourceText

MIN_QUOTE_CHARS = 4  # a shorter quote (or part of one around "...") proves nothing
MAX_OMISSION_CHARS = 200  # an omission ("...") spans at most this many normalised characters
MIN_STATEMENT_WORDS = 3  # the prompt asks for 5 to 25; fewer is a word or two found on any page
STATEMENTS = frozenset({"overview", "top_challenges", "culture_insights", "red_flags"})
THIRD_PARTY_SECTIONS = frozenset({"red_flags"})  # things to look into: what others say may back them
THIRD_PARTY = "The quote is from third-party discussion, not a fact about the company."

FACT_SECTIONS = {
    "overview": "Overview",
    "products": "Products",
    "tech_stack": "Tech stack",
    "top_challenges": "Top challenges",
    "culture_insights": "Culture insights",
    "red_flags": "Red flags",
}
ADVICE_SECTIONS = ("interview_questions", "preparation_tips", "key_talking_points", "smart_questions", "prep_checklist")

_TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'", "\u00b4": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
        "\u00ad": None, "\u200b": None, "\u200c": None, "\u200d": None, "\ufeff": None,
    }
)  # fmt: skip
_ELLIPSIS = re.compile(r"\s*(?:\.\.\.|\[\.\.\.\]|\(\.\.\.\))\s*")

# Spellings of one technology; the first is the name shown.
ALIASES: tuple[tuple[str, ...], ...] = (
    ("PostgreSQL", "Postgres", "psql"),
    ("Kubernetes", "k8s"),
    ("JavaScript", "JS", "ECMAScript"),
    ("TypeScript", "TS"),
    ("Go", "Golang"),
    ("Node.js", "Node", "NodeJS"),
    ("React", "React.js", "ReactJS"),
    ("Vue.js", "Vue", "VueJS"),
    ("Next.js", "NextJS"),
    ("C#", "csharp"),
    ("C++", "cpp"),
    (".NET", "dotnet"),
    ("AWS", "Amazon Web Services"),
    ("Google Cloud", "GCP", "Google Cloud Platform"),
    ("MongoDB", "Mongo"),
    ("Ruby on Rails", "Rails"),
    ("Elasticsearch", "Elastic Search"),
    ("Terraform", "HCL"),
    ("Python", "CPython"),
)
# Names that are also ordinary words: they count only as written with a capital letter.
_CASE_SENSITIVE = frozenset({"go", "rust", "swift", "react", "spring", "rails", "flask", "angular", "node", "ts"})
_ALIAS_OF = {name.casefold(): group for group in ALIASES for name in group}
_AMOUNT = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:[,.\u00a0\u202f ]\d{3})+|\d+(?:[.,]\d+)?)\s*(k|K|thousand|tsd\.?|Tsd\.?)?(?![\w])"
)
_CURRENCY = re.compile(
    r"US\$|CA\$|A\$|R\$|[€$£¥₹₩₽₺₪₱₫₴]|\b(?:kr|zł|Kč)(?!\w)|\bFr\.|"
    r"\b(?:EUR|USD|GBP|CHF|CAD|AUD|NZD|SEK|NOK|DKK|PLN|JPY|CNY|RMB|INR|CZK|HUF|BRL|MXN|ZAR|SGD|HKD|KRW|TRY|ILS)\b"
)
# Words that give a salary's period, in the languages of the pages we read (\b fails next to CJK).
_PERIODS = {
    "year": re.compile(
        r"\b(?:years?|yearly|annual|annually|annum|p\.\s?a\.|yr|j[aä]hr\w*|par an|l'an|année|año|anual|anno|"
        r"jaar|år\w*|rok)\b|/an\b|年",
        re.IGNORECASE,
    ),
    "month": re.compile(
        r"\b(?:months?|monthly|monat\w*|mois|mensu\w*|mes|mese|maand\w*|månad\w*|måned\w*)\b|月", re.IGNORECASE
    ),
    "hour": re.compile(r"\b(?:hours?|hourly|hr|stunde\w*|heure|hora|uur|timme)\b|/h\b|時間", re.IGNORECASE),
}
# Words that say a figure is pay, in the languages of the pages we read (\b fails next to CJK).
_PAY = re.compile(
    r"\b(?:salar(?:y|ies|io|ios|is|e)|pay|paid|pays|earns?|earning|compensation|wages?|gehalt|gehälter|lohn|"
    r"verdien\w*|salaire|rémunération|gagne\w*|sueldos?|ganan|retribuzione|stipendio|lønn|lön)\b|給|年収",
    re.IGNORECASE,
)
_STOPWORDS = frozenset({"the", "and", "for", "with", "our", "its", "their", "from", "that", "this", "your", "a", "an"})


def normalise(text: str) -> str:
    """Text as quotes are compared: NFKC, typographic quotes and dashes plain, case folded,
    whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHY).casefold()
    return " ".join(text.split())


def quote_occurs(quote: str, normalised_text: str) -> bool:
    """Whether the quote occurs in the (already normalised) text; '...' marks an omission."""
    parts = _parts(quote)
    if not _checkable(parts):
        return False
    if len(parts) == 1:
        return parts[0] in normalised_text
    omission = f".{{0,{MAX_OMISSION_CHARS}}}?"
    return re.search(omission.join(map(re.escape, parts)), normalised_text, re.DOTALL) is not None


def _parts(quote: str) -> list[str]:
    """The normalised pieces of a quote around its omission marks."""
    flat = normalise(quote).strip(" \"'")
    return [part for part in (piece.strip(" \"'") for piece in _ELLIPSIS.split(flat)) if part]


def _checkable(parts: list[str]) -> bool:
    """Whether a quote's pieces are long enough to prove anything."""
    return bool(parts) and all(len(part) >= MIN_QUOTE_CHARS for part in parts)


def spellings(term: str) -> tuple[str, ...]:
    """Every spelling of a technology the alias table knows, the term itself first."""
    group = _ALIAS_OF.get(term.strip().casefold())
    return group or (term.strip(),)


def canonical(term: str) -> str:
    """The shown name of a technology (PostgreSQL for postgres), or the term as given."""
    group = _ALIAS_OF.get(term.strip().casefold())
    return group[0] if group else term.strip()


def names(term: str, text: str, *, exact: bool = False) -> bool:
    """Whether `text` names the technology `term` (any alias) as a word of its own; unless `exact`,
    its core name is enough ("Python" for "Python 3.12")."""
    raw = unicodedata.normalize("NFKC", text)
    folded = raw.casefold()
    for spelling in [term.strip()] if exact else _core_names(term):
        for alias in spellings(spelling):
            sensitive = alias.casefold() in _CASE_SENSITIVE
            haystack, needle = (raw, alias) if sensitive else (folded, alias.casefold())
            if re.search(rf"(?<![\w.+#-]){re.escape(needle)}(?![\w+#]|\.\w)", haystack):
                return True
    return False


def _core_names(term: str) -> list[str]:
    """The term, without a parenthetical or a version number ("Python 3.12", "Kafka (events)")."""
    bare = re.sub(r"\s*\([^)]*\)", "", term).strip()
    versionless = re.sub(r"\s+v?\d+(?:\.\d+)*\+?$", "", bare).strip()
    return list(dict.fromkeys(name for name in (term.strip(), bare, versionless) if name))


@dataclass
class Verified:
    """The verified parts of a draft, ready to be cleaned and stored."""

    facts: dict[str, list[Item]] = field(default_factory=dict)
    advice: dict[str, list[AdviceItem]] = field(default_factory=dict)
    salary: Salary | None = None
    role_fit: list[RoleFit] = field(default_factory=list)
    not_verified: list[Unverified] = field(default_factory=list)
    claims: int = 0
    verified: int = 0

    @property
    def verification(self) -> Verification:
        """The totals: claims made, verified, dropped."""
        return Verification(claims=self.claims, verified=self.verified, dropped=self.claims - self.verified)


class Verifier:
    """Checks one draft's claims against the sources one job read."""

    def __init__(self, sources: list[SourceText], github: GitHubData) -> None:
        self.sources = {s.id: s for s in sources}
        self.texts = {s.id: normalise(s.text) for s in sources}
        self.posting_ids = {s.id for s in sources if s.source.kind == "posting"}
        self.discussion_ids = {s.id for s in sources if s.source.kind == "discussion"}
        self.repo_ids = {s.source.url: s.id for s in sources if s.source.kind == "repository"}
        self.github = github
        self.result = Verified()

    def run(self, draft: BriefingDraft) -> Verified:
        """Verify every factual item, the salary and the role fit; attach advice to what survived."""
        for name, title in FACT_SECTIONS.items():
            self.result.facts[name] = [
                item for claim in getattr(draft, name) if (item := self.claim(title, claim, kind=name)) is not None
            ]
        self.result.salary = self.salary(draft.salary, draft.salary_estimate)
        requirements = self.role_fit(draft)
        for name in ADVICE_SECTIONS:
            self.result.advice[name] = [self.advice(item, requirements) for item in getattr(draft, name)]
        return self.result

    # -- facts ----------------------------------------------------------------------------

    def claim(self, section: str, claim: Claim, *, kind: str) -> Item | None:
        """The verified item, or None with the claim recorded in not_verified."""
        self.result.claims += 1
        citations, reason = self.check_evidence(
            claim.evidence, statement=kind in STATEMENTS, third_party=kind in THIRD_PARTY_SECTIONS
        )
        shown = claim.text
        if kind == "tech_stack":
            # Shown as its quotes name it: "Kafka (and Spark)" quoted as "Kafka" is shown as Kafka.
            core = next((n for n in _core_names(claim.text) if any(self.names_in_quote(n, c) for c in citations)), None)
            named = [c for c in citations if self.names_in_quote(core, c)] if core else []
            shown = canonical(core or claim.text)
            if not named:
                from_org = self.from_organisation(claim.text)
                if from_org:
                    named = from_org
                elif citations:
                    reason = "The technology is not named in its quote."
            citations = named
        elif kind == "products" and citations:
            named = [c for c in citations if _shares_a_name(claim.text, c.quote)]
            if not named:
                reason = "The quote does not name this product."
            citations = named
        if not citations:
            self.drop(section, claim.text, reason, claim.evidence)
            return None
        self.result.verified += 1
        return Item(text=shown, citations=citations)

    def check_evidence(
        self, evidence: list[Evidence], *, statement: bool = False, topic: str = "", third_party: bool = False
    ) -> tuple[list[Citation], str]:
        """The citations whose quotes occur in their sources, and why the others failed; a
        statement's quotes must also hold MIN_STATEMENT_WORDS words, unless it is a GitHub line
        naming its `topic` (a role-fit finding may quote "Language: Go" for a requirement on Go).
        A quote from a discussion source counts only where `third_party` says what others say may."""
        if not evidence:
            return [], "No source or quote was given."
        citations, reasons = [], []
        for item in evidence:
            item = item.model_copy(update={"source": source_id(item.source)})
            if statement and _words(item.quote) < MIN_STATEMENT_WORDS and not self.repository_line(item, topic):
                reasons.append(f"The quote is too short to support a statement (under {MIN_STATEMENT_WORDS} words).")
            elif not self.quote_in(item.source, item.quote):
                reasons.append(self.why_not(item))
            elif item.source in self.discussion_ids and not third_party:
                reasons.append(THIRD_PARTY)  # a true quote, but of what others say
            else:
                citations.append(Citation(source=item.source, quote=" ".join(item.quote.split())))
        return citations, " ".join(dict.fromkeys(reasons))

    def repository_line(self, evidence: Evidence, topic: str) -> bool:
        """Whether the evidence quotes a GitHub source (short lines by nature) with a word of `topic`."""
        source = self.sources.get(evidence.source)
        return (
            source is not None
            and source.source.kind in ("repository", "organisation")
            and _shares_a_word(evidence.quote, topic)
        )

    def quote_in(self, source_id: str, quote: str) -> bool:
        """Whether `quote` occurs in the text read from `source_id`."""
        text = self.texts.get(source_id.strip())
        return text is not None and quote_occurs(quote, text)

    def names_in_quote(self, term: str, citation: Citation) -> bool:
        """Whether the quote names the technology exactly as `term`; a quote copied in capitals is
        read in the source's own spelling (so "GO" still needs "Go" there, in a line holding it)."""
        if names(term, citation.quote, exact=True):
            return True
        if any(ch.islower() for ch in citation.quote) or not normalise(citation.quote):
            return False
        lines = self.sources[citation.source].text.split("\n")
        return any(names(term, line, exact=True) and quote_occurs(citation.quote, normalise(line)) for line in lines)

    def why_not(self, evidence: Evidence) -> str:
        """A sentence saying why this evidence does not count."""
        sid = evidence.source.strip()
        if sid not in self.texts:
            return f"{sid or 'The source'} is not a source this job read."
        if not _checkable(_parts(evidence.quote)):
            return "The quote (or a part of it around '...') is too short to check."
        elsewhere = [other for other in self.texts if other != sid and self.quote_in(other, evidence.quote)]
        if elsewhere:
            return f"The quote is not in {sid} (it is in {elsewhere[0]})."
        return f"The quote is not in {sid}."

    def from_organisation(self, term: str) -> list[Citation]:
        """Citations of the repositories whose language or topics name `term`, if any."""
        citations = []
        for repo in self.github.repositories:
            sid = self.repo_ids.get(repo.url)
            if sid is None:
                continue
            if repo.language and canonical(repo.language).casefold() == canonical(term).casefold():
                citations.append(Citation(source=sid, quote=f"Language: {repo.language}"))
                continue
            topic = next((t for t in repo.topics if _same_tech(t, term)), None)
            if topic:
                citations.append(Citation(source=sid, quote=topic))
        return citations[:3]

    def drop(self, section: str, text: str, reason: str, evidence: list[Evidence]) -> None:
        """Record a claim that is not shown as fact."""
        self.result.not_verified.append(
            Unverified(section=section, text=text, reason=reason or "Not verified.", evidence=evidence)
        )

    # -- salary ---------------------------------------------------------------------------

    def salary(self, claim: SalaryClaim | None, estimate: SalaryEstimate | None) -> Salary | None:
        """A sourced salary when a verified quote states its figures; else the labelled estimate."""
        if claim is not None:
            self.result.claims += 1
            citations, reason = self.check_evidence(claim.evidence)
            stating = [c for c in citations if _states(c.quote, claim.min, claim.max)]
            periods = _periods(stating[0].quote) if stating else set()
            text = f"{claim.currency} {claim.min:,} – {claim.max:,} a {claim.period}"
            if stating and claim.min <= claim.max and (not periods or claim.period in periods):
                self.result.verified += 1
                return Salary(
                    min=claim.min,
                    max=claim.max,
                    currency=_currency_in(stating[0].quote),
                    period=claim.period if periods else None,
                    basis="source",
                    citations=stating,
                )
            if stating and periods and claim.period not in periods:
                why = f"The quote states the figures for another period ({', '.join(sorted(periods))})."
            else:
                why = "The quote does not state these figures as pay." if citations else reason
            self.drop("Salary", text, why, claim.evidence)
        if estimate is not None and estimate.min <= estimate.max:  # plausible bounds: pipeline.briefing
            assumptions = f"role: {estimate.role}; seniority: {estimate.seniority}; location: {estimate.location}"
            return Salary(
                min=estimate.min,
                max=estimate.max,
                currency=estimate.currency.strip() or None,
                basis="estimate",
                assumptions=assumptions,
            )
        return None

    # -- role fit -------------------------------------------------------------------------

    def role_fit(self, draft: BriefingDraft) -> dict[int, str]:
        """The posting's requirements that are quoted from it; returns number → requirement text."""
        kept: dict[int, str] = {}
        for number, fit in enumerate(draft.role_fit, 1):
            self.result.claims += 1
            posting = next((sid for sid in self.posting_ids if self.quote_in(sid, fit.requirement)), None)
            if posting is None:
                reason = "No job posting was read." if not self.posting_ids else "The posting does not say this."
                self.drop("Role fit", fit.requirement, reason, [])
                continue
            self.result.verified += 1
            citations: list[Citation] = []
            finding = ""
            if fit.evidence:
                self.result.claims += 1
                company = [e for e in fit.evidence if source_id(e.source) not in self.posting_ids]
                citations, reason = self.check_evidence(company, statement=True, topic=fit.requirement)
                if citations:
                    self.result.verified += 1
                    finding = fit.finding
                else:
                    self.drop("Role fit", fit.finding or fit.requirement, reason, fit.evidence)
            self.result.role_fit.append(
                RoleFit(
                    requirement=fit.requirement,
                    requirement_citation=Citation(source=posting, quote=fit.requirement),
                    finding=finding,
                    citations=citations,
                    practice_question=fit.practice_question,
                )
            )
            kept[number] = fit.requirement
        return kept

    def advice(self, item: Advice, requirements: dict[int, str]) -> AdviceItem:
        """The advice item with only real source ids and the requirement it prepares for."""
        sources = [source_id(sid) for sid in item.sources if source_id(sid) in self.sources]
        return AdviceItem(
            text=item.text,
            sources=list(dict.fromkeys(sources)),
            prepares_for=requirements.get(item.requirement) if item.requirement else None,
        )


def source_id(raw: str) -> str:
    """A source id as written by a model ("S2", "s2", "Source S2", "[S2]") in its canonical form."""
    found = re.search(r"\bS(\d+)\b", raw.strip(), re.IGNORECASE)
    return f"S{found.group(1)}" if found else raw.strip()


def verify_draft(draft: BriefingDraft, sources: list[SourceText], github: GitHubData) -> Verified:
    """Check every claim of `draft` against `sources`; see the module docstring."""
    return Verifier(sources, github).run(draft)


def _same_tech(topic: str, term: str) -> bool:
    """Whether a topic and a term are one technology ("postgres" and "PostgreSQL", "google-cloud"
    and "Google Cloud")."""
    wanted = canonical(term).casefold()
    return any(canonical(form).casefold() == wanted for form in (topic, topic.replace("-", " ")))


def _words(quote: str) -> int:
    """The words of a quote besides stopwords; in scripts written without spaces (Chinese,
    Japanese) two wide characters count as a word."""
    count = 0
    for word in re.findall(r"\w+", normalise(quote)):
        if word in _STOPWORDS:
            continue
        wide = sum(unicodedata.east_asian_width(ch) in "WF" for ch in word)
        count += max(1, wide // 2)
    return count


def _shares_a_word(quote: str, topic: str) -> bool:
    """Whether the quote holds a word of the topic besides stopwords."""
    words = set(re.findall(r"\w+", normalise(topic))) - _STOPWORDS
    return any(word in words for word in re.findall(r"\w+", normalise(quote)))


def _shares_a_name(product: str, quote: str) -> bool:
    """Whether the quote contains every significant word of the product's name (the part before
    any description): "Acme Hyperdrive" is not named by a quote that only says "Acme"."""
    name = re.split(r"\s[—–-]\s|:|\(", product, maxsplit=1)[0]
    words = [w for w in re.findall(r"\w+", normalise(name)) if len(w) >= 3 and w not in _STOPWORDS]
    quoted = set(re.findall(r"\w+", normalise(quote)))
    return bool(words) and all(word in quoted for word in words)


def amounts(text: str) -> set[int]:
    """The money-like figures in a text, in whole units ("€85k" → 85000, "120.000" → 120000)."""
    found: set[int] = set()
    for number, unit in _AMOUNT.findall(" ".join(unicodedata.normalize("NFKC", text).split())):
        digits = re.sub(r"[,.\u00a0\u202f ](?=\d{3}\b)", "", number)
        try:
            value = float(digits.replace(",", "."))
        except ValueError:
            continue
        if unit:
            value *= 1000
        found.add(round(value))
    return found


def _states(quote: str, low: int, high: int) -> bool:
    """Whether the quote states both figures of the range as money or pay ("2,000 parcels an
    hour" states no salary)."""
    figures = amounts(quote)
    text = unicodedata.normalize("NFKC", quote)
    is_pay = bool(_CURRENCY.search(text) or _PAY.search(text))
    return is_pay and low in figures and high in figures


def _periods(quote: str) -> set[str]:
    """The salary periods a quote names ("a year", "im Jahr", "par mois", "/h"); empty when none."""
    text = unicodedata.normalize("NFKC", quote)
    return {period for period, pattern in _PERIODS.items() if pattern.search(text)}


def _currency_in(quote: str) -> str | None:
    """The currency as the quote writes it (€, CHF, US$ …), or None when it names none."""
    found = _CURRENCY.search(unicodedata.normalize("NFKC", quote))
    return found.group() if found else None
