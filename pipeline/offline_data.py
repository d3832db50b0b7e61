"""The fixed word lists and practice questions of the offline analyzer (`pipeline.offline`).

Data only: editing a list here changes what the offline briefing can notice or ask, never how.
"""

from __future__ import annotations

# A small fixed vocabulary: (name shown, pattern). Patterns are case-insensitive unless they
# start with "(?-i)"; words that are also common English (Go, Rust, Swift, React) need their
# capitalised or unambiguous form.
TECH_VOCABULARY: tuple[tuple[str, str], ...] = (
    ("Python", r"\bpython\b"),
    ("JavaScript", r"\bjavascript\b"),
    ("TypeScript", r"\btypescript\b"),
    ("Java", r"\bjava\b(?!\s*script)"),
    ("Kotlin", r"\bkotlin\b"),
    ("Scala", r"\bscala\b"),
    ("Go", r"\bgolang\b|(?-i:\bGo (?:services|backend|microservices|code)\b)"),
    ("Rust", r"(?-i:\bRust\b)"),
    ("Ruby", r"\bruby\b"),
    ("Ruby on Rails", r"\bruby on rails\b|(?-i:\bRails\b)"),
    ("PHP", r"\bphp\b"),
    ("C++", r"\bc\+\+"),
    ("C#", r"\bc#"),
    (".NET", r"(?-i:(?<![\w.])\.NET\b|\bASP\.NET\b)"),
    ("Swift", r"(?-i:\bSwift\b)"),
    ("Elixir", r"\belixir\b"),
    ("Node.js", r"\bnode\.?js\b"),
    ("React", r"(?-i:\bReact\b)"),
    ("Vue.js", r"\bvue(?:\.js)?\b"),
    ("Angular", r"(?-i:\bAngular\b)"),
    ("Next.js", r"\bnext\.js\b"),
    ("Django", r"\bdjango\b"),
    ("Flask", r"(?-i:\bFlask\b)"),
    ("FastAPI", r"\bfastapi\b"),
    ("Spring", r"\bspring boot\b"),
    ("GraphQL", r"\bgraphql\b"),
    ("gRPC", r"\bgrpc\b"),
    ("PostgreSQL", r"\bpostgres(?:ql)?\b"),
    ("MySQL", r"\bmysql\b"),
    ("MongoDB", r"\bmongodb\b"),
    ("Redis", r"\bredis\b"),
    ("Elasticsearch", r"\belasticsearch\b"),
    ("Kafka", r"\bkafka\b"),
    ("Spark", r"\bapache spark\b|\bpyspark\b"),
    ("Snowflake", r"(?-i:\bSnowflake\b)"),
    ("Kubernetes", r"\bkubernetes\b|\bk8s\b"),
    ("Docker", r"\bdocker\b"),
    ("Terraform", r"\bterraform\b"),
    ("AWS", r"\baws\b|\bamazon web services\b"),
    ("Google Cloud", r"\bgoogle cloud\b|\bgcp\b"),
    ("Azure", r"(?-i:\bAzure\b)"),
    ("Linux", r"\blinux\b"),
    ("TensorFlow", r"\btensorflow\b"),
    ("PyTorch", r"\bpytorch\b"),
    ("WebAssembly", r"\bwebassembly\b|\bwasm\b"),
)

# A sentence says a technology is in use only with one of these cues ("written in Python", "runs on
# Kubernetes", "hiring engineers who know Rust"); a name in a list of partners has none.
USE_CUES = (
    r"\b(?:use[sd]?|using|built (?:with|on|in)|written in|runs? on|running on|powered by|(?:tech )?stack|"
    r"deploy(?:s|ed|ing)?|migrat\w*|moved|based on|on top of|in production|keeps? (?:its|our) \w+ in|"
    r"stores? (?:its|our)? ?\w+ in|(?:we|our \w+) (?:write|code|develop|program|ship)|experience (?:with|in)|"
    r"who knows?|knowledge of|engineers? (?:in|with)|services in|codebase|written with)\b"
)
# A sentence names an offering: "The Acme Sorter moves …", "Acme makes fleets of …", "our product, X".
_NAME = r"(?P<name>[A-Z][\w-]*(?:\s+(?:[A-Z0-9][\w-]*)){0,3})"
OFFERING_PATTERNS: tuple[str, ...] = (
    r"\b(?:The|Our|the|our)\s+" + _NAME + r"\s+(?:is|are|moves|helps|lets|gives|sorts|runs|turns|connects|"
    r"keeps|brings|can|makes|tracks|automates|handles|delivers)\b",
    r"\b(?:we|We|[A-Z][\w-]*(?:\s[A-Z][\w-]*)?)\s+(?:make|makes|build|builds|sell|sells|offer|offers|provide|"
    r"provides)\s+(?P<name>[^.;:!?]{6,120})",
    r"\b(?:[Oo]ur (?:product|platform|service|app)s?,?|[Ii]ntroducing)\s+" + _NAME,
)

# What a call to action, a banner or a thank-you starts with, or says anywhere: never a product
# nor a statement about the company.
CALLS_TO_ACTION = (
    r"^(?:read|learn|find out|discover|explore|see|view|watch|sign|log|get started|start|try|book|request|"
    r"contact|talk to|join|subscribe|download|register|apply|follow|share|click|accept|manage|thank|"
    r"mehr erfahren|jetzt)\b|\b(?:read more|learn more|sign up|thank you|cookies?|privacy policy|"
    r"all rights reserved|newsletter|subscribe)\b"
)

# Headings that name a section of a site, not something the company makes.
GENERIC_HEADINGS = frozenset(
    {
        "about", "about us", "blog", "careers", "contact", "contact us", "company", "customers",
        "docs", "documentation", "faq", "features", "follow us", "footer", "get started", "home",
        "jobs", "join us", "legal", "log in", "login", "menu", "navigation", "news", "newsletter",
        "our team", "pricing", "privacy", "privacy policy", "products", "resources", "search",
        "sign in", "sign up", "solutions", "subscribe", "support", "team", "terms",
        "testimonials", "why us", "cookies", "cookie settings",
    }
)  # fmt: skip
GENERIC_PREFIXES = ("our ", "why ", "meet ", "join ", "how we ", "what we ", "life at ", "working at ")

# Role families: (words in the role, practice questions for that kind of job).
ROLE_QUESTIONS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (
        ("data", "analyst", "scientist", "machine learning", "ml", "ai"),
        (
            "How would you check that a dataset is trustworthy before using it for a decision?",
            "Describe a model or analysis you shipped: how did you measure whether it worked?",
        ),
    ),
    (
        ("engineer", "developer", "programmer", "sre", "devops", "architect", "software"),
        (
            "How would you design, test and release a new feature end to end, and what would you monitor after launch?",
            "Tell me about a production incident you helped resolve: what did you change afterwards?",
        ),
    ),
    (
        ("product manager", "product owner", "pm"),
        (
            "How do you decide what goes into the next release when everything seems urgent?",
            "Describe a product decision you made with incomplete data and how it turned out.",
        ),
    ),
    (
        ("design", "ux", "ui"),
        (
            "Walk us through a design you changed after user research: what did you learn?",
            "How do you work with engineers when a design turns out to be expensive to build?",
        ),
    ),
    (
        ("sales", "account", "customer success", "business development", "marketing"),
        (
            "How would you explain the value of this company's product to a sceptical customer?",
            "Tell me about a deal or customer relationship you turned around.",
        ),
    ),
    (
        ("manager", "lead", "head of", "director"),
        (
            "How do you help someone on your team who is struggling?",
            "Describe how you set priorities for a team and kept them when plans changed.",
        ),
    ),
)
GENERIC_QUESTIONS = (
    "Tell me about a time you had to learn something new quickly.",
    "Describe a disagreement with a colleague and how you resolved it.",
    "What is the piece of work you are proudest of, and what was your part in it?",
    "Where do you want to be in your career in a few years, and how does this role fit?",
)
