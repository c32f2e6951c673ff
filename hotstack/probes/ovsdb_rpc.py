"""A minimal OVSDB JSON-RPC client (RFC 7047): one request, one answer, over TCP.

Enough for health checks (`echo`) and reading a few rows (`transact` with a `select`); the
host's bridges use the real ovs/ovsdbapp bindings instead.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

MAX_ANSWER = 4 * 1024 * 1024


class RpcError(Exception):
    """The server answered with an error."""


def call(host: str, port: int, method: str, params: list[Any], *, timeout: float) -> Any:
    """Send one request and return its `result`; answers to other ids (server echos) are skipped."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(json.dumps({"method": method, "params": params, "id": 1}).encode())
        for message in _messages(sock):
            if message.get("id") == 1:
                if message.get("error") is not None:
                    raise RpcError(str(message["error"]))
                return message.get("result")
    raise RpcError("connection closed without an answer")


def _messages(sock: socket.socket) -> Iterator[dict[str, Any]]:
    decoder, buf = json.JSONDecoder(), ""
    while len(buf) < MAX_ANSWER:
        chunk = sock.recv(65536)
        if not chunk:
            return
        buf += chunk.decode()
        while buf.strip():
            try:
                message, end = decoder.raw_decode(buf.lstrip())
            except json.JSONDecodeError:
                break  # incomplete: read more
            buf = buf.lstrip()[end:]
            if isinstance(message, dict):
                yield message


def select(host: str, port: int, database: str, table: str, columns: list[str], *,
           where: list[list[Any]] | None = None, timeout: float) -> list[dict[str, Any]]:
    """The rows of `table` (only `columns`) matching `where`."""
    op = {"op": "select", "table": table, "where": where or [], "columns": columns}
    result = call(host, port, "transact", [database, op], timeout=timeout)
    if not isinstance(result, list) or not result or "error" in result[0]:
        raise RpcError(f"select on {database}.{table} failed: {result!r}")
    rows: list[dict[str, Any]] = result[0].get("rows", [])
    return rows
