"""URLs of the site: the embedded handbook, the standalone build, sign-in, admin."""

from django.contrib import admin
from django.urls import path, re_path
from django.views.generic import RedirectView

# [embed-import-start]
from django.urls import include
# [embed-import-end]

from . import views

urlpatterns = [
    path("", RedirectView.as_view(url="/handbook/"), name="home"),
    # [embed-urls-start]
    path("handbook/", include("handbook_embed.urls")),
    # [embed-urls-end]
    re_path(r"^standalone/(?P<path>.*)$", views.StandaloneView.as_view(), name="standalone"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
