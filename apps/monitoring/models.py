"""The per-site, per-hour rollup of sync calls that the health page and its plots read.

The raw sync log is big and kept for weeks; drawing a month of traffic from it would scan millions of
rows. Each call instead adds itself to three rows of this table in one upsert (services.count_call):

- (site, hour): that site's traffic in that hour;
- (ALL_SITES, hour): everyone's traffic in that hour, so a plot of the whole primary reads 24 or 720 rows;
- (site, LATEST): the site's totals since the row was made, and the latest times, status, error and app
  version: one row per site answers "when did it last push, pull, acknowledge?".
"""

from datetime import UTC, datetime

from django.db import models

# `site_id` of the rows that add up every site.
ALL_SITES = 0
# `hour` of a site's running-totals row.
LATEST = datetime(1970, 1, 1, tzinfo=UTC)
APP_VERSION_LENGTH = 50
LAST_ERROR_LENGTH = 200


class SiteHour(models.Model):
    # A plain number, not a foreign key: ALL_SITES is no site, and the rows of a deleted site are only
    # history (the page joins the sites that exist).
    site_id = models.PositiveIntegerField(help_text="The site; 0 adds up every site.")
    hour = models.DateTimeField(help_text="The start of the hour (UTC); 1970-01-01: the running totals.")
    requests = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0, help_text="Calls answered with a status of 400 or more.")
    pushed = models.PositiveIntegerField(default=0)
    pulled = models.PositiveIntegerField(default=0)
    acknowledged = models.PositiveIntegerField(default=0)
    quarantined = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveBigIntegerField(default=0, help_text="The calls' durations added up.")
    last_call_at = models.DateTimeField(null=True)
    last_push_at = models.DateTimeField(null=True)
    last_pull_at = models.DateTimeField(null=True)
    last_ack_at = models.DateTimeField(null=True)
    last_error_at = models.DateTimeField(null=True)
    last_status = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=LAST_ERROR_LENGTH, blank=True)
    app_version = models.CharField(
        max_length=APP_VERSION_LENGTH, blank=True, help_text="The latest app version the client sent."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site_id", "hour"], name="monitoring_site_hour_unique")
        ]
        indexes = [models.Index(fields=["hour", "site_id"], name="monitoring_hour_idx")]

    def __str__(self) -> str:
        return f"site {self.site_id} at {self.hour:%Y-%m-%d %H:00}"
