from django.urls import path

from . import views

urlpatterns = [
    path("browse/", views.browse, name="browse"),
    path("cutouts/<int:cutout_id>/", views.cutout_page, name="cutout-page"),
]
