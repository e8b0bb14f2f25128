from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("classify/<int:workflow_id>/", views.classify, name="classify-workflow"),
    path("classify/", views.home, name="classify"),
    path("classify/recent/", views.recent_classifications, name="recent-classifications"),
    path("accounts/signup/", views.sign_up, name="signup"),
    path("desk/", views.astronomer_desk, name="desk"),
    path("workflows/<int:workflow_id>/retirement/", views.workflow_retirement, name="workflow-retirement"),
    path("workflows/<int:workflow_id>/sources/", views.workflow_sources, name="workflow-sources"),
]
