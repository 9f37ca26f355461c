"""Routes. Every sync path answers with and without its trailing slash (real clients use both)."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import lookups, schedule_views, settingsdocs, tables, views

VERSION = r"^sync/(?P<version>v[123])/"
NAMED_VERSION = r"^sync/(?P<version>v[23])/"  # `site` exists in v2 and v3 only

urlpatterns = [
    re_path(VERSION + r"queued_records/count/?$", views.QueueCountView.as_view()),
    re_path(VERSION + r"queued_records/?$", views.QueuedRecordsView.as_view()),
    re_path(VERSION + r"acknowledged_records/?$", views.AcknowledgeView.as_view()),
    re_path(VERSION + r"initial_dump/?$", views.InitialDumpView.as_view()),
    re_path(VERSION + r"sync_status/?$", views.SiteSyncStatusView.as_view()),
    re_path(NAMED_VERSION + r"site/?$", views.SiteInfoView.as_view()),
    # The mSupply sync API document has `user` in its v1 section too.
    re_path(VERSION + r"user/?$", views.UserView.as_view()),
    re_path(r"^sync/v1/schema/?$", views.SchemaView.as_view()),
    re_path(r"^api/v4/patient/?$", lookups.PatientView.as_view()),
    re_path(r"^api/v4/patient_history/?$", lookups.PatientHistoryView.as_view()),
    re_path(r"^api/v4/prescriber/?$", lookups.PrescriberView.as_view()),
    re_path(r"^api/v4/name_store_join/?$", lookups.NameStoreJoinView.as_view()),
    re_path(r"^health/?$", views.HealthView.as_view()),
    re_path(r"^sync/status/?$", views.StatusView.as_view()),
    # Table sync (docs/tables-api.md); `/sync` is the older name of the push.
    re_path(r"^sync/push/?$", tables.TablePushView.as_view()),
    re_path(r"^sync/?$", tables.LegacyTablePushView.as_view()),
    re_path(r"^sync/pull/?$", tables.TablePullView.as_view()),
    # Settings documents (docs/settings-api.md).
    re_path(r"^api/v1/sync/update/?$", settingsdocs.SettingsUpdateView.as_view()),
    # Scheduled imports (docs/imports.md), with API keys.
    re_path(r"^api/sync/schedules/?$", schedule_views.SchedulesView.as_view()),
    re_path(r"^api/sync/schedules/(?P<schedule_id>[0-9]+)/?$", schedule_views.ScheduleView.as_view()),
    re_path(
        r"^api/sync/schedules/(?P<schedule_id>[0-9]+)/sync/?$", schedule_views.ScheduleSyncView.as_view()
    ),
    re_path(
        r"^api/sync/schedules/(?P<schedule_id>[0-9]+)/history/?$",
        schedule_views.ScheduleHistoryView.as_view(),
    ),
    # The OpenAPI schema of all of the above (apps/api/openapi.py) and its browsable page.
    path("api/schema/", SpectacularAPIView.as_view(), name="openapi-schema"),
    path("api/schema/docs/", SpectacularSwaggerView.as_view(url_name="openapi-schema"), name="openapi-docs"),
]
