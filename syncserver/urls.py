from django.contrib import admin
from django.urls import include, path

from apps.api import views as api_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("apps.api.urls")),
]

handler404 = api_views.not_found
handler500 = api_views.server_error
