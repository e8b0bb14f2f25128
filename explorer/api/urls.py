from django.urls import path

from . import views

urlpatterns = [
    path("browse/cutouts/", views.BrowseCutoutsView.as_view(), name="api-browse-cutouts"),
    path("browse/cutouts/bulk/", views.BrowseBulkView.as_view(), name="api-browse-bulk"),
]
