from django.urls import path

from .api import WorkflowExportView

urlpatterns = [
    path("workflows/<int:pk>/export/<str:kind>.csv", WorkflowExportView.as_view(), name="api-workflow-export"),
]
