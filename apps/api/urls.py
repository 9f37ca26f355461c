"""Routes. Every sync path answers with and without its trailing slash (real clients use both)."""

from django.urls import re_path

from . import lookups, views

VERSION = r"^sync/(?P<version>v[123])/"
NAMED_VERSION = r"^sync/(?P<version>v[23])/"  # `site` and `user` exist in v2 and v3 only

urlpatterns = [
    re_path(VERSION + r"queued_records/count/?$", views.QueueCountView.as_view()),
    re_path(VERSION + r"queued_records/?$", views.QueuedRecordsView.as_view()),
    re_path(VERSION + r"acknowledged_records/?$", views.AcknowledgeView.as_view()),
    re_path(VERSION + r"initial_dump/?$", views.InitialDumpView.as_view()),
    re_path(NAMED_VERSION + r"site/?$", views.SiteInfoView.as_view()),
    re_path(NAMED_VERSION + r"user/?$", views.UserView.as_view()),
    re_path(r"^sync/v1/schema/?$", views.SchemaView.as_view()),
    re_path(r"^api/v4/patient/?$", lookups.PatientView.as_view()),
    re_path(r"^api/v4/patient_history/?$", lookups.PatientHistoryView.as_view()),
    re_path(r"^api/v4/prescriber/?$", lookups.PrescriberView.as_view()),
    re_path(r"^api/v4/name_store_join/?$", lookups.NameStoreJoinView.as_view()),
    re_path(r"^health/?$", views.HealthView.as_view()),
    re_path(r"^sync/status/?$", views.StatusView.as_view()),
]
