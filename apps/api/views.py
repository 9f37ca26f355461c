"""The sync endpoints (docs/protocol.md, "Endpoints"). Thin: parse, call a service, encode."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.queue import selectors, services, snapshot
from apps.sites import selectors as site_selectors
from apps.sites.models import PRIMARY_SITE_ID, Site
from apps.tablesync.selectors import allowed_tables

from .authentication import SiteBasicAuthentication, UserOrSiteBasicAuthentication
from .codecs import API_VERSIONS, codec_for
from .codecs.common import parse_ack_body, parse_push_body
from .errors import Conflict, Forbidden, error_response
from .params import check_site_params, pull_limit
from .renderers import json_response, raw_json_response
from .schema import schema_bytes
from .synclog import CallLogMixin


class SyncView(CallLogMixin, APIView):
    """Authenticates the site, checks from_site/to_site, and logs the call with its duration."""

    authentication_classes = [SiteBasicAuthentication]
    call = ""
    checks_site_params = True

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.started = time.perf_counter()
        self.log_counts: dict[str, int] = {}
        self.log_note = ""
        self.site: Site | None = None
        super().initial(request, *args, **kwargs)
        self.site = self.site_of(request)
        if self.checks_site_params:
            check_site_params(request, self.authenticated_site)

    def site_of(self, request: Request) -> Site | None:
        """The site the call is logged under: the authenticated one."""
        return request.user

    @property
    def authenticated_site(self) -> Site:
        assert self.site is not None
        return self.site


class QueuedRecordsView(SyncView):
    call = "queued_records"

    def get(self, request: Request, version: str) -> HttpResponse:
        self.call = "pull"
        site = self.authenticated_site
        sync_id = request.query_params.get("sync_id")
        rows: Sequence[selectors.QueuedRow]
        if sync_id is not None:
            entry_id = selectors.queue_entry_id(sync_id)
            rows = (
                snapshot.pending_by_sync_id(site_id=site.pk, sync_id=sync_id)
                if entry_id is None
                else selectors.queued_by_sync_id(site_id=site.pk, sync_id=entry_id)
            )
        else:
            rows = snapshot.pending_head(site_id=site.pk, limit=pull_limit(request))
        self.log_counts = {"pulled": len(rows)}
        return raw_json_response(codec_for(version).encode_records(rows))

    def post(self, request: Request, version: str) -> HttpResponse:
        self.call = "push"
        site = self.authenticated_site
        items = parse_push_body(request.body)
        changes, refused = codec_for(version).decode_records(items)
        result = services.queue_push(site=site, changes=changes, refused=refused, api_version=version)
        self.log_counts = {
            "pushed": result.received,
            "applied": result.applied,
            "duplicates": result.duplicates,
            "quarantined": len(result.quarantined),
        }
        return json_response(push_summary(result))


def push_summary(result: services.PushResult) -> dict[str, Any]:
    """The push answer: `error` empty (old clients test its length), counts, and what was quarantined."""
    return {
        "error": "",
        "received": result.received,
        "applied": result.applied,
        "duplicates": result.duplicates,
        "quarantined": len(result.quarantined) + len(result.still_quarantined),
        "quarantinedRecords": [
            {
                "SyncID": r.change.sync_id,
                "RecordType": r.change.record_type,
                "RecordID": r.change.record_id,
                "reason": r.reason,
            }
            for r in result.quarantined + result.still_quarantined
        ],
    }


class QueueCountView(SyncView):
    call = "count"

    def get(self, request: Request, version: str) -> HttpResponse:
        count = snapshot.pending_count(site_id=self.authenticated_site.pk)
        self.log_counts = {"queued": count}
        return json_response({"NumRecords": count})


class AcknowledgeView(SyncView):
    call = "acknowledge"

    def post(self, request: Request, version: str) -> HttpResponse:
        sync_ids = parse_ack_body(request.body)
        acknowledged = services.queue_acknowledge(site=self.authenticated_site, sync_ids=sync_ids)
        self.log_counts = {"acknowledged": acknowledged}
        return json_response({"error": ""})


class InitialDumpView(SyncView):
    call = "initial_dump"

    def get(self, request: Request, version: str) -> HttpResponse:
        # The mSupply document: a missing `type`, or any value but `full`, means the mobile subset.
        received = request.query_params.get("type")
        dump_type = "full" if (received or "").strip().lower() == "full" else "mobile"
        count = services.initial_dump(site=self.authenticated_site, full=dump_type == "full")
        self.log_counts = {"queued": count}
        self.log_note = f"type={received[:60]!r}" if received is not None else "type missing"
        self.log_note += f": {dump_type} dump"
        return json_response({"error": "", "type": dump_type, "NumRecords": count})

    post = get


class SiteSyncStatusView(SyncView):
    """The site's own standing on the primary: what waits for it, what was quarantined, when it last
    called and when its queue was last rebuilt."""

    call = "sync_status"

    def get(self, request: Request, version: str) -> HttpResponse:
        site = self.authenticated_site
        status = selectors.site_sync_status(site_id=site.pk)
        dump = status.last_dump
        return json_response(
            {
                "error": "",
                "SiteID": site.pk,
                "PendingRecords": status.pending,
                "QuarantinedRecords": status.quarantined,
                "LastContact": site.last_seen_at.isoformat() if site.last_seen_at else None,
                "LastInitialDump": None
                if dump is None
                else {
                    "Time": dump.dumped_at.isoformat(),
                    "Type": dump.dump_type,
                    "NumRecords": dump.record_count,
                },
            }
        )


class SiteInfoView(SyncView):
    call = "site"
    checks_site_params = False

    def get(self, request: Request, version: str) -> HttpResponse:
        site = self.authenticated_site
        site_name = request.query_params.get("site_name")
        if site_name and site_name != site.name:
            raise Forbidden(f"site_name '{site_name}' does not match the credentials (site '{site.name}').")
        store = site_selectors.first_store_of_site(site=site)
        if store is None:
            raise Conflict(f"Site {site.pk} has no active store yet: an operator must assign one.")
        supplying = store.supplying_store
        return json_response(
            {
                "ServerID": PRIMARY_SITE_ID,
                "ServerVersion": settings.SYNC_SERVER_VERSION,
                "SiteID": site.pk,
                "StoreID": store.pk,
                "NameID": store.name_id,
                "SupplyingStoreID": supplying.pk if supplying else "",
                "SupplyingStoreNameID": supplying.name_id if supplying else "",
            }
        )


class UserView(SyncView):
    """The mobile login (the user's own credentials), or the site asking for the user of a store."""

    authentication_classes = [UserOrSiteBasicAuthentication]
    call = "user"
    checks_site_params = False

    def site_of(self, request: Request) -> Site | None:
        # A user's own login is logged under the site of the store it logs in to, if there is one.
        if isinstance(request.user, Site):
            return request.user
        return site_selectors.site_of_store(store_id=request.query_params.get("store", ""))

    def get(self, request: Request, version: str) -> HttpResponse:
        store_id = request.query_params.get("store", "")
        username = request.query_params.get("username", "")
        principal = request.user
        if isinstance(principal, Site):
            user = site_selectors.user_a_site_asks_for(site=principal, store_id=store_id, username=username)
        else:
            user = principal
            if username and username != user.username:
                raise Forbidden(f"The credentials of user '{user.username}' look up only that user.")
        if store_id and not site_selectors.user_may_use_store(user=user, store_id=store_id):
            raise Forbidden(f"User '{user.username}' may not log in to store {store_id}.")
        return json_response({"UserID": user.pk, "isAdmin": user.is_admin, "error": ""})


class SchemaView(APIView):
    """The v1 registry: public, like the numbers themselves, so an integrator can map before signing up."""

    authentication_classes: list[type] = []

    def get(self, request: Request) -> HttpResponse:
        return raw_json_response(schema_bytes())


class HealthView(APIView):
    authentication_classes: list[type] = []

    def get(self, request: Request) -> HttpResponse:
        return json_response({"status": "ok", "message": "Sync API running"})


class StatusView(APIView):
    authentication_classes: list[type] = []

    def get(self, request: Request) -> HttpResponse:
        # No software versions beyond the protocol's: they only help an attacker pick an exploit.
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            database = "ok"
        except Exception as exc:
            return json_response(
                {
                    "success": False,
                    "status": "error",
                    "error": "Database unavailable",
                    "database": f"unreachable: {type(exc).__name__}",
                },
                503,
            )
        return json_response(
            {
                "success": True,
                "status": "ok",
                "database": database,
                "database_vendor": connection.vendor,
                "server_version": settings.SYNC_SERVER_VERSION,
                "api_versions": list(API_VERSIONS),
                "allowed_tables": allowed_tables(),
            }
        )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(404, f"No such endpoint: {request.method} {request.path}.")


def server_error(request: HttpRequest) -> HttpResponse:
    return error_response(500, "Internal server error; the operators have the details in the server log.")
