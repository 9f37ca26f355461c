"""The OpenAPI description of every endpoint, served at /api/schema/ (drf-spectacular), and docs/api.md.

Not to be confused with apps/api/schema.py, the published record registry at /sync/v1/schema.

The views answer with hand-encoded JSON (orjson, one codec per wire format), not serializers, so each
one is described here, in one table, instead of being guessed: what it does, its parameters and body.
The registry of view descriptions is applied by OpenApiViewExtension classes made from the table; the
Markdown of docs/api.md is rendered from the finished schema (`manage.py apidocs`), and a test fails
when the two differ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiViewExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view

from apps.monitoring.views import MetricsView

from . import lookups, schedule_views, settingsdocs, tables, views

Q: Literal["query"] = "query"
PATH: Literal["path"] = "path"
HEADER: Literal["header"] = "header"


def query(name: str, description: str, *, kind: Any = OpenApiTypes.STR, required: bool = False) -> Any:
    return OpenApiParameter(name, kind, Q, required=required, description=description)


def version(versions: list[str]) -> Any:
    return OpenApiParameter(
        "version", OpenApiTypes.STR, PATH, enum=versions, description="The protocol version."
    )


ALL_VERSIONS, NAMED_VERSIONS = ["v1", "v2", "v3"], ["v2", "v3"]
SITE_PARAMS = [
    query(
        "from_site", "The calling site's number (the one its credentials belong to).", kind=int, required=True
    ),
    query("to_site", "The primary: 1.", kind=int, required=True),
    OpenApiParameter(
        "msupply-site-uuid",
        OpenApiTypes.STR,
        HEADER,
        description="The device's id; the site is bound to the first device that syncs.",
    ),
]
PAGE_PARAMS = [
    query("limit", "Most rows returned.", kind=int),
    query("offset", "Rows skipped first.", kind=int),
]
ERRORS = {
    400: OpenApiResponse(description="Bad input; the body says what is wrong. Nothing was changed."),
    401: OpenApiResponse(description="Credentials missing or wrong."),
    403: OpenApiResponse(description="Not allowed for these credentials (another site, another device)."),
    429: OpenApiResponse(description="Too many failed logins: wait the seconds in Retry-After."),
    503: OpenApiResponse(description="The database is unavailable: retry after Retry-After."),
}


@dataclass(frozen=True)
class Operation:
    summary: str
    description: str = ""
    parameters: list[Any] = field(default_factory=list)
    body: str = ""  # what the JSON body holds; empty: no body

    def schema(self, tag: str, operation_id: str, extra_parameters: list[Any]) -> Any:
        return extend_schema(
            operation_id=operation_id,
            summary=self.summary,
            # Never empty: drf-spectacular would fall back to the view's docstring, written for developers.
            description=" ".join(part for part in (self.description, TAG_DOCS[tag]) if part),
            tags=[tag],
            parameters=[*self.parameters, *extra_parameters],
            request={"application/json": OpenApiTypes.OBJECT} if self.body else None,
            responses={200: OpenApiResponse(OpenApiTypes.ANY, description="JSON."), **ERRORS},
            # The body is described in words: it is a wire format, not a serializer.
            extensions={"x-body": self.body} if self.body else None,
        )


SYNC, LOOKUPS, TABLES, SETTINGS, SCHEDULES, SERVER = (
    "sync",
    "look-ups",
    "table sync",
    "settings documents",
    "scheduled imports",
    "server",
)

TAG_DOCS = {
    SYNC: "The sync protocol: docs/protocol.md (v1: docs/protocol-v1.md).",
    LOOKUPS: "Online look-ups of the mobile app: docs/protocol.md, 'Online look-ups'.",
    TABLES: "Table sync: docs/tables-api.md.",
    SETTINGS: "Settings documents: docs/settings-api.md.",
    SCHEDULES: "Scheduled imports: docs/imports.md.",
    SERVER: "For load balancers and monitoring.",
}

# view class -> (tag, {HTTP method: what it does}). Every route in apps/api/urls.py is here; a test
# checks that no route is left out of the schema.
OPERATIONS: dict[type, tuple[str, dict[str, Operation]]] = {
    views.QueueCountView: (
        SYNC,
        {"get": Operation("How many records the site's queue holds", parameters=[version(ALL_VERSIONS)])},
    ),
    views.QueuedRecordsView: (
        SYNC,
        {
            "get": Operation(
                "Pull the head of the site's queue",
                "Records in queue order, each with its SyncID; they stay queued until acknowledged.",
                [
                    version(ALL_VERSIONS),
                    query("limit", "Most records returned (capped by SYNC_PULL_CAP).", kind=int),
                    query("sync_id", "Only the queued record with this SyncID."),
                ],
            ),
            "post": Operation(
                "Push changed records",
                "Applied in one transaction; a record that cannot be applied is quarantined, the rest of "
                "the batch applied. A replayed SyncID is applied once.",
                [version(ALL_VERSIONS)],
                body="A JSON array of records: SyncID, RecordType, RecordID, SyncType, StoreID, Data.",
            ),
        },
    ),
    views.AcknowledgeView: (
        SYNC,
        {
            "post": Operation(
                "Acknowledge pulled records",
                "Removes them from the site's queue.",
                [version(ALL_VERSIONS)],
                body='{"SyncRecordIDs": ["<SyncID>", ...]}',
            )
        },
    ),
    views.InitialDumpView: (
        SYNC,
        {
            method: Operation(
                "Rebuild the site's queue from the central store",
                "`type=full` (any case): everything routed to the site; otherwise the mobile-store subset. "
                "GET and POST do the same.",
                [version(ALL_VERSIONS), query("type", "`full` for everything; anything else: mobile.")],
            )
            for method in ("get", "post")
        },
    ),
    views.SiteSyncStatusView: (
        SYNC,
        {
            "get": Operation(
                "The site's sync status",
                "Pending and quarantined counts, and its last initial dump.",
                [version(ALL_VERSIONS)],
            )
        },
    ),
    views.SiteInfoView: (
        SYNC,
        {
            "get": Operation(
                "The site's store and settings (mobile app bootstrap)",
                parameters=[version(NAMED_VERSIONS), query("site_name", "Must be the site's own name.")],
            )
        },
    ),
    views.UserView: (
        SYNC,
        {
            "get": Operation(
                "Log a mobile user in, or look a user up as the site",
                parameters=[
                    version(ALL_VERSIONS),
                    query("store", "The store the user logs in to."),
                    query("username", "The user looked up (site credentials)."),
                ],
            )
        },
    ),
    views.SchemaView: (
        SYNC,
        {"get": Operation("The record registry: v1 table and field numbers, by table")},
    ),
    lookups.PatientView: (
        LOOKUPS,
        {
            "get": Operation(
                "Search patients (names) online",
                "Text parameters match as a prefix, without mSupply's `@` marks.",
                [
                    query("first_name", "Start of the first name."),
                    query("last_name", "Start of the last name."),
                    query("barcode", "Start of the barcode."),
                    query("dob", "Date of birth, DDMMYYYY."),
                    query("policy_number", "Start of an insurance policy number."),
                    query("is_deleted", "true: deleted patients too.", kind=bool),
                    *PAGE_PARAMS,
                ],
            )
        },
    ),
    lookups.PatientHistoryView: (
        LOOKUPS,
        {
            "get": Operation(
                "A patient's dispensing history",
                parameters=[query("id", "The patient's name ID.", required=True)],
            )
        },
    ),
    lookups.PrescriberView: (
        LOOKUPS,
        {
            "get": Operation(
                "Search prescribers online",
                parameters=[
                    query("first_name", "Start of the first name."),
                    query("last_name", "Start of the last name."),
                    query("code", "Start of the code."),
                    *PAGE_PARAMS,
                ],
            )
        },
    ),
    lookups.NameStoreJoinView: (
        LOOKUPS,
        {
            "post": Operation(
                "Make a name visible in the calling site's store",
                body="The name_store_join record: its ID, name_ID and store_ID.",
            )
        },
    ),
    views.HealthView: (SERVER, {"get": Operation("Liveness: the server and its database answer")}),
    views.StatusView: (SERVER, {"get": Operation("The server's status, without software versions")}),
    MetricsView: (
        SERVER,
        {
            "get": Operation(
                "Prometheus metrics (text exposition format)",
                description="Allowed from METRICS_ALLOWED_NETWORKS or with `Authorization: Bearer "
                "<METRICS_TOKEN>`; 403 when neither is configured (docs/operations.md).",
            )
        },
    ),
    tables.TablePushView: (
        TABLES,
        {
            "post": Operation(
                "Push table operations",
                body="Operations on the tables the server allows (docs/tables-api.md).",
            )
        },
    ),
    tables.LegacyTablePushView: (
        TABLES,
        {
            "post": Operation(
                "Push table operations (the older name of /sync/push)",
                body="Operations on the tables the server allows (docs/tables-api.md).",
            )
        },
    ),
    tables.TablePullView: (
        TABLES,
        {
            "get": Operation(
                "Pull table rows changed since a cursor",
                parameters=[
                    query("tables", "Comma-separated table names."),
                    query("after.<table>", "The cursor of a table, from the previous answer."),
                    query("limit", "Most rows per table.", kind=int),
                ],
            ),
            "post": Operation(
                "Pull table rows changed since a cursor (the parameters in the body)",
                body='{"tables": [...], "after": {"<table>": "<cursor>"}, "limit": N}',
            ),
        },
    ),
    settingsdocs.SettingsUpdateView: (
        SETTINGS,
        {
            "post": Operation(
                "Save a settings document (newest saved timestamp wins)",
                body="The document and its saved timestamp (docs/settings-api.md).",
            )
        },
    ),
    schedule_views.SchedulesView: (
        SCHEDULES,
        {
            "get": Operation(
                "List import schedules",
                parameters=[
                    query("enabled", "true or false.", kind=bool),
                    query("recordType", "Only schedules of this record type."),
                    query("sourceType", "Only schedules of this source kind."),
                    query("name", "Part of the name."),
                    *PAGE_PARAMS,
                ],
            ),
            "post": Operation("Create an import schedule", body="The schedule (docs/imports.md)."),
        },
    ),
    schedule_views.ScheduleView: (
        SCHEDULES,
        {
            "get": Operation("One import schedule"),
            "put": Operation("Change an import schedule", body="The fields to change (docs/imports.md)."),
            "delete": Operation("Delete an import schedule"),
        },
    ),
    schedule_views.ScheduleSyncView: (SCHEDULES, {"post": Operation("Run an import schedule now")}),
    schedule_views.ScheduleHistoryView: (
        SCHEDULES,
        {"get": Operation("An import schedule's past runs", parameters=PAGE_PARAMS)},
    ),
}


def _view_extension(view: type, tag: str, operations: dict[str, Operation]) -> type:
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", view.__name__.removesuffix("View")).lower()
    extra = []
    if issubclass(view, views.SyncView):
        # from_site and to_site are checked by the sync calls; `site` and `user` take the header only.
        extra = SITE_PARAMS if view.checks_site_params else SITE_PARAMS[2:]
    described = extend_schema_view(
        **{method: op.schema(tag, f"{name}_{method}", extra) for method, op in operations.items()}
    )

    class Described(OpenApiViewExtension):
        target_class = f"{view.__module__}.{view.__qualname__}"

        def view_replacement(self) -> type:
            return described(type(view.__name__, (self.target,), {}))

    Described.__name__ = f"{view.__name__}Description"
    return Described


VIEW_EXTENSIONS = [_view_extension(view, tag, ops) for view, (tag, ops) in OPERATIONS.items()]


def _scheme(target: str, scheme_name: str, definition: dict[str, str]) -> type:
    class Scheme(OpenApiAuthenticationExtension):
        target_class = target
        name = scheme_name

        def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
            return definition

    return Scheme


SITE_BASIC = "HTTP Basic: the site's name and the lowercase hex SHA-256 of its password."
AUTH_EXTENSIONS = [
    _scheme(
        "apps.api.authentication.SiteBasicAuthentication",
        "siteBasic",
        {"type": "http", "scheme": "basic", "description": SITE_BASIC},
    ),
    _scheme(
        "apps.api.authentication.UserOrSiteBasicAuthentication",
        "userOrSiteBasic",
        {
            "type": "http",
            "scheme": "basic",
            "description": "HTTP Basic: a mobile user's name, or the site's, and the SHA-256 hex of its "
            "password.",
        },
    ),
    _scheme(
        "apps.api.lookups.LookupAuthentication",
        "siteBasicWithoutDevice",
        {"type": "http", "scheme": "basic", "description": SITE_BASIC + " No device header."},
    ),
    _scheme(
        "apps.api.authentication.ApiKeyAuthentication",
        "apiKey",
        {"type": "http", "scheme": "bearer", "description": "An API key, `ssk_<prefix>_<secret>`."},
    ),
]


def paths_without_trailing_slash(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Every route answers with and without its trailing slash; the schema names the form clients use."""
    result["paths"] = {(path.rstrip("/") or "/"): item for path, item in result.get("paths", {}).items()}
    return result


def markdown(schema: dict[str, Any]) -> str:
    """docs/api.md: every endpoint of the schema, grouped by tag, with its parameters and body."""
    info = schema["info"]
    lines = [
        f"# {info['title']}",
        "",
        "Generated from the OpenAPI schema by `manage.py apidocs`: do not edit; a test fails when this",
        "page and the schema differ. The live schema is at `/api/schema/` (`?format=json` for JSON), a",
        "browsable page at `/api/schema/docs/`.",
        "",
        info.get("description", ""),
    ]
    schemes = schema.get("components", {}).get("securitySchemes", {})
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            by_tag.setdefault(operation.get("tags", ["other"])[0], []).append((path, method, operation))
    for tag, operations in by_tag.items():
        lines += ["", f"## {tag[0].upper()}{tag[1:]}"]
        for path, method, operation in operations:
            lines += ["", f"### `{method.upper()} {path}`", "", operation.get("summary", "")]
            if operation.get("description"):
                lines += ["", operation["description"]]
            security = [name for entry in operation.get("security", []) for name in entry]
            if security:
                described = [
                    f"{name} ({schemes[name]['description']})" for name in security if name in schemes
                ]
                lines += ["", "Authentication: " + "; or ".join(described or ["none"])]
            else:
                lines += ["", "Authentication: none."]
            parameters = operation.get("parameters", [])
            if parameters:
                lines += ["", "| parameter | in | required | meaning |", "| --- | --- | --- | --- |"]
                for p in parameters:
                    values = p.get("schema", {}).get("enum")
                    meaning = p.get("description", "") + (f" One of: {', '.join(values)}." if values else "")
                    lines.append(
                        f"| `{p['name']}` | {p['in']} | {'yes' if p.get('required') else 'no'} | {meaning} |"
                    )
            if operation.get("x-body"):
                lines += ["", f"Body (JSON): {operation['x-body']}"]
    return "\n".join(lines).rstrip() + "\n"


def generated_schema() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)
