"""``skvoice serve``: decisions over HTTP on this machine, the model loaded once.

Built on the standard library's ``http.server``: no dependency, one thread per
connection, one decision at a time (a lock around the model). What a request may
cost is bounded before any work: the body's size (``Content-Length``, read only
when within the limit), the audio's duration once decoded, and the time a
client may take to send it (the socket's timeout). Nothing can be uploaded but
audio to decide on; the server binds to 127.0.0.1 unless told otherwise.

Endpoints:

- ``POST /verify`` with the bytes of an audio file (WAV, FLAC, OGG, ...) as the
  body: 200 and the decision as ``skvoice verify --json`` gives it;
- ``GET /health``: 200 and ``{"status": "ok"}``.

Every refusal is a 4xx with ``{"error": "..."}``: 400 (no body, a body shorter
than announced), 404 (another path), 405 (another method), 411 (no
``Content-Length``), 413 (a body or audio over the limits), 415 (not audio
libsndfile reads), 422 (audio that cannot be decided on: too short, a rate below
the telephone band).
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["MIN_RATE", "make_server"]

#: The lowest sample rate accepted: below the telephone band speech is cut.
MIN_RATE = 8000


class _Refused(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def make_server(model, net, args, host="127.0.0.1", port=8000):
    """A ready HTTP server deciding with ``model`` (call ``serve_forever``).

    Parameters
    ----------
    model : Pipeline
        A loaded model (its first step holds the audio rate).
    net : estimator
        Its last step, checked to decide access.
    args : argparse.Namespace
        ``threshold``, ``passes``, ``max_bytes``, ``max_seconds``, ``timeout``
        and ``quiet``, as ``skvoice serve`` parses them.
    host, port : str, int
        Where to listen (port 0: any free one; ``server.server_address`` says).

    Returns
    -------
    server : ThreadingHTTPServer
    """
    from ._cli import _decide_files
    from .io import decode_audio, resample

    rate = int(model[0].sr)
    lock = threading.Lock()

    def decide(body):
        if not body:
            raise _Refused(400, "The body is empty: send the bytes of an audio file.")
        try:
            y, native = decode_audio(body, sr=None)
        except Exception as exc:  # AudioReadError and libsndfile's own
            raise _Refused(415, f"Not audio that libsndfile reads: {exc}") from None
        if native < MIN_RATE:
            raise _Refused(
                422,
                f"The audio is sampled at {native} Hz, below {MIN_RATE} Hz: speech needs "
                "at least the telephone band.",
            )
        seconds = len(y) / native
        if seconds > args.max_seconds:
            raise _Refused(
                413, f"The audio lasts {seconds:.1f} s; this server takes {args.max_seconds:g} s."
            )
        wave = resample(y, native, rate) if native != rate else y
        with lock:
            (row,) = _decide_files(model, net, ["request"], args, read=lambda f, sr: wave)
        if row["decision"] == "error":
            raise _Refused(422, row["error"])
        row.pop("file")
        return row

    class Handler(BaseHTTPRequestHandler):
        timeout = args.timeout  # a client slower than this to send is dropped
        server_version = "skvoice"

        def _reply(self, status, payload):
            body = json.dumps(payload, allow_nan=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if status >= 400:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/health":
                self._reply(200, {"status": "ok"})
            elif self.path == "/verify":
                self._reply(405, {"error": "POST an audio file to /verify."})
            else:
                self._reply(404, {"error": f"No {self.path!r} here: POST /verify, GET /health."})

        def do_POST(self):
            start = time.perf_counter()
            try:
                if self.path != "/verify":
                    raise _Refused(404, f"No {self.path!r} here: POST /verify, GET /health.")
                length = self.headers.get("Content-Length")
                if length is None:
                    raise _Refused(411, "Content-Length is needed.")
                try:
                    n = int(length)
                except ValueError:
                    raise _Refused(400, f"Content-Length {length!r} is not a number.") from None
                if n < 0:
                    raise _Refused(400, "Content-Length is negative.")
                if n > args.max_bytes:
                    # Not read: the connection is closed after the answer.
                    raise _Refused(
                        413, f"The body has {n} bytes; this server takes {args.max_bytes}."
                    )
                body = self.rfile.read(n)
                if len(body) < n:
                    raise _Refused(400, f"The body ended after {len(body)} of {n} bytes.")
                self._reply(200, decide(body))
            except _Refused as refusal:
                self._reply(refusal.status, {"error": str(refusal)})
            except TimeoutError:
                self.close_connection = True
            if not args.quiet:
                took = 1000 * (time.perf_counter() - start)
                print(f"{self.command} {self.path} {took:.0f} ms", file=sys.stderr)

        def _not_allowed(self):
            self._reply(405, {"error": f"{self.command} is not served: POST /verify."})

        do_PUT = do_DELETE = do_PATCH = _not_allowed

        def log_message(self, format, *params):  # one line per request, above
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
