"""A failing end-to-end test shows the tail of each controller log it started."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from tests.integration.rig import SERVE_LOGS

TAIL_LINES = 80


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" and report.failed:
        for log in dict.fromkeys(SERVE_LOGS):
            if log.exists():
                tail = log.read_text(errors="replace").splitlines()[-TAIL_LINES:]
                report.sections.append((f"controller log {log.name}", "\n".join(tail)))
    if report.when == "teardown":
        SERVE_LOGS.clear()
    return report
