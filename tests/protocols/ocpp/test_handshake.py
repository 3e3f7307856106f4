"""Who may connect: the identity in the path, HTTP Basic credentials and the OCPP
subprotocol, each refused with its HTTP status and reported; the roster read per
connection; a reconnection replacing the old connection."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from ocpp.v16 import call as call16
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from depotctl.domain.charge_points import OcppVersion, PasswordRef
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
    ("CP-99", ["ocpp1.6"], None, PASSWORD, 404, "unknown charge point id"),
    ("CP-16", ["ocpp1.6"], None, "wrong", 401, "wrong password"),
    ("CP-16", ["ocpp1.6"], "CP-201", PASSWORD, 401, "username is not the charge point id"),
    ("CP-16", ["ocpp1.6"], None, None, 401, "no credentials"),
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
        "wrong-password",
        "wrong-user",
        "no-credentials",
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
    caplog.set_level(logging.INFO)
    async with endpoint(V16, V201, NO_PASSWORD) as rig:
        with pytest.raises(InvalidStatus) as refused:
            async with raw(
                rig.url, ocpp_id, "ocpp1.6", password=password, user=user, subprotocols=offered
            ):
                pass
        response = refused.value.response
        assert response.status_code == status
        assert reason in response.body.decode()
        if status == 401:
            assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
        [refusal] = rig.events.refusals
        assert (refusal.ocpp_id, refusal.status) == (ocpp_id, status)
        assert reason in refusal.reason
        assert refusal.remote is not None and refusal.remote.startswith("127.0.0.1:")
        assert rig.events.connections == []
        assert rig.server.links() == {}
    assert PASSWORD not in caplog.text
    assert all(PASSWORD not in r.reason for r in rig.events.refusals)


async def test_a_password_that_cannot_be_read_refuses_with_503() -> None:
    async with endpoint(V16) as rig:
        rig.roster["CP-16"] = replace(
            rig.roster["CP-16"], password=PasswordRef(file=rig.secrets / "missing")
        )
        with pytest.raises(InvalidStatus) as refused:
            async with raw(rig.url, "CP-16", "ocpp1.6"):
                pass
        assert refused.value.response.status_code == 503
        assert "cannot be read" in rig.events.refusals[0].reason


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
