"""The API's contract as tests check it: every response against the OpenAPI document's paths,
headers and schemas (`CONTRACT`, `checked`; the `client` fixture of tests/conftest.py uses it)."""

from __future__ import annotations

import re

import httpx
import jsonschema

from api.routes import openapi_document


class Contract:
    """Checks responses against the OpenAPI document's paths, headers and schemas."""

    def __init__(self, document: dict) -> None:
        self.document = document
        base = document["servers"][0]["url"]  # the paths are relative to where the API is mounted
        self.paths = [
            (re.compile("^" + re.escape(base) + re.sub(r"\{[^}/]+\}", "[^/]+", path) + "$"), path)
            for path in document["paths"]
        ]

    def operation(self, method: str, path: str) -> dict | None:
        for pattern, template in self.paths:
            if pattern.match(path):
                return self.document["paths"][template].get(method.lower())
        return None

    def validate(self, body: object, schema: dict) -> None:
        """Raise jsonschema.ValidationError unless `body` matches `schema` (refs into the document)."""
        root = {**schema, "components": self.document["components"]}
        jsonschema.Draft202012Validator(root, format_checker=jsonschema.FormatChecker()).validate(body)

    def check(self, response: httpx.Response) -> None:
        request = response.request
        if request.method == "HEAD":
            return
        media = response.headers.get("content-type", "").split(";")[0]
        operation = self.operation(request.method, request.url.path)
        if operation is None:  # the JSON 404/405 fallbacks: always the error shape
            schema = {"$ref": "#/components/schemas/ErrorResponse"}
            assert media == "application/json", f"{request.method} {request.url.path}: {media}"
        else:
            listed = operation["responses"]
            assert str(response.status_code) in listed, (
                f"{request.method} {request.url.path} answered {response.status_code}, not in {sorted(listed)}"
            )
            reply = listed[str(response.status_code)]
            assert media in reply["content"], f"{request.method} {request.url.path}: {media} not documented"
            for header, spec in reply.get("headers", {}).items():
                assert not spec.get("required") or header in response.headers, f"missing {header} header"
            schema = reply["content"][media]["schema"]
        if media == "application/json":
            self.validate(response.json(), schema)


CONTRACT = Contract(openapi_document(False))


def checked(response: httpx.Response) -> None:
    """An httpx response hook: read the response and check it against CONTRACT."""
    response.read()
    CONTRACT.check(response)
