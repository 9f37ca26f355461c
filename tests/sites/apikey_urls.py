"""A tiny API behind API-key authentication, so the key mechanism is tested over HTTP on its own."""

from django.http import HttpResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.api.authentication import ApiKeyAuthentication
from apps.api.renderers import json_response


class WhoAmIView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    api_key_scope = "settings"

    def get(self, request: Request) -> HttpResponse:
        owner = request.user.get_username() if request.user is not None else None
        return json_response({"key": request.auth.name, "owner": owner})


urlpatterns = [path("whoami", WhoAmIView.as_view())]
