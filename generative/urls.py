from django.urls import path

from . import views

urlpatterns = [
    path("generative/", views.registry, name="generative"),
    path("generative/versions/<int:version_id>/", views.version_page, name="generative-version"),
    path("generative/compare/", views.compare, name="generative-compare"),
    path("generative/gallery/<int:survey_id>/", views.gallery, name="generative-gallery"),
]
