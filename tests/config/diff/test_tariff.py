"""The tariff: prices with percentages, times, days, seasons, demand and fixed charges,
and a tariff kept in its own file, compared by ref and by content."""

from __future__ import annotations

from pathlib import Path

from depotctl.config.diff import Action, Kind, Section, diff_sites
from depotctl.config.load import load_file
from depotctl.config.schema import Site
from tests.config.diff.sites import DiffEdits, copy_base, edited, lines, only, read


def read_site_model(path: Path) -> Site:
    """The site alone, its tariff ref not followed."""
    model = load_file(path).documents[0].model
    assert isinstance(model, Site)
    return model


INLINE = """  tariff:
    currency: AUD
    seasons:
      - name: all-year
        from: "01-01"
        to: "12-31"
        energy:
          - {name: peak, days: weekdays, from: "15:00", to: "21:00", price: 0.45 /kWh}
          - {name: rest, days: all, from: "21:00", to: "15:00", price: 0.15 /kWh}
    fixed: 2.10 /day
"""


ELECTRICAL = "  electrical: {voltage: 230 V, phases: 3}\n"
WITH_INLINE_TARIFF = (ELECTRICAL, ELECTRICAL + INLINE)


def test_a_referenced_window_price_rise(edit_diff: DiffEdits) -> None:
    change = only(edit_diff(base="depot", tariff=[("price: 0.45 /kWh", "price: 0.52 /kWh")]))
    assert (
        change.message == "tariff season summer window peak price 0.45 /kWh → 0.52 /kWh (+15.6 %)"
    )
    assert (change.kind, change.section, change.change_pct) == (Kind.TARIFF, Section.TARIFF, 15.6)
    assert change.path == "spec.tariff.seasons[summer].energy[peak].price"
    assert change.id == "summer/peak"


def test_a_price_in_other_units_is_no_change(edit_diff: DiffEdits) -> None:
    diff = edit_diff(base="depot", tariff=[("price: 0.45 /kWh", "price: 450 /MWh")])
    assert diff.is_empty, lines(diff)


def test_window_times_and_days(edit_diff: DiffEdits) -> None:
    diff = edit_diff(
        base="depot",
        tariff=[
            (
                '{name: peak, days: weekdays, from: "15:00"',
                '{name: peak, days: [mon, tue, wed, thu], from: "16:00"',
            ),
            (
                "{name: shoulder, days: weekdays,",
                "{name: shoulder, days: [mon, tue, wed, thu, fri],",
            ),
        ],
    )
    assert lines(diff) == [
        "~ tariff season summer window peak start 15:00 → 16:00",
        "~ tariff season summer window peak days weekdays → mon, tue, wed, thu",
    ]


def test_seasons_added_removed_and_moved(edit_diff: DiffEdits) -> None:
    autumn = (
        '    - name: autumn\n      from: "04-01"\n      to: "05-31"\n'
        '      energy: [{name: flat, days: all, from: "00:00", to: "24:00", price: 0.2 /kWh}]\n'
    )
    diff = edit_diff(
        base="depot",
        tariff=[
            ("    - name: winter\n", autumn + "    - name: winter\n"),
            ('from: "04-01"\n      to: "10-31"', 'from: "06-01"\n      to: "10-31"'),
        ],
    )
    assert lines(diff) == [
        "+ tariff season autumn added (04-01 to 05-31, 1 energy window)",
        "~ tariff season winter start 04-01 → 06-01",
    ]
    removed = edit_diff(base="depot", tariff=[("name: winter", "name: cool")])
    assert lines(removed) == [
        "+ tariff season cool added (04-01 to 10-31, 2 energy windows)",
        "- tariff season winter removed",
    ]


def test_energy_windows_added_and_removed(edit_diff: DiffEdits) -> None:
    diff = edit_diff(
        base="depot", tariff=[("{name: day, days: all,", "{name: daytime, days: all,")]
    )
    assert lines(diff) == [
        "+ tariff season winter window daytime added (all 07:00–21:00, 0.25 /kWh)",
        "- tariff season winter window day removed",
    ]


def test_demand_and_fixed_charges_and_currency(edit_diff: DiffEdits) -> None:
    diff = edit_diff(
        base="depot",
        tariff=[
            ("price: 14.2 /kW/month", "price: 16.5 /kW/month"),
            ("fixed: 2.10 /day", "fixed: 2.50 /day"),
            ("currency: AUD", "currency: NZD"),
        ],
    )
    assert lines(diff) == [
        "~ tariff currency AUD → NZD",
        "~ tariff fixed charge 2.1 /day → 2.5 /day (+19 %)",
        "~ tariff season summer demand charge peak-demand price 14.2 /kW/month → 16.5 /kW/month"
        " (+16.2 %)",
    ]


def test_a_fixed_charge_per_month_equal_to_the_daily_one_is_no_change(
    edit_diff: DiffEdits,
) -> None:
    diff = edit_diff(base="depot", tariff=[("fixed: 2.10 /day", "fixed: 63.91875 /month")])
    assert diff.is_empty, lines(diff)


def test_a_changed_ref_is_reported_and_the_new_file_compared(tmp_path: Path) -> None:
    old_file, new_file = copy_base("depot", tmp_path / "old"), copy_base("depot", tmp_path / "new")
    tariffs = new_file.parent / "tariffs"
    renamed = edited(
        (tariffs / "ea-tou.yaml").read_text(), [("price: 0.11 /kWh", "price: 0.09 /kWh")]
    )
    (tariffs / "ea-tou-2026.yaml").write_text(renamed)
    new_file.write_text(edited(new_file.read_text(), [("ea-tou.yaml", "ea-tou-2026.yaml")]))
    before, after = read(old_file), read(new_file)
    diff = diff_sites(before.site, after.site, old_tariff=before.tariff, new_tariff=after.tariff)
    assert lines(diff) == [
        "~ tariff ref tariffs/ea-tou.yaml → tariffs/ea-tou-2026.yaml",
        "~ tariff season summer window off-peak price 0.11 /kWh → 0.09 /kWh (−18.2 %)",
        "~ tariff season winter window night price 0.11 /kWh → 0.09 /kWh (−18.2 %)",
    ]
    assert diff.changes[0].path == "spec.tariff.ref"


def test_without_the_referenced_content_only_the_ref_is_compared(tmp_path: Path) -> None:
    old_file, new_file = copy_base("depot", tmp_path / "old"), copy_base("depot", tmp_path / "new")
    new_file.write_text(edited(new_file.read_text(), [("ea-tou.yaml", "other.yaml")]))
    diff = diff_sites(read_site_model(old_file), read_site_model(new_file))
    assert lines(diff) == ["~ tariff ref tariffs/ea-tou.yaml → tariffs/other.yaml"]


def test_the_same_ref_written_differently_is_no_change(edit_diff: DiffEdits) -> None:
    diff = edit_diff(
        ("tariff: {ref: tariffs/ea-tou.yaml}", "tariff: {ref: ./tariffs/ea-tou.yaml}"), base="depot"
    )
    assert diff.is_empty, lines(diff)


def test_a_tariff_added_inline_and_one_removed(edit_diff: DiffEdits) -> None:
    added = only(edit_diff(WITH_INLINE_TARIFF))
    assert added.message == "tariff added (AUD, 1 season, fixed 2.1 /day)"
    assert (added.action, added.path) == (Action.ADD, "spec.tariff")
    removed = only(edit_diff(old=[WITH_INLINE_TARIFF]))
    assert removed.message == "tariff removed (AUD, 1 season, fixed 2.1 /day)"


def test_an_inline_tariff_moved_to_its_own_file(edit_diff: DiffEdits) -> None:
    ref = "  tariff: {ref: tariffs/ea-tou.yaml}\n"
    diff = edit_diff(base="depot", old=[(ref, INLINE)])
    assert lines(diff)[0] == "~ tariff moved to its own file tariffs/ea-tou.yaml (was inline)"
    assert "- tariff season all-year removed" in lines(diff)
    back = edit_diff((ref, INLINE), base="depot")
    assert lines(back)[0] == "~ tariff now written inline (was ref tariffs/ea-tou.yaml)"


PRICES = ELECTRICAL + "  prices: {series: prices/day-ahead.csv}\n"


def test_a_price_series_added_changed_and_removed(edit_diff: DiffEdits) -> None:
    added = only(edit_diff((ELECTRICAL, PRICES)))
    assert (added.action, added.kind, added.path) == (Action.ADD, Kind.TARIFF, "spec.prices.series")
    assert "prices price series" in added.message and "prices/day-ahead.csv" in added.message
    intraday = (ELECTRICAL, PRICES.replace("day-ahead", "intraday"))
    moved = only(edit_diff(intraday, old=[(ELECTRICAL, PRICES)]))
    assert moved.action is Action.CHANGE
    assert "prices/day-ahead.csv → prices/intraday.csv" in moved.message
    removed = only(edit_diff(old=[(ELECTRICAL, PRICES)]))
    assert removed.action is Action.REMOVE
