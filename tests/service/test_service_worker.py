"""What gunicorn itself answers (``classifier.service.worker``), against a real gunicorn.

The server is ``headline-topics serve``'s gunicorn configuration with the fake encoder
(:mod:`tests.service.live_gunicorn`), started here; the requests are written on raw sockets, since
what is tested is what no well-behaved HTTP client sends: a body that stops before its declared
``Content-Length``, headers that stop half-way, a negative ``Content-Length``. The socket timeouts
below only keep a failing test from hanging; nothing is timed.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import ENCODER_CACHE_ENV, ROOT
from tests.service.live_gunicorn import THREADS
from tests.support import free_port, stop_server, wait_ready

READ_TIMEOUT_S = 1.0
GUARD_S = 30.0  # far above the read timeout: only there so a failure does not hang the run
BODY = json.dumps({"headline": "Senate passes new tariff bill"}).encode()


@pytest.fixture(scope="module")
def server(base_store, tmp_path_factory):
    log = tmp_path_factory.mktemp("worker-log") / "gunicorn.log"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HEADLINE_TOPICS_") or k == ENCODER_CACHE_ENV
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(HEADLINE_TOPICS_READ_TIMEOUT_S=str(READ_TIMEOUT_S), PYTHONPATH=str(ROOT))
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.service.live_gunicorn", str(port), str(base_store)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        try:
            wait_ready(port, process, timeout=120)
        except RuntimeError as exc:
            pytest.fail(f"gunicorn: {exc}:\n{log.read_text()}")
        yield port, log
    finally:
        stop_server(process)


def exchange(port: int, raw: bytes) -> tuple[http.client.HTTPResponse, bytes]:
    """Send ``raw`` as it is and read the one answer (the socket stays open for more)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=GUARD_S)
    try:
        sock.sendall(raw)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response, response.read()
    finally:
        sock.close()


def assert_json(response: http.client.HTTPResponse, body: bytes, status: int) -> dict:
    assert response.status == status, body
    assert response.getheader("Content-Type", "").startswith("application/json"), body
    data = json.loads(body)
    assert b"<html" not in body.lower()
    return data


def request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def predict_ok(port: int) -> None:
    raw = request(
        "POST",
        "/v1/predict",
        {"Content-Type": "application/json", "Content-Length": str(len(BODY))},
        BODY,
    )
    response, body = exchange(port, raw)
    assert_json(response, body, 200)


def stalled_body(port: int) -> tuple[int, dict, bytes]:
    """Declare the whole body, send half of it, wait: the server must answer and close."""
    headers = {"Content-Type": "application/json", "Content-Length": str(len(BODY))}
    sock = socket.create_connection(("127.0.0.1", port), timeout=GUARD_S)
    try:
        sock.sendall(request("POST", "/v1/predict", headers, BODY[: len(BODY) // 2]))
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read()
        rest = sock.recv(1024)  # b"": the server closed the connection
        return response.status, json.loads(body), rest
    finally:
        sock.close()


def test_a_stalled_body_gets_a_json_408_and_does_not_hold_the_worker(server):
    port, _ = server
    stalled = THREADS + 2  # more than the worker's threads: without a bound, it is full
    with ThreadPoolExecutor(stalled) as pool:
        answers = list(pool.map(lambda _: stalled_body(port), range(stalled)))
        predict_ok(port)  # served meanwhile or right after, never starved
    for status, data, rest in answers:
        assert status == 408
        assert data["error"]["code"] == "request_timeout"
        assert "stopped arriving" in data["error"]["message"]
        assert rest == b""
    predict_ok(port)


def test_stalled_headers_get_a_json_408(server):
    port, log = server
    sock = socket.create_connection(("127.0.0.1", port), timeout=GUARD_S)
    try:
        sock.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        response = http.client.HTTPResponse(sock)
        response.begin()
        data = assert_json(response, response.read(), 408)
    finally:
        sock.close()
    assert data["error"]["status"] == 408 and "stopped arriving" in data["error"]["message"]
    assert "Traceback" not in log.read_text()


def test_a_negative_content_length_gets_a_json_400(server):
    port, _ = server
    raw = request(
        "POST", "/v1/predict", {"Content-Type": "application/json", "Content-Length": "-5"}
    )
    response, body = exchange(port, raw)
    data = assert_json(response, body, 400)
    assert data["error"]["code"] == "bad_request"
    assert "CONTENT-LENGTH" in data["error"]["message"]


def test_a_bad_request_line_gets_json(server):
    port, _ = server
    response, body = exchange(port, b"GET /v1/model HTTP/9.9\r\nHost: x\r\n\r\n")
    data = assert_json(response, body, 400)
    assert set(data["error"]) == {"status", "code", "message"}


def test_options_gets_json_with_the_allowed_methods(server):
    port, _ = server
    response, body = exchange(port, request("OPTIONS", "/v1/predict", {}))
    data = assert_json(response, body, 200)
    allowed = {m.strip() for m in response.getheader("Allow").split(",")}
    assert allowed == set(data["allow"]) and {"POST", "OPTIONS"} <= allowed
    response, body = exchange(port, request("OPTIONS", "/nowhere", {}))
    assert assert_json(response, body, 404)["error"]["status"] == 404
