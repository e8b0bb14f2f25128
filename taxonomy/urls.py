from django.urls import path

from . import views

urlpatterns = [
    path("taxonomy/", views.curation, name="taxonomy-curation"),
    path("taxonomy/search/", views.search, name="taxonomy-search"),
]
