from django.urls import path

from . import api

urlpatterns = [
    path("jobs/<uuid:pk>/", api.JobDetailView.as_view(), name="api-job"),
]
