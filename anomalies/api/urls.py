from django.urls import path

from . import views

urlpatterns = [
    path("scans/", views.ScanListCreateView.as_view(), name="api-scans"),
    path("scans/<uuid:pk>/", views.ScanDetailView.as_view(), name="api-scan"),
    path("scans/<uuid:pk>/entries/", views.ScanEntriesView.as_view(), name="api-scan-entries"),
    path("scans/<uuid:pk>/catalogue.<str:fmt>", views.ScanCatalogueView.as_view(), name="api-scan-catalogue"),
    path("anomalies/<int:pk>/to-queue/", views.EntryToQueueView.as_view(), name="api-anomaly-to-queue"),
]
