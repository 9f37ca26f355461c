from django.contrib import admin
from django.urls import include, path

from apps.api import views as api_views
from apps.monitoring import views as monitoring_views

urlpatterns = [
    path("admin/health/", admin.site.admin_view(monitoring_views.health_page), name="sync_health"),
    path("admin/", admin.site.urls),
    path("metrics", monitoring_views.MetricsView.as_view(), name="metrics"),
    path("", include("apps.api.urls")),
]

handler404 = api_views.not_found
handler500 = api_views.server_error
