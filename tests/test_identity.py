"""Who the company is: a name resolved through Wikipedia and Wikidata instead of a guessed
address, the article whose official website is the given domain, and whole jobs that use it."""

from __future__ import annotations

from harness.fakes.server import Reply
from harness.fakes.wikipedia import ACME_SUMMARY
from pipeline.identity import identify_company, same_name
from tests.helpers import source_reader
from tests.test_api import _submit, _wait


def test_a_name_alone_picks_the_article_with_that_name_and_a_website(fake_sources, site_client):
    identity = identify_company("Clerk", None, reader=source_reader(site_client), apis=fake_sources.apis())

    # The occupation comes first in search but has no official website; the company has one.
    assert (identity.title, identity.website) == ("Clerk (company)", "https://clerk.example/")
    assert identity.wikipedia_url == "https://en.wikipedia.org/wiki/Clerk_(company)"
    assert identity.description == "American software company"
    assert identity.summary.startswith("Clerk is an American software company")
    # One search that describes its hits, then one Wikidata read for the candidates named "Clerk".
    assert [fake_sources.wikipedia.hits("/w/api.php"), fake_sources.wikidata.hits("/w/api.php")] == [1, 1]
    assert fake_sources.wikipedia.requests[-1].query["generator"] == ["search"]
    assert fake_sources.wikidata.requests[-1].query["ids"] == ["Q200|Q300"]


def test_a_disambiguation_page_is_never_the_company(fake_sources, site_client):
    fake_sources.wikidata.set_website("Q100", "https://www.acme.example/")  # the page "Acme (disambiguation)"

    assert identify_company("Acme", "acme.example", reader=source_reader(site_client), apis=fake_sources.apis()) is None
    assert fake_sources.wikidata.requests[-1].query["ids"] == ["Q4242"]


def test_no_article_is_one_request(fake_sources, site_client):
    assert identify_company("Initech", None, reader=source_reader(site_client), apis=fake_sources.apis()) is None
    assert [fake_sources.wikipedia.hits("/w/api.php"), fake_sources.wikidata.hits("/w/api.php")] == [1, 0]


def test_with_a_domain_only_the_article_whose_website_is_on_it_counts(fake_sources, site_client):
    apis = fake_sources.apis()
    fake_sources.wikidata.set_website("Q4242", "https://www.acme.example/")

    assert identify_company("Acme Robotics", "acme.example", reader=source_reader(site_client), apis=apis).title == (
        "Acme Robotics"
    )
    assert identify_company("Acme Robotics", "acme-bots.example", reader=source_reader(site_client), apis=apis) is None


def test_legal_forms_and_qualifiers_do_not_change_the_name():
    assert same_name("Stripe, Inc.", "stripe") and same_name("Clerk (company)", "Clerk")
    assert not same_name("Clerk", "Clerk Robotics") and not same_name("", "")


def test_a_name_alone_finds_the_site_through_wikidata_and_shows_who_was_picked(client, fake_site, fake_sources):
    submitted = _submit(client, {"companyName": "Acme Robotics", "role": "Backend Engineer"})

    status = _wait(client, submitted["jobId"])

    assert status["status"] == "completed", status["message"]
    results = status["briefing"]
    assert results["identifiedAs"]["title"] == "Acme Robotics"
    assert results["identifiedAs"]["website"] == fake_site.url + "/"
    kinds = {s["kind"]: s for s in results["sources"]}
    assert kinds["page"]["url"] == fake_site.url + "/"
    assert kinds["wikipedia"] == {
        "id": kinds["wikipedia"]["id"],
        "kind": "wikipedia",
        "url": "https://en.wikipedia.org/wiki/Acme_Robotics",
        "title": "Wikipedia: Acme Robotics",
    }
    steps = {step["id"]: step["status"] for step in status["steps"]}
    assert steps["identify-company"] == "succeeded"
    assert fake_sources.wikipedia.hits("/w/api.php") == 1 and fake_sources.wikidata.hits("/w/api.php") == 1


def test_wikipedia_down_is_named_and_the_job_goes_on(client, fake_site, fake_sources):
    for _ in range(2):  # both attempts of the step
        fake_sources.wikipedia.fail("/w/api.php", Reply(503, b"down"))

    status = _wait(client, _submit(client, {"companyName": "Acme Robotics", "companyUrl": fake_site.url})["jobId"])

    assert status["status"] == "completed", status["message"]
    assert "identifiedAs" in status["briefing"] and status["briefing"]["identifiedAs"] is None
    assert any(reason.startswith("Wikipedia could not be read:") for reason in status["briefing"]["unread"])
    assert ACME_SUMMARY not in str(status["briefing"]["sources"])
