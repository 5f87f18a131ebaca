"""The gunicorn worker of ``headline-topics serve``: gunicorn's threaded worker, made to keep the
service's two promises where gunicorn itself answers, before or outside the Flask app.

- **Every answer is JSON.** gunicorn answers requests it cannot parse (a negative
  ``Content-Length``, a bad request line, headers too large) with a small HTML page of its own.
  In this worker's process that page is replaced by the service's one error shape
  (:func:`classifier.service.errors.error_body`) with ``Content-Type: application/json``.
- **A stalled client cannot hold a thread.** gunicorn's threads read a request's headers and
  body from a blocking socket with no time limit, so a client that declares a
  ``Content-Length`` and stops sending kept a thread until it went away (32 of them fill a
  worker). Here every read on a connection gives up after ``HEADLINE_TOPICS_READ_TIMEOUT_S``
  seconds without data: headers that stall get a 408 from the worker, a body that stalls gets
  a 408 from the app (:func:`classifier.service.validation.read_body`), and the connection is
  closed. The limit is per read, like a socket timeout: a slow client that keeps sending is
  served, one that stops is not waited for.
"""

from __future__ import annotations

import json
import logging

from gunicorn import util
from gunicorn.workers.gthread import TConn, ThreadWorker

from classifier.service.errors import code_for, error_body
from classifier.service.settings import Settings

logger = logging.getLogger(__name__)

INTERNAL_MESSAGE = "internal error; the details are in the log"


class RequestTimeout(Exception):
    """The request's headers stopped arriving for longer than the read timeout."""


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's ``util.write_error`` with the service's JSON error body instead of HTML."""
    message = mesg or (INTERNAL_MESSAGE if status_int >= 500 else reason)
    text = json.dumps(error_body(status_int, code_for(reason), message), separators=(",", ":"))
    body = text.encode("utf-8")
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


class _TimedParser:
    """gunicorn's request parser, turning a stalled header read into :class:`RequestTimeout`.

    Without this the stall reaches gunicorn as a bare socket error, which it logs with a
    traceback and answers with nothing.
    """

    def __init__(self, parser) -> None:
        self._parser = parser

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self._parser)
        except TimeoutError:
            raise RequestTimeout() from None

    def __getattr__(self, name: str):
        return getattr(self._parser, name)


class _TimedConn(TConn):
    """A connection whose socket reads give up after the worker's read timeout.

    gunicorn sets the socket blocking (no timeout) before each request on a connection and then
    calls ``init``, so ``init`` is where the timeout goes back on, every time.
    """

    read_timeout_s: float = 10.0

    def init(self) -> None:
        super().init()
        if not self.is_http2 and not isinstance(self.parser, _TimedParser | None):
            self.parser = _TimedParser(self.parser)
        self.sock.settimeout(self.read_timeout_s)


class JsonThreadWorker(ThreadWorker):
    """gunicorn's ``gthread`` worker with JSON error pages and a read timeout (see the module)."""

    def init_process(self) -> None:
        # this worker's process only (the master never answers requests); gunicorn's base
        # worker calls util.write_error for every error page it writes
        util.write_error = write_json_error
        _TimedConn.read_timeout_s = Settings.from_env().read_timeout_s
        super().init_process()

    def enqueue_req(self, conn) -> None:
        if type(conn) is TConn:  # made by gunicorn's accept(); same fields, timed reads
            conn.__class__ = _TimedConn
        super().enqueue_req(conn)

    def handle_error(self, req, client, addr, exc) -> None:
        if not isinstance(exc, RequestTimeout):
            super().handle_error(req, client, addr, exc)
            return
        self.log.info("request headers from %s stalled; answered 408", (addr or ("",))[0])
        try:
            seconds = _TimedConn.read_timeout_s
            write_json_error(
                client,
                408,
                "Request Timeout",
                f"the request stopped arriving: nothing was received for {seconds:g} s",
            )
        except OSError:
            self.log.debug("could not send the 408")
