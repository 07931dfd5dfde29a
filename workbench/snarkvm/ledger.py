"""An offline stand-in for the two ledger endpoints `Trace.prepare` queries.

Proving an execution needs the latest block height and a (non-zero) global state root.
Offline there is no node, so a tiny HTTP server answers those two GETs. It must run in a
separate process: aleo-sdk holds the GIL during `prepare`, so a server thread in the
same process could never answer (a deadlock).

Run as `python -m workbench.snarkvm.ledger`: it binds 127.0.0.1 on a free port and
prints the port on its first line of stdout.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from workbench.errors import ZkError

BLOCK_HEIGHT = b"1"
# bech32m("sr", the field element 1 as 32 little-endian bytes): the smallest non-zero state
# root. snarkVM only requires a well-formed, non-zero root for a local proof; verifying the
# execution does not consult the ledger.
STATE_ROOT = b'"sr1qyqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqquwxeur"'


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.endswith("/block/height/latest"):
            body = BLOCK_HEIGHT
        elif self.path.endswith("/stateRoot/latest"):
            body = STATE_ROOT
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


def serve() -> None:
    """Serve until stdin closes (the parent died or closed it)."""
    # Ctrl-C reaches the whole process group: the parent handles it and closes stdin;
    # this helper must neither die first nor print a traceback over the parent's message.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()  # returns at EOF: the parent is gone
    server.shutdown()


class LedgerStub:
    """Context manager running the stub in a child process; `.url` is its base URL."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> "LedgerStub":
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "workbench.snarkvm.ledger"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        port = self._proc.stdout.readline().strip()
        if not port.isdigit():
            self.__exit__(None, None, None)
            raise ZkError("the offline ledger helper (python -m workbench.snarkvm.ledger) did not start")
        self.url = f"http://127.0.0.1:{port}"
        return self

    def alive(self) -> bool:
        """Whether the helper process is still running."""
        return self._proc is not None and self._proc.poll() is None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._proc is not None:
            if self._proc.stdin:
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            if self._proc.stdout:
                self._proc.stdout.close()
            self._proc = None


if __name__ == "__main__":
    serve()
