"""The webhook egress guard: only public receivers, whatever way the address is written."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sostenuto.declarations._egress import PrivateAddress, check_named_public, check_public

PRIVATE_NETWORKS = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "100.64.0.0/10",
    "0.0.0.0/8",
]


@st.composite
def private_v4(draw: st.DrawFn) -> str:
    network = ipaddress.ip_network(draw(st.sampled_from(PRIVATE_NETWORKS)))
    offset = draw(st.integers(0, network.num_addresses - 1))
    return str(network.network_address + offset)


@given(private_v4(), st.sampled_from(["plain", "mapped"]))
def test_every_private_ipv4_address_is_refused_in_either_spelling(
    address: str, spelling: str
) -> None:
    host = address if spelling == "plain" else f"[::ffff:{address}]"
    for check in (check_named_public, check_public):
        with pytest.raises(PrivateAddress, match="not a public address"):
            check(f"https://{host}:8443/hook")


@pytest.mark.parametrize("host", ["[::1]", "[fe80::1]", "[fc00::5]", "224.0.0.1"])
def test_loopback_link_local_unique_local_and_multicast_are_refused(host: str) -> None:
    with pytest.raises(PrivateAddress):
        check_public(f"http://{host}/hook")


def test_a_name_is_resolved_when_sending() -> None:
    # Resolving 'localhost' needs no network: it is this machine, whatever DNS says.
    check_named_public("http://hooks.example/x")  # a name: left to the send-time check
    with pytest.raises(PrivateAddress, match="is this machine"):
        check_named_public("http://LOCALHOST./x")
    with pytest.raises(PrivateAddress, match="not a public address"):
        check_public("http://localhost:9/x")


def test_public_addresses_pass() -> None:
    for host in ("1.1.1.1", "8.8.8.8", "[2606:4700:4700::1111]"):
        check_named_public(f"https://{host}/hook")
        check_public(f"https://{host}/hook")
