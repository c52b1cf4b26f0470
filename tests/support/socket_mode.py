"""A local fake of Slack's Socket Mode server: a WebSocket that says hello, sends the envelopes a
test gives it and keeps the acknowledgements the app sends back. Just enough of RFC 6455 for
slack_sdk's built-in client (text, ping/pong and close frames; one client at a time)."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import time
from typing import Any

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class FakeSocketMode:
    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self.server.getsockname()[1]}/link"
        self.acks: list[dict[str, Any]] = []
        self._outbox: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.connected = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def send(self, envelope: dict[str, Any]) -> None:
        with self._lock:
            self._outbox.append(envelope)

    def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = [a for a in self.acks if a.get("envelope_id") == envelope_id]
            if found:
                return found[0]
            time.sleep(0.02)
        raise AssertionError(f"no acknowledgement of {envelope_id}; got {self.acks}")

    def close(self) -> None:
        self._stop.set()
        self.server.close()

    # --- the protocol ---

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._talk, args=(connection,), daemon=True).start()

    def _talk(self, connection: socket.socket) -> None:
        with connection:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = connection.recv(4096)
                if not chunk:
                    return
                request += chunk
            headers = {}
            for line in request.split(b"\r\n")[1:]:
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            accept = base64.b64encode(hashlib.sha1((headers["sec-websocket-key"] + _GUID).encode()).digest())
            connection.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                               b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
            self._frame(connection, 0x1, json.dumps({"type": "hello", "num_connections": 1}).encode())
            self.connected.set()
            connection.settimeout(0.05)
            buffer = b""
            while not self._stop.is_set():
                with self._lock:
                    outgoing, self._outbox = self._outbox, []
                for envelope in outgoing:
                    self._frame(connection, 0x1, json.dumps(envelope).encode())
                try:
                    chunk = connection.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                buffer += chunk
                while (frame := _parse(buffer)) is not None:
                    opcode, payload, buffer = frame
                    if opcode == 0x1:
                        with self._lock:
                            self.acks.append(json.loads(payload))
                    elif opcode == 0x9:
                        self._frame(connection, 0xA, payload)
                    elif opcode == 0x8:
                        self._frame(connection, 0x8, payload[:2])
                        return

    @staticmethod
    def _frame(connection: socket.socket, opcode: int, payload: bytes) -> None:
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", 0x80 | opcode, size)
        elif size < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 126, size)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 127, size)
        connection.sendall(header + payload)


def _parse(buffer: bytes) -> tuple[int, bytes, bytes] | None:
    """One frame from the client (masked, as clients must): opcode, payload, the rest."""
    if len(buffer) < 2:
        return None
    opcode, size = buffer[0] & 0x0F, buffer[1] & 0x7F
    offset = 2
    if size == 126:
        if len(buffer) < 4:
            return None
        (size,) = struct.unpack("!H", buffer[2:4])
        offset = 4
    elif size == 127:
        if len(buffer) < 10:
            return None
        (size,) = struct.unpack("!Q", buffer[2:10])
        offset = 10
    masked = buffer[1] & 0x80
    mask = buffer[offset:offset + 4] if masked else b"\0\0\0\0"
    offset += 4 if masked else 0
    if len(buffer) < offset + size:
        return None
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(buffer[offset:offset + size]))
    return opcode, payload, buffer[offset + size:]
