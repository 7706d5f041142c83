"""The CLI's requests to the project's APIs, with the API key, and what their errors mean (I/O)."""

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from tools.cli.exits import Exit, Failure


@dataclass(frozen=True, slots=True)
class Api:
    base: str  # http://127.0.0.1:8080
    key: str | None
    timeout_s: float = 30.0

    def call(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        """(status, JSON document) of one request. Raises: Failure: unreachable, or an
        answer that is not JSON; an HTTP error is returned, not raised."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base.rstrip("/") + path, data=data, method=method)
        if self.key:
            request.add_header("Authorization", f"Bearer {self.key}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                status, raw = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise Failure(Exit.UNAVAILABLE, f"{self.base}: {error}") from error
        try:
            return status, json.loads(raw) if raw else None
        except ValueError as error:
            raise Failure(Exit.UNAVAILABLE, f"{path}: the answer is not JSON") from error

    def get(self, path: str) -> Any:
        """The document of a GET that must succeed. Raises: Failure: with the exit code the
        HTTP status means."""
        status, document = self.call("GET", path)
        if status >= 400:
            raise failure(status, document)
        return document


def failure(status: int, document: Any) -> Failure:
    message = document.get("message") if isinstance(document, dict) else None
    text = f"{status}: {message or document}"
    if status == 401 or status == 403:
        return Failure(Exit.UNAUTHORIZED, text)
    if status == 404:
        return Failure(Exit.NOT_FOUND, text)
    if status in (400, 409, 422):
        return Failure(Exit.INVALID, text)
    return Failure(Exit.UNAVAILABLE, text)
