from django.urls import path

from . import api

urlpatterns = [
    path("jobs/recent/", api.JobRecentListView.as_view(), name="api-jobs-recent"),
    path("jobs/<uuid:pk>/cancel/", api.JobCancelView.as_view(), name="api-job-cancel"),
    path("jobs/<uuid:pk>/", api.JobDetailView.as_view(), name="api-job"),
]
