"""URLs of the embedded handbook; include them under any prefix."""

from django.urls import path, re_path

from . import views

app_name = "handbook"

urlpatterns = [
    path("search/", views.SearchView.as_view(), name="search"),
    re_path(r"^(?P<path>_(?:static|images)/.*)$", views.AssetView.as_view(), name="asset"),
    re_path(r"^(?P<path>.*)$", views.PageView.as_view(), name="page"),
]
