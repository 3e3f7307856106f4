"""Who may connect: the identity in the path, HTTP Basic credentials and the OCPP
subprotocol, each refused with its HTTP status and reported — one answer for every
outsider, after the same work; the roster read per connection; a reconnection
replacing the old connection."""

from __future__ import annotations

import base64
import logging
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import pytest
from ocpp.v16 import call as call16
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from depotctl.domain.charge_points import OcppVersion, PasswordRef
from depotctl.protocols.ocpp import credentials, server
from tests.protocols.ocpp.chargers import PASSWORD, basic, charger, raw
from tests.protocols.ocpp.endpoint_rig import V16, V201, charge_point, endpoint, until

pytestmark = pytest.mark.anyio

NO_PASSWORD = charge_point("CP-OPEN", "chg-open", OcppVersion.V16, password=False)


@pytest.mark.parametrize("version", ["ocpp1.6", "ocpp2.0.1"])
async def test_a_charger_with_its_credentials_and_subprotocol_is_admitted(version: str) -> None:
    async with endpoint(V16, V201) as rig:
        ocpp_id, charger_id = ("CP-16", "chg-16") if version == "ocpp1.6" else ("CP-201", "chg-201")
        async with raw(rig.url, ocpp_id, version) as websocket:
            assert websocket.subprotocol == version
            await until(lambda: rig.events.connections)
            assert rig.events.connections == [(charger_id, OcppVersion(version))]
            link = rig.server.links()[charger_id]
            assert link.online and link.charge_point.ocpp_id == ocpp_id
        await until(lambda: rig.events.disconnections)
        assert rig.events.disconnections[0][0] == charger_id
        assert charger_id not in rig.server.links()
        assert not link.online
        assert rig.events.refusals == []


REFUSALS = [
    # (ocpp id, offered subprotocols, user, password, status, reason fragment)
    ("CP-99", ["ocpp1.6"], None, PASSWORD, 401, "unknown charge point id"),
    ("CP-99", ["ocpp1.5"], None, None, 401, "unknown charge point id"),
    ("CP-16", ["ocpp1.6"], None, "wrong", 401, "wrong password"),
    ("CP-16", ["ocpp1.6"], "CP-201", PASSWORD, 401, "username is not the charge point id"),
    ("CP-16", ["ocpp1.6"], None, None, 401, "no credentials"),
    ("CP-16", ["ocpp2.0.1"], None, "wrong", 401, "wrong password"),
    ("CP-201", ["ocpp1.6"], None, PASSWORD, 400, "configured for ocpp2.0.1"),
    ("CP-16", ["ocpp1.5"], None, PASSWORD, 400, "unsupported subprotocol ocpp1.5"),
    ("CP-16", [], None, PASSWORD, 400, "no OCPP subprotocol offered"),
    ("CP-OPEN", ["ocpp1.6"], None, PASSWORD, 403, "no password configured"),
]


@pytest.mark.parametrize(
    ("ocpp_id", "offered", "user", "password", "status", "reason"),
    REFUSALS,
    ids=[
        "unknown-id",
        "unknown-id-unsupported-subprotocol",
        "wrong-password",
        "wrong-user",
        "no-credentials",
        "wrong-password-other-version",
        "other-version",
        "unsupported-subprotocol",
        "no-subprotocol",
        "no-password-configured",
    ],
)
async def test_a_refused_connection_gets_its_status_and_is_reported(
    ocpp_id: str,
    offered: list[str],
    user: str | None,
    password: str | None,
    status: int,
    reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The reason goes to the controller only; the body names it only to a charger
    that authenticated (400), the subprotocol being looked at after the password."""
    caplog.set_level(logging.DEBUG)
    async with endpoint(V16, V201, NO_PASSWORD) as rig:
        with pytest.raises(InvalidStatus) as refused:
            async with raw(
                rig.url, ocpp_id, "ocpp1.6", password=password, user=user, subprotocols=offered
            ):
                pass
        response = refused.value.response
        assert response.status_code == status
        body = response.body.decode()
        if status == 400:
            assert reason in body
        else:
            assert reason not in body and "password" not in body
        if status == 401:
            assert body == ""
            assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
        [refusal] = rig.events.refusals
        assert (refusal.ocpp_id, refusal.status) == (ocpp_id, status)
        assert reason in refusal.reason
        assert refusal.charger_id == (
            rig.roster[ocpp_id].charger_id if ocpp_id in rig.roster else None
        )
        assert refusal.remote is not None and refusal.remote.startswith("127.0.0.1:")
        assert rig.events.connections == []
        assert rig.server.links() == {}
    assert PASSWORD not in caplog.text
    assert all(PASSWORD not in r.reason for r in rig.events.refusals)


async def _answer(url: str, ocpp_id: str, headers: list[tuple[str, str]], offered: str) -> Any:
    """The HTTP response to a handshake with exactly these extra headers."""
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            f"{url}/{quote(ocpp_id, safe='')}",
            subprotocols=[Subprotocol(offered)],
            additional_headers=headers,
            open_timeout=5,
        ):
            pass
    return refused.value.response


OUTSIDERS = {
    "unknown id, right password": ("CP-99", [("Authorization", basic("CP-99", PASSWORD))]),
    "unknown id, no credentials": ("CP-99", []),
    "unknown id, wrong subprotocol": ("CP-98", [("Authorization", basic("CP-98", "x"))]),
    "empty id": ("", [("Authorization", basic("", PASSWORD))]),
    "known id, wrong password": ("CP-16", [("Authorization", basic("CP-16", "wrong"))]),
    "known id, a longer wrong password": ("CP-16", [("Authorization", basic("CP-16", "w" * 99))]),
    "known id, no credentials": ("CP-16", []),
    "known id, another user": ("CP-16", [("Authorization", basic("CP-201", PASSWORD))]),
    "known id, malformed credentials": ("CP-16", [("Authorization", "Basic !!not base64")]),
    "known id, another scheme": ("CP-16", [("Authorization", "Bearer abc")]),
    "known id, two headers": (
        "CP-16",
        [("Authorization", basic("CP-16", PASSWORD)), ("Authorization", basic("CP-16", "x"))],
    ),
    "known id, not UTF-8": (
        "CP-16",
        [("Authorization", "Basic " + base64.b64encode(b"CP-16:\xff\xfe").decode())],
    ),
}


async def test_an_outsider_gets_one_answer_whether_or_not_the_identity_exists() -> None:
    """Unknown identities and missing, malformed or wrong credentials: the same bare
    401, byte for byte but its date; each reported with its own reason."""
    async with endpoint(V16, V201) as rig:
        answers = {}
        for case, (ocpp_id, headers) in OUTSIDERS.items():
            offered = "ocpp1.5" if "subprotocol" in case else "ocpp1.6"
            response = await _answer(rig.url, ocpp_id, headers, offered)
            answers[case] = (
                response.status_code,
                response.reason_phrase,
                [(k, v) for k, v in response.headers.raw_items() if k.lower() != "date"],
                bytes(response.body),
            )
        first = next(iter(answers.values()))
        assert first[0] == 401 and first[3] == b""
        assert {case: answer == first for case, answer in answers.items()} == dict.fromkeys(
            OUTSIDERS, True
        )
        reasons = [r.reason for r in rig.events.refusals]
        assert reasons[:4] == ["unknown charge point id"] * 3 + ["no charge point id in the path"]
        assert reasons[4:] == [
            "wrong password",
            "wrong password",
            "no credentials",
            "username is not the charge point id",
            "malformed Basic credentials",
            "malformed Basic credentials",
            "more than one Authorization header",
            "wrong password",
        ]


async def test_an_unknown_identity_costs_the_same_work_as_a_wrong_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A password of the site is read and both the user and the password are hashed
    and compared, for an unknown identity as for a known one."""
    work: list[str] = []
    digest, read = credentials._digest, server.read_password

    def counted_digest(text: str) -> bytes:
        work.append("hash")
        return digest(text)

    def counted_read(ref: PasswordRef) -> str:
        work.append("read")
        return read(ref)

    monkeypatch.setattr(credentials, "_digest", counted_digest)
    monkeypatch.setattr(server, "read_password", counted_read)
    async with endpoint(V16, V201) as rig:
        done = {}
        for ocpp_id, password in [("CP-99", PASSWORD), ("CP-16", "wrong"), ("CP-16", None)]:
            work.clear()
            with pytest.raises(InvalidStatus):
                async with raw(rig.url, ocpp_id, "ocpp1.6", password=password):
                    pass
            done[(ocpp_id, password)] = sorted(work)
        assert set(map(tuple, done.values())) == {("hash", "hash", "hash", "hash", "read")}
        assert len(rig.events.refusals) == 3


async def test_a_password_that_cannot_be_read_refuses_with_503() -> None:
    async with endpoint(V16) as rig:
        missing = rig.secrets / "missing"
        rig.roster["CP-16"] = replace(rig.roster["CP-16"], password=PasswordRef(file=missing))
        with pytest.raises(InvalidStatus) as refused:
            async with raw(rig.url, "CP-16", "ocpp1.6"):
                pass
        assert refused.value.response.status_code == 503
        assert str(missing) not in refused.value.response.body.decode()
        [refusal] = rig.events.refusals
        assert "cannot be read" in refusal.reason and str(missing) in refusal.reason


async def _refused(url: str, ocpp_id: str, password: str | None = "wrong") -> Any:
    with pytest.raises(InvalidStatus) as refused:
        async with raw(url, ocpp_id, "ocpp1.6", password=password):
            pass
    return refused.value.response


async def test_refused_attempts_from_one_address_are_throttled_unchecked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A burst of refusals, then 429 at once — no password work, not even for the
    right password — until the controller's clock brings one more back."""
    monkeypatch.setattr(server, "REFUSALS_BURST_MIN", 5)
    hashed: list[str] = []
    digest = credentials._digest
    monkeypatch.setattr(credentials, "_digest", lambda text: hashed.append(text) or digest(text))
    async with endpoint(V16, V201) as rig:
        statuses = [(await _refused(rig.url, "CP-99")).status_code for _ in range(5)]
        assert statuses == [401] * 5
        hashed.clear()
        throttled = await _refused(rig.url, "CP-16", password=PASSWORD)
        assert throttled.status_code == 429
        assert 1 <= int(throttled.headers["Retry-After"]) <= 6
        assert hashed == []
        assert rig.events.refusals[-1].status == 429
        assert rig.server.links() == {}
        rig.clock.advance(1 / server.REFUSALS_PER_S)
        async with raw(rig.url, "CP-16", "ocpp1.6"):  # one attempt's worth came back
            await until(lambda: "chg-16" in rig.server.links())
        assert (await _refused(rig.url, "CP-16")).status_code == 401
        assert (await _refused(rig.url, "CP-16")).status_code == 429


async def test_admissions_never_spend_the_allowance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server, "REFUSALS_BURST_MIN", 2)
    async with endpoint(V16) as rig:
        for _ in range(3 * server.REFUSALS_BURST_MIN):
            async with raw(rig.url, "CP-16", "ocpp1.6"):
                pass
        statuses = [(await _refused(rig.url, "CP-16")).status_code for _ in range(5)]
        # the roster of one charger: a burst of REFUSALS_BURST_MIN
        assert statuses == [401, 401, 429, 429, 429]


async def test_a_depots_chargers_behind_one_address_may_all_be_refused_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The burst is at least the site's charger count: a depot behind one NAT whose
    chargers were all refused (a password changed on one side only) still admits
    every one of them once fixed, and the clock never moved."""
    monkeypatch.setattr(server, "REFUSALS_BURST_MIN", 1)
    fleet = [charge_point(f"CP-{n}", f"chg-{n}", OcppVersion.V16) for n in range(40)]
    async with endpoint(*fleet) as rig:
        for cp in fleet:
            assert (await _refused(rig.url, cp.ocpp_id)).status_code == 401
        for cp in fleet:
            async with raw(rig.url, cp.ocpp_id, "ocpp1.6"):
                pass
        assert [r.status for r in rig.events.refusals] == [401] * len(fleet)
        assert len(rig.events.connections) == len(fleet)


async def test_another_path_is_not_found_and_not_reported() -> None:
    async with endpoint(V16) as rig:
        base = rig.url.removesuffix("/ocpp")
        with pytest.raises(InvalidStatus) as refused:
            async with connect(
                f"{base}/other/CP-16",
                subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                additional_headers={"Authorization": basic("CP-16", PASSWORD)},
            ):
                pass
        assert refused.value.response.status_code == 404
        assert rig.events.refusals == []


async def test_the_roster_is_read_for_every_new_connection() -> None:
    """A revision applied meanwhile: a charger added to the site may connect at once."""
    async with endpoint(V16) as rig:
        with pytest.raises(InvalidStatus):
            async with raw(rig.url, "CP-NEW", "ocpp2.0.1"):
                pass
        path = rig.secrets / "new.secret"
        path.write_text(PASSWORD)
        new = charge_point("CP-NEW", "chg-new", OcppVersion.V201)
        rig.roster["CP-NEW"] = replace(new, password=PasswordRef(file=path))
        async with raw(rig.url, "CP-NEW", "ocpp2.0.1"):
            await until(lambda: "chg-new" in rig.server.links())


async def test_an_identity_with_reserved_characters_is_percent_decoded() -> None:
    odd = charge_point("CP 16/Ä", "chg-odd", OcppVersion.V16)
    async with endpoint(odd) as rig, raw(rig.url, "CP 16/Ä", "ocpp1.6"):
        await until(lambda: "chg-odd" in rig.server.links())


async def test_a_reconnecting_charger_replaces_its_old_connection() -> None:
    async with endpoint(V16) as rig:
        async with charger(rig.url, "CP-16", "ocpp1.6") as first:
            await first.call(call16.Heartbeat())
            old = rig.server.links()["chg-16"]
            async with charger(rig.url, "CP-16", "ocpp1.6") as second:
                await until(lambda: rig.server.links()["chg-16"] is not old)
                await until(lambda: not old.online)
                await until(lambda: first._connection.close_code is not None)
                # the old connection closing is no disconnection: the charger is here
                assert rig.events.disconnections == []
                assert (await second.call(call16.Heartbeat())).current_time
                assert rig.server.links()["chg-16"].online
            await until(lambda: rig.events.disconnections)
        assert [d[0] for d in rig.events.disconnections] == ["chg-16"]
        assert [c[0] for c in rig.events.connections] == ["chg-16", "chg-16"]
