from django.urls import path

from . import views

urlpatterns = [
    path("classifiers/tasks/", views.TaskListCreateView.as_view(), name="api-classifier-tasks"),
    path("classifiers/tasks/<slug:name>/versions/", views.TaskVersionsView.as_view(), name="api-classifier-versions"),
    path("classifiers/tasks/<slug:name>/retrain/", views.RetrainView.as_view(), name="api-classifier-retrain"),
    path("classifiers/tasks/<slug:name>/rollback/", views.RollbackView.as_view(), name="api-classifier-rollback"),
    path("classifiers/versions/<int:pk>/", views.VersionDetailView.as_view(), name="api-classifier-version"),
    path("classifiers/versions/<int:pk>/promote/", views.PromoteView.as_view(), name="api-classifier-promote"),
    path("classifiers/compare/", views.CompareView.as_view(), name="api-classifier-compare"),
    path("cutouts/<int:pk>/explanation/", views.ExplanationView.as_view(), name="api-cutout-explanation"),
]
