from django.urls import path

from . import sync_api
from .api import WorkflowExportView

urlpatterns = [
    path("workflows/<int:pk>/export/<str:kind>.csv", WorkflowExportView.as_view(), name="api-workflow-export"),
    path("zooniverse/links/", sync_api.LinkListCreateView.as_view(), name="api-zooniverse-links"),
    path("zooniverse/links/<int:pk>/", sync_api.LinkDetailView.as_view(), name="api-zooniverse-link"),
    path(
        "zooniverse/links/<int:pk>/<str:action>/",
        sync_api.LinkSyncView.as_view(),
        name="api-zooniverse-link-sync",
    ),
]
