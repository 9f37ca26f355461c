"""`activatesite SITE_ID`: let a deactivated site sync again."""

from __future__ import annotations

from apps.sites.models import Site

from .deactivatesite import SetActiveCommand


class Command(SetActiveCommand):
    help = (
        "Reactivate a site: its next sync is accepted. Nothing was queued for it while it was inactive, so "
        "rebuild its queue next with initialdump."
    )
    active = True

    def done(self, site: Site) -> str:
        return (
            f"Activated site {site.pk} '{site.name}'. Nothing was queued for it while it was inactive: "
            f"rebuild its queue with initialdump {site.pk} [--full]."
        )
