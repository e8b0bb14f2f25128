from django.urls import path

from . import views

urlpatterns = [
    path("generative/", views.registry, name="generative"),
    path("generative/compare/", views.compare, name="generative-compare"),
    path("generative/gallery/<int:survey_id>/", views.gallery, name="generative-gallery"),
]
