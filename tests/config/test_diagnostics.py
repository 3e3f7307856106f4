"""Quoted source lines never carry a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from depotctl.config.diagnostics import mask_secrets
from depotctl.config.render import render_json, render_text
from depotctl.config.validate import ValidationRun, validate_file


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        (
            "      ocpp: {id: CP-01, protocol: ocpp1.6, password: hunter2}",
            "      ocpp: {id: CP-01, protocol: ocpp1.6, password: ********}",
        ),
        (
            '        token: "9f2c 41d7"  # from the portal',
            "        token: ********  # from the portal",
        ),
        ("      ocpp: {password: 'a,b', id: CP-01}", "      ocpp: {password: ********, id: CP-01}"),
        ("        password_env: CP01_PASSWORD", "        password_env: CP01_PASSWORD"),
        (
            "        token_file: /etc/depotctl/dnsp.token",
            "        token_file: /etc/depotctl/dnsp.token",
        ),
    ],
)
def test_inline_secret_values_are_masked(line: str, masked: str) -> None:
    assert mask_secrets(line) == masked


def test_no_output_format_leaks_an_inline_password(tmp_path: Path, minimal_site_text: str) -> None:
    site = tmp_path / "leaky.yaml"
    site.write_text(
        minimal_site_text.replace("password_env: CP01_PASSWORD", "password: hunter2-secret")
    )
    run = ValidationRun([validate_file(site)])
    assert any(d.rule == "secrets/inline-secret" for d in run.diagnostics)
    assert "hunter2" not in render_text(run)
    assert "hunter2" not in render_json(run, strict=False)
