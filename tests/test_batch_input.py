"""Reading a batch from a pasted list or a CSV: every bad line reported by number, nothing half-read."""

from __future__ import annotations

import pytest

from pipeline.batch_input import MAX_COMPANIES, BadBatch, parse_lines


def test_lines_with_optional_website_and_role():
    text = 'Acme Robotics, https://acme.com, Backend Engineer\n\n# a comment\n"Foo, Inc",,Data Engineer\nGlobex\n'

    requests = parse_lines(text)

    assert [(r.company_name, r.company_url, r.role) for r in requests] == [
        ("Acme Robotics", "https://acme.com/", "Backend Engineer"),
        ("Foo, Inc", None, "Data Engineer"),
        ("Globex", None, None),
    ]


def test_a_csv_header_names_the_columns_in_any_order():
    text = "\ufeffRole,Company,Website\nSRE,Acme,acme.com\n,Globex,\n"

    requests = parse_lines(text, deep_mode=True)

    assert [(r.company_name, r.company_url, r.role, r.deep_mode) for r in requests] == [
        ("Acme", "https://acme.com/", "SRE", True),
        ("Globex", None, None, True),
    ]


def test_every_bad_line_is_reported_by_its_number():
    text = (
        "companyName,companyUrl,role\nAcme,ftp://acme.com,SRE\n,https://nameless.com\nGood Co\n"
        "A,b.com,c,extra\nBad\u200bName\n"
    )

    with pytest.raises(BadBatch) as caught:
        parse_lines(text)

    assert [(error.line, error.field) for error in caught.value.errors] == [
        (2, "companyUrl"),
        (3, "companyName"),
        (5, None),
        (6, "companyName"),
    ]
    assert str(caught.value.errors[0]).startswith("Line 2: ")
    assert "more columns" in caught.value.errors[2].message


def test_an_unknown_header_column_is_refused():
    with pytest.raises(BadBatch, match="unknown column 'Salary'"):
        parse_lines("Company,Salary\nAcme,100\n")


def test_empty_and_oversized_batches_are_refused():
    with pytest.raises(BadBatch, match="no companies"):
        parse_lines("\n# nothing\n")
    at_the_limit = "\n".join(f"Company {n}" for n in range(MAX_COMPANIES))
    assert len(parse_lines(at_the_limit)) == MAX_COMPANIES  # exactly the limit is fine
    with pytest.raises(BadBatch, match=f"has {MAX_COMPANIES + 1} companies; at most {MAX_COMPANIES}"):
        parse_lines("\n".join(f"Company {n}" for n in range(MAX_COMPANIES + 1)))
