from django.urls import path

from . import views

urlpatterns = [
    path("classifiers/", views.registry, name="classifiers"),
    path("classifiers/versions/<int:version_id>/", views.version_detail, name="classifier-version"),
    path("classifiers/compare/", views.compare, name="classifier-compare"),
    path("classifiers/explain/", views.explanation_lookup, name="classifier-explain-lookup"),
    path("classifiers/explain/<int:cutout_id>/", views.explanation_page, name="classifier-explain"),
    path("workflows/<int:workflow_id>/acquisition/", views.workflow_acquisition, name="workflow-acquisition"),
    path("surveys/<int:survey_id>/novelty/", views.novelty_gallery_page, name="survey-novelty"),
]
