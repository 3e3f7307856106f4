"""``depotctl allocate`` and ``depotctl explain``: output, the JSON contract, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from depotctl.cli import app
from tests.conftest import EXAMPLES

SNAPSHOTS = EXAMPLES / "snapshots"
PEAK = SNAPSHOTS / "au-evening-peak.yaml"
OFFLINE = SNAPSHOTS / "au-charger-offline.yaml"
EMBEDDED = SNAPSHOTS / "minimal-embedded.yaml"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env={"NO_COLOR": "1"})


def broken_copy(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    """A copy of ``source`` in ``tmp_path`` with ``old`` replaced, its site path kept."""
    text = source.read_text()
    assert old in text
    text = text.replace(old, new).replace("../../sites/", f"{EXAMPLES.parent / 'sites'}/")
    path = tmp_path / source.name
    path.write_text(text)
    return path


# allocate: text


def test_allocate_prints_nodes_with_their_limits_and_evses_with_their_binding() -> None:
    result = run("allocate", "--snapshot", PEAK)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "gc-main (grid connection)" in out
    (power,) = [line for line in out.splitlines() if line.strip().startswith("import power")][:1]
    assert "envelope E-17 (fresh)" in power and power.endswith("at limit")
    (dc03,) = [line for line in out.splitlines() if line.strip().startswith("dc-03/1")]
    assert dc03.split()[1] == "charging" and dc03.endswith("envelope E-17")
    assert "At their limit: gc-main import power" in out


def test_allocate_shows_an_uncontrollable_charger() -> None:
    result = run("allocate", "--snapshot", OFFLINE)
    assert result.exit_code == 0, result.output
    (dc07,) = [line for line in result.stdout.splitlines() if line.strip().startswith("dc-07/1")]
    assert "uncontrollable" in dc07.split() and dc07.endswith("uncontrollable dc-07")


def test_the_site_flag_names_the_same_site_file() -> None:
    site = EXAMPLES.parent / "sites" / "au-bus-depot.yaml"
    with_flag = run("allocate", "--snapshot", PEAK, "-f", site, "--format", "json")
    without = run("allocate", "--snapshot", PEAK, "--format", "json")
    assert with_flag.exit_code == 0 and without.exit_code == 0
    assert json.loads(with_flag.stdout)["evses"] == json.loads(without.stdout)["evses"]


# allocate: JSON contract


def test_allocate_json_is_the_versioned_contract() -> None:
    result = run("allocate", "--snapshot", PEAK, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["version"] == 1
    assert data["at"] == "2024-05-14T18:30:00+10:00"
    assert data["site"]["name"] == "au-bus-depot"
    assert data["site"]["revision"].startswith("sha256:")
    evse_keys = {"id", "charger", "parent", "limit_a", "limit_kw", "state", "binding"}
    evse_keys |= {"session_id", "tier"}
    assert all(set(e) == evse_keys for e in data["evses"])
    assert [e["id"] for e in data["evses"]] == sorted(e["id"] for e in data["evses"])
    dc03 = next(e for e in data["evses"] if e["id"] == "dc-03/1")
    assert dc03["state"] == "charging"
    assert dc03["binding"]["kind"] == "envelope" and dc03["binding"]["ref"] == "E-17"
    assert dc03["limit_kw"] == pytest.approx(dc03["limit_a"] * 3 * 230 / 1000, abs=0.01)
    node_keys = {"id", "type", "parent", "kind", "unit", "effective_limit", "source"}
    node_keys |= {"reserved", "allocated", "headroom", "at_limit", "limits"}
    assert all(set(n) == node_keys for n in data["nodes"])
    gc = data["nodes"][0]
    assert gc["id"] == "gc-main" and gc["parent"] is None
    assert (gc["kind"], gc["unit"], gc["effective_limit"]) == ("import_power", "kW", 570.0)
    assert gc["source"] == {
        "kind": "envelope",
        "ref": "E-17",
        "fresh": True,
        "text": "envelope E-17 (fresh)",
    }
    assert gc["at_limit"] is True
    assert [limit["kind"] for limit in gc["limits"]] == [
        "import_power",
        "current_L1",
        "current_L2",
        "current_L3",
    ]
    for limit in gc["limits"]:
        expected = limit["effective_limit"] - limit["reserved"] - limit["allocated"]
        assert limit["headroom"] == pytest.approx(expected, abs=0.002)


def test_candidates_are_in_the_json_only_when_asked_for() -> None:
    plain = json.loads(run("allocate", "--snapshot", PEAK, "--format", "json").stdout)
    assert all("candidates" not in e for e in plain["evses"])
    full = json.loads(
        run("allocate", "--snapshot", PEAK, "--format", "json", "--candidates").stdout
    )
    dc03 = next(e for e in full["evses"] if e["id"] == "dc-03/1")
    keys = {"what", "ref", "limit", "source", "slack_a", "binding"}
    assert all(set(c) == keys for c in dc03["candidates"])
    (binding,) = [c for c in dc03["candidates"] if c["binding"]]
    assert binding["what"] == "gc-main import power"
    assert dc03["candidates"][0]["ref"] == "dc-03/1"  # the EVSE's own cap first
    assert dc03["candidates"][-1]["ref"] == "gc-main"  # the grid connection last


# explain


def test_explain_names_the_binding_constraint_and_marks_it() -> None:
    result = run("explain", "dc-03/1", "--snapshot", PEAK)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(line.startswith("EVSE dc-03/1 on charger dc-03") for line in lines)
    (binding,) = [line for line in lines if line.strip().startswith("binding")]
    assert binding.split(None, 1)[1] == "envelope E-17"
    assert "gc-main import power is full" in lines[lines.index(binding) + 1]
    marked = [line for line in lines if line.lstrip().startswith("▶")]
    assert len(marked) == 1
    assert "gc-main import power" in marked[0] and marked[0].endswith("binding")
    assert "envelope E-17" in marked[0]


def test_explain_json_has_one_evse_with_its_chain() -> None:
    result = run("explain", "dc-03/1", "--snapshot", PEAK, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["version"] == 1 and set(data) == {"version", "at", "site", "snapshot", "evse"}
    assert data["evse"]["id"] == "dc-03/1"
    assert sum(c["binding"] for c in data["evse"]["candidates"]) == 1


def test_explain_an_uncontrollable_evse_says_why_nothing_binds() -> None:
    result = run("explain", "dc-07/1", "--snapshot", OFFLINE)
    assert result.exit_code == 0, result.output
    assert "▶" not in result.stdout
    assert "No candidate binds: the charger does not follow commands" in result.stdout


def test_explain_an_unknown_evse_is_a_usage_error_with_a_suggestion() -> None:
    result = run("explain", "dc-3/1", "--snapshot", PEAK)
    assert result.exit_code == 2
    assert 'site has no EVSE "dc-3/1"; did you mean "dc-03/1"?' in result.stderr
    charger = run("explain", "pan-01", "--snapshot", PEAK)
    assert charger.exit_code == 2 and 'did you mean "pan-01/1"?' in charger.stderr


# exit codes


def test_a_broken_snapshot_exits_1_with_diagnostics_at_their_line(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, PEAK, "limit: 600 kW", "limit: 600")
    result = run("allocate", "--snapshot", path)
    assert result.exit_code == 1
    assert f"{path}:33:12: error: envelopes[1].limit: 600 has no unit" in result.stderr
    assert "[quantity/missing-unit]" in result.stderr
    assert result.stdout == ""


def test_a_site_that_changed_exits_1(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, PEAK, "revision: sha256:e", "revision: sha256:f")
    result = run("explain", "dc-03/1", "--snapshot", path)
    assert result.exit_code == 1
    assert "[snapshot/site-revision]" in result.stderr


def test_unreadable_files_exit_3(tmp_path: Path) -> None:
    assert run("allocate", "--snapshot", tmp_path / "absent.yaml").exit_code == 3
    missing_site = run("allocate", "--snapshot", PEAK, "-f", tmp_path / "absent.yaml")
    assert missing_site.exit_code == 3 and "[io/not-found]" in missing_site.stderr


def test_usage_errors_exit_2() -> None:
    assert run("allocate").exit_code == 2  # no --snapshot
    assert run("allocate", "--snapshot", PEAK, "--format", "xml").exit_code == 2
    embedded = run("allocate", "--snapshot", EMBEDDED, "-f", EXAMPLES / "minimal.yaml")
    assert embedded.exit_code == 2 and "embeds its site" in embedded.stderr


def depotctl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "depotctl", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_as_ci_runs_it_no_traceback_and_the_contracts_exit_codes(tmp_path: Path) -> None:
    assert depotctl("allocate", "--snapshot", EMBEDDED).returncode == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: depotctl/v1\nkind: Snapshot\nat: [\n")
    result = depotctl("allocate", "--snapshot", broken)
    assert result.returncode == 1
    assert "[yaml/syntax]" in result.stderr and "Traceback" not in result.stderr


def test_allocate_imports_no_ui_network_web_or_ocpp_library() -> None:
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['depotctl', 'allocate', '--snapshot', sys.argv[1], '--format', 'json']\n"
        "try:\n"
        "    runpy.run_module('depotctl', run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    print('EXIT', exit.code)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'textual', 'httpx', 'fastapi', 'starlette', 'uvicorn', 'ocpp', 'websockets', 'highspy'})\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(PEAK)], capture_output=True, text=True, timeout=60
    )
    assert '"version": 1' in result.stdout, result.stdout[-500:] + result.stderr
    assert "HEAVY []" in result.stdout, result.stdout[-500:] + result.stderr
