from django.urls import path

from . import acquisition_views, encoder_views, similarity_views, views

urlpatterns = [
    path("classifiers/tasks/", views.TaskListCreateView.as_view(), name="api-classifier-tasks"),
    path("classifiers/tasks/<slug:name>/versions/", views.TaskVersionsView.as_view(), name="api-classifier-versions"),
    path(
        "classifiers/tasks/<slug:name>/learning-curve/",
        views.LearningCurveView.as_view(),
        name="api-classifier-learning-curve",
    ),
    path("classifiers/tasks/<slug:name>/retrain/", views.RetrainView.as_view(), name="api-classifier-retrain"),
    path("classifiers/tasks/<slug:name>/rollback/", views.RollbackView.as_view(), name="api-classifier-rollback"),
    path("classifiers/versions/<int:pk>/", views.VersionDetailView.as_view(), name="api-classifier-version"),
    path("classifiers/versions/<int:pk>/promote/", views.PromoteView.as_view(), name="api-classifier-promote"),
    path("classifiers/compare/", views.CompareView.as_view(), name="api-classifier-compare"),
    path("cutouts/<int:pk>/explanation/", views.ExplanationView.as_view(), name="api-cutout-explanation"),
    path(
        "workflows/<int:pk>/acquisition/",
        acquisition_views.WorkflowAcquisitionView.as_view(),
        name="api-workflow-acquisition",
    ),
    path(
        "workflows/<int:pk>/acquisition/rollback/",
        acquisition_views.WorkflowAcquisitionRollbackView.as_view(),
        name="api-workflow-acquisition-rollback",
    ),
    path(
        "workflows/<int:pk>/acquisition/preview/",
        acquisition_views.WorkflowAcquisitionPreviewView.as_view(),
        name="api-workflow-acquisition-preview",
    ),
    path("workflows/<int:pk>/gold/", acquisition_views.WorkflowGoldView.as_view(), name="api-workflow-gold"),
    path(
        "workflows/<int:pk>/queue-front/",
        similarity_views.SendToQueueFrontView.as_view(),
        name="api-workflow-queue-front",
    ),
    path("surveys/<int:pk>/encoder/", encoder_views.SurveyEncoderView.as_view(), name="api-survey-encoder"),
    path("cutouts/<int:pk>/similar/", similarity_views.SimilarCutoutsView.as_view(), name="api-cutout-similar"),
]
