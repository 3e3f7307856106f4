"""``diff_sites``: two schema-valid sites in, every semantic change out, by section.

Pure: no files are read here. A tariff kept in its own file (``tariff: {ref: …}``)
is compared by content only when the caller passes what it loaded.
"""

from __future__ import annotations

from depotctl.config.diff.carbon import carbon_changes
from depotctl.config.diff.change import Change, Kind, Section, SiteDiff, Subject, compare, present
from depotctl.config.diff.nodes import tree_changes
from depotctl.config.diff.sources import envelope_source_changes, meter_changes
from depotctl.config.diff.tariff import price_changes, tariff_changes
from depotctl.config.schema import Electrical, Metadata, Policies, Site, TariffSpec
from depotctl.config.schema.base import SchemaModel

_SECTION_ORDER = {section: i for i, section in enumerate(Section)}


def diff_sites(
    old: Site,
    new: Site,
    *,
    old_tariff: TariffSpec | None = None,
    new_tariff: TariffSpec | None = None,
) -> SiteDiff:
    """What changed from ``old`` to ``new``, in an engineer's terms.

    ``old_tariff``/``new_tariff`` are the content of a tariff the site names by ``ref``
    (ignored when the site writes its tariff inline).
    """
    changes = [
        *tree_changes(old.spec.nodes, new.spec.nodes),
        *electrical_changes(old.spec.electrical, new.spec.electrical),
        *meter_changes(old.spec.meters, new.spec.meters),
        *envelope_source_changes(old.spec.envelope_sources, new.spec.envelope_sources),
        *policy_changes(old.spec.policies, new.spec.policies),
        *present(_field_changes(_PLANNER, "planner", old.spec.planner, new.spec.planner)),
        *tariff_changes(old.spec.tariff, new.spec.tariff, old_tariff, new_tariff),
        *price_changes(old.spec.prices, new.spec.prices),
        *carbon_changes(old.spec.carbon, new.spec.carbon),
        *metadata_changes(old.metadata, new.metadata),
    ]
    changes.sort(key=lambda change: _SECTION_ORDER[change.section])
    return SiteDiff(old.metadata.name, new.metadata.name, tuple(changes))


def metadata_changes(old: Metadata, new: Metadata) -> list[Change]:
    subject = Subject("site", Kind.METADATA, Section.METADATA, "metadata")
    return present(
        compare(subject, key, label, getattr(old, key), getattr(new, key))
        for key, label in (
            ("name", "name"),
            ("timezone", "time zone"),
            ("description", "description"),
            ("labels", "labels"),
        )
    )


def electrical_changes(old: Electrical, new: Electrical) -> list[Change]:
    subject = Subject("site default", Kind.ELECTRICAL, Section.TOPOLOGY, "spec.electrical")
    return present(
        [
            compare(subject, "voltage", "voltage", old.voltage, new.voltage),
            compare(subject, "phases", "phases", old.phases, new.phases),
        ]
    )


def policy_changes(old: Policies, new: Policies) -> list[Change]:
    """Each policy field, old → new (a nested block's fields each on their own, like
    ``charging.rotation.min_on``); a default written out equals the default left out."""
    changes: list[Change | None] = []
    for group in Policies.model_fields:
        subject = Subject("policy", Kind.POLICY, Section.POLICIES, "spec.policies", group)
        changes += _field_changes(subject, group, getattr(old, group), getattr(new, group))
    return present(changes)


_PLANNER = Subject("site", Kind.POLICY, Section.POLICIES, "spec")


def _field_changes(
    subject: Subject, prefix: str, before: SchemaModel, after: SchemaModel
) -> list[Change | None]:
    changes: list[Change | None] = []
    for name, info in type(after).model_fields.items():
        key = f"{prefix}.{info.alias or name}"
        old_value, new_value = getattr(before, name), getattr(after, name)
        if isinstance(new_value, SchemaModel) and isinstance(old_value, SchemaModel):
            changes += _field_changes(subject, key, old_value, new_value)
        else:
            changes.append(compare(subject, key, key, old_value, new_value))
    return changes
