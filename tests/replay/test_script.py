"""Capacity scaling of the top of the tree, and scripted envelopes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from depotctl.domain.envelopes import LimitUnit
from depotctl.domain.policy import Policy
from depotctl.domain.topology import Topology
from depotctl.replay.script import (
    REPLAY_SOURCE,
    ScriptedEnvelope,
    scale_top,
    scripted_envelopes,
    with_replay_source,
)

LA = ZoneInfo("America/Los_Angeles")


def test_scaling_takes_the_whole_transformer_both_sides_and_nothing_below(
    caltech: tuple[Topology, Policy],
) -> None:
    topology, _ = caltech
    scaled, names = scale_top(topology, 0.2)
    # acnportal's transformer_cap: the primary (the grid connection and xfmr-acn) and
    # the secondary bus; the 80 A pods below are not the transformer's
    assert names == ("gc-caltech", "xfmr-acn", "secondary")
    assert scaled.nodes["gc-caltech"].limits.import_w == pytest.approx(30_000.0)
    assert scaled.nodes["xfmr-acn"].limits.import_w == pytest.approx(30_000.0)
    assert scaled.nodes["xfmr-acn"].limits.current_a == pytest.approx(36.1)
    assert scaled.nodes["secondary"].limits.current_a == pytest.approx(83.34)
    assert scaled.nodes["av-pod"].limits.current_a == pytest.approx(80.0)
    unchanged = [n for n in topology.nodes if n not in names]
    assert all(scaled.nodes[n] == topology.nodes[n] for n in unchanged)
    with pytest.raises(ValueError, match="above 0"):
        scale_top(topology, 0)


def test_scaling_leaves_circuits_not_on_a_transformers_secondary(
    caltech: tuple[Topology, Policy],
) -> None:
    topology, _ = caltech
    # the same tree with the transformer taken out: the bus hangs from the grid connection
    nodes = {
        node_id: (replace(node, parent="gc-caltech") if node.parent == "xfmr-acn" else node)
        for node_id, node in topology.nodes.items()
        if node_id != "xfmr-acn"
    }
    _, names = scale_top(replace(topology, nodes=nodes), 0.5)
    assert names == ("gc-caltech",)


def test_an_envelope_spec_parses() -> None:
    script = ScriptedEnvelope.parse("17:00-21:00 50%")
    assert (script.start, script.end, script.fraction) == (time(17), time(21), 0.5)
    assert ScriptedEnvelope.parse(" 22:30 - 06:00 12.5 % ").fraction == 0.125


@pytest.mark.parametrize("text", ["17:00 50%", "17:00-21:00", "17:00-21:00 150%", "25:00-26:00 5%"])
def test_a_bad_envelope_spec_says_how_to_write_it(text: str) -> None:
    with pytest.raises(ValueError, match=text.strip()[:5]):
        ScriptedEnvelope.parse(text)


def test_a_window_past_midnight_ends_the_next_day_in_utc() -> None:
    start, end = ScriptedEnvelope.parse("22:00-06:00 50%").windows(date(2019, 5, 13), LA)
    assert start == datetime(2019, 5, 14, 5, 0, tzinfo=UTC)  # 22:00 PDT
    assert end == datetime(2019, 5, 14, 13, 0, tzinfo=UTC)


def test_scripted_envelopes_cut_the_scaled_import_limit_every_day(
    caltech: tuple[Topology, Policy],
) -> None:
    topology, _ = caltech
    scaled, _ = scale_top(topology, 1 / 3)
    scaled = with_replay_source(scaled)
    envelopes = scripted_envelopes(
        (ScriptedEnvelope.parse("17:00-21:00 50%"),), scaled, date(2019, 5, 13), date(2019, 5, 14)
    )
    assert len(envelopes) == 2
    first = envelopes[0]
    assert (first.target, first.source, first.unit) == ("gc-caltech", REPLAY_SOURCE, LimitUnit.W)
    assert first.limit == pytest.approx(25_000.0)
    assert first.start == datetime(2019, 5, 14, 0, 0, tzinfo=UTC)
    assert scaled.nodes["gc-caltech"].envelope_source == REPLAY_SOURCE
    assert scaled.sources[REPLAY_SOURCE].targets == ("gc-caltech",)
