"""ICMP echo against this machine's own loopback (the only address a test may ping)."""

from __future__ import annotations

import struct

from hotstack.cloud.icmp import _checksum, echo_request, ping


def test_echo_request_checksum_verifies() -> None:
    packet = echo_request(0x1234, 7)
    assert _checksum(packet) == 0
    assert struct.unpack("!BBHHH", packet[:8])[0] == 8


def test_loopback_answers() -> None:
    rtt = ping("127.0.0.1", timeout=1.0)
    assert rtt is not None and rtt < 1.0


def test_unused_loopback_namespace_address_times_out() -> None:
    # 127.0.0.0/8 all answers on Linux; a TEST-NET address routed nowhere would leave the machine,
    # so the negative case uses a zero timeout instead of a foreign address.
    assert ping("127.0.0.1", timeout=0.0) is None
