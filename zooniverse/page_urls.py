from django.urls import path

from . import views

urlpatterns = [path("zooniverse/", views.sync_page, name="zooniverse-sync")]
