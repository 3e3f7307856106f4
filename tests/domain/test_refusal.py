"""A refusal carries its sentence, the contract's exit code and the details printed
before it; every error that ends a command with one is a refusal."""

from __future__ import annotations

import pytest

from depotctl.domain.refusal import Refusal


def test_a_refusal_says_its_sentence_and_keeps_its_code_and_details() -> None:
    refusal = Refusal("no site file x.yaml", 2, "x.yaml:1:1: error\n")
    assert (refusal.message, refusal.exit_code, refusal.details) == (
        "no site file x.yaml",
        2,
        "x.yaml:1:1: error\n",
    )
    assert str(refusal) == "no site file x.yaml"
    assert Refusal("cannot read x.yaml", 3).details == ""


def test_the_errors_that_end_a_command_are_refusals() -> None:
    from depotctl.client.contexts import ContextError
    from depotctl.controller.startup import StartRefused
    from depotctl.demo.processes import StartError
    from depotctl.demo.site import SiteError
    from depotctl.sim.chargers.run import SetupError

    for kind in (ContextError, StartRefused, StartError, SiteError, SetupError):
        with pytest.raises(Refusal) as caught:
            raise kind("refused here", 4)
        assert (caught.value.message, caught.value.exit_code) == ("refused here", 4)
