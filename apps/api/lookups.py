"""The mobile app's online look-ups (/api/v4): thin views over apps.lookups.

Parameters as the app sends them: text as `@text@` (mSupply's wildcard marks), `dob` as DDMMYYYY,
`limit`/`offset`, `is_deleted`. A list answers every search, `[]` when nothing matches.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from django.http import HttpResponse
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.lookups import selectors
from apps.lookups.services import VisibilityRefused, patient_make_visible
from apps.sites.models import Site

from .authentication import authenticate_site
from .errors import ApiError, BadRequest
from .params import int_param
from .renderers import json_response

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
MAX_TEXT = 100


class LookupAuthentication(BaseAuthentication):
    """The site's own Basic credentials; the app sends no device header on these calls."""

    def authenticate(self, request: Request) -> tuple[Site, None]:
        site = authenticate_site(
            authorization=request.META.get("HTTP_AUTHORIZATION"), hardware_id=None, check_hardware=False
        )
        return site, None

    def authenticate_header(self, request: Request) -> str:
        return 'Basic realm="sync"'


def text_param(request: Request, name: str) -> str:
    """A search text without mSupply's `@` wildcard marks, lowercased: matched as a prefix."""
    raw = request.query_params.get(name, "")
    text = raw.strip().strip("@").strip().lower()
    if len(text) > MAX_TEXT:
        raise BadRequest(f"The query parameter '{name}' is longer than {MAX_TEXT} characters.")
    return text


def dob_param(request: Request) -> str:
    raw = request.query_params.get("dob", "").strip()
    if not raw:
        return ""
    try:
        if len(raw) != 8 or not raw.isdigit():
            raise ValueError
        return date(int(raw[4:]), int(raw[2:4]), int(raw[:2])).isoformat()
    except ValueError as exc:
        raise BadRequest(f"The query parameter 'dob' must be a date as DDMMYYYY, not '{raw}'.") from exc


def bool_param(request: Request, name: str) -> bool:
    raw = request.query_params.get(name, "false").strip().lower()
    if raw not in ("true", "false", "1", "0", ""):
        raise BadRequest(f"The query parameter '{name}' must be true or false, not '{raw}'.")
    return raw in ("true", "1")


def page_params(request: Request) -> tuple[int, int]:
    limit = int_param(request, "limit", default=DEFAULT_LIMIT)
    offset = int_param(request, "offset", default=0)
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"The query parameter 'limit' must be between 1 and {MAX_LIMIT}.")
    if offset < 0:
        raise BadRequest("The query parameter 'offset' must be 0 or more.")
    return limit, offset


class LookupView(APIView):
    authentication_classes = [LookupAuthentication]


class PatientView(LookupView):
    def get(self, request: Request) -> HttpResponse:
        limit, offset = page_params(request)
        query = selectors.PatientQuery(
            first=text_param(request, "first_name"),
            last=text_param(request, "last_name"),
            barcode=text_param(request, "barcode"),
            dob=dob_param(request),
            policy=text_param(request, "policy_number"),
            deleted=bool_param(request, "is_deleted"),
            limit=limit,
            offset=offset,
        )
        return json_response(selectors.search_patients(query))


class PatientHistoryView(LookupView):
    def get(self, request: Request) -> HttpResponse:
        patient_id = request.query_params.get("id", "").strip()
        if not patient_id:
            raise BadRequest("The query parameter 'id' (the patient's name ID) is required.")
        return json_response(selectors.patient_history(patient_id=patient_id))


class PrescriberView(LookupView):
    def get(self, request: Request) -> HttpResponse:
        limit, offset = page_params(request)
        found = selectors.search_prescribers(
            first=text_param(request, "first_name"),
            last=text_param(request, "last_name"),
            code=text_param(request, "code"),
            limit=limit,
            offset=offset,
        )
        return json_response(found)


class NameStoreJoinView(LookupView):
    def post(self, request: Request) -> HttpResponse:
        body = parse_join_body(request.body)
        try:
            visible = patient_make_visible(
                site=request.user, store_id=body["store_ID"], name_id=body["name_ID"]
            )
        except VisibilityRefused as exc:
            error = ApiError(exc.message)
            error.status = exc.status
            raise error from exc
        return json_response({"error": "", "ID": visible.join_id, "created": visible.created})


def parse_join_body(body: bytes) -> dict[str, str]:
    try:
        document: Any = orjson.loads(body or b"null")
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}.") from exc
    if not isinstance(document, dict):
        raise BadRequest('Send {"store_ID": "<your store>", "name_ID": "<the patient>"}.')
    values = {key: document.get(key) for key in ("store_ID", "name_ID")}
    missing = [key for key, value in values.items() if not isinstance(value, str) or not value.strip()]
    if missing:
        raise BadRequest(f"The body needs {' and '.join(missing)} as text.")
    return {key: str(value).strip() for key, value in values.items()}
