from django.urls import path

from . import views

urlpatterns = [
    path("scans/", views.scan_list, name="scans"),
    path("scans/<uuid:scan_id>/", views.scan_detail, name="scan"),
]
