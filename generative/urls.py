from django.urls import path

from . import views

urlpatterns = [
    path("generative/", views.registry, name="generative"),
    path("generative/gallery/<int:survey_id>/", views.gallery, name="generative-gallery"),
]
