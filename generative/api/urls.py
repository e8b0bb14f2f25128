from django.urls import path

from . import realism_views, views

urlpatterns = [
    path("generative/versions/", views.VersionListView.as_view(), name="api-generator-versions"),
    path("generative/versions/<int:pk>/", views.VersionDetailView.as_view(), name="api-generator-version"),
    path(
        "generative/versions/<int:pk>/realism/",
        realism_views.VersionRealismView.as_view(),
        name="api-generator-realism",
    ),
    path("generative/versions/<int:pk>/promote/", views.PromoteView.as_view(), name="api-generator-promote"),
    path("generative/versions/<int:pk>/evaluate/", views.EvaluateView.as_view(), name="api-generator-evaluate"),
    path("generative/surveys/<int:survey_id>/rollback/", views.RollbackView.as_view(), name="api-generator-rollback"),
    path("generative/compare/", views.CompareView.as_view(), name="api-generator-compare"),
    path("generative/train/", views.TrainView.as_view(), name="api-generator-train"),
    path("generative/generate/", views.GenerateView.as_view(), name="api-generator-generate"),
    path("generative/samples/", views.SampleListView.as_view(), name="api-generator-samples"),
    path("generative/samples/review/", views.ReviewView.as_view(), name="api-generator-review"),
]
