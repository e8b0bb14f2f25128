from django.urls import path

from annotations.auth_views import LimitedObtainAuthToken

from . import consensus_views, cutout_views, mark_views, ranking_views, synthetic_views, views, volunteer_views

urlpatterns = [
    path("auth/token/", LimitedObtainAuthToken.as_view(), name="api-token"),
    path("queue/next/", views.QueueNextView.as_view(), name="api-queue-next"),
    path("classifications/", views.ClassificationListCreateView.as_view(), name="api-classifications"),
    path("cutouts/", cutout_views.CutoutListView.as_view(), name="api-cutouts"),
    path("cutouts/upload/", cutout_views.CutoutUploadView.as_view(), name="api-cutout-upload"),
    path("cutouts/<int:pk>/", cutout_views.CutoutDetailView.as_view(), name="api-cutout"),
    path("cutouts/<int:pk>/contours/", cutout_views.CutoutContoursView.as_view(), name="api-cutout-contours"),
    path("cutouts/<int:pk>/pixels/", cutout_views.CutoutPixelsView.as_view(), name="api-cutout-pixels"),
    path("surveys/", views.SurveyListCreateView.as_view(), name="api-surveys"),
    path(
        "surveys/<int:pk>/queue-ranking/",
        ranking_views.SurveyQueueRankingView.as_view(),
        name="api-survey-queue-ranking",
    ),
    path("workflows/", views.WorkflowListCreateView.as_view(), name="api-workflows"),
    path("workflows/<int:pk>/", views.WorkflowDetailView.as_view(), name="api-workflow"),
    path(
        "workflows/<int:pk>/synthetic-share/",
        synthetic_views.WorkflowSyntheticShareView.as_view(),
        name="api-workflow-synthetic-share",
    ),
    path("workflows/<int:pk>/retire/", views.WorkflowRetireView.as_view(), name="api-workflow-retire"),
    path(
        "workflows/<int:pk>/consensus/", consensus_views.WorkflowConsensusView.as_view(), name="api-workflow-consensus"
    ),
    path(
        "workflows/<int:pk>/marks/consensus/",
        mark_views.WorkflowMarkConsensusView.as_view(),
        name="api-workflow-mark-consensus",
    ),
    path(
        "workflows/<int:pk>/sources.<str:fmt>",
        mark_views.WorkflowSourceCatalogueView.as_view(),
        name="api-workflow-sources",
    ),
    path("workflows/<int:pk>/skill/", consensus_views.WorkflowSkillView.as_view(), name="api-workflow-skill"),
    path(
        "workflows/<int:pk>/retirement/",
        consensus_views.WorkflowRetirementView.as_view(),
        name="api-workflow-retirement",
    ),
    path(
        "workflows/<int:pk>/retirement/preview/",
        consensus_views.WorkflowRetirementPreviewView.as_view(),
        name="api-workflow-retirement-preview",
    ),
    path(
        "cutouts/<int:pk>/descriptions/",
        consensus_views.SubjectDescriptionsView.as_view(),
        name="api-cutout-descriptions",
    ),
    path("subject-status/", views.SubjectStatusListView.as_view(), name="api-subject-status"),
    path("jobs/", views.JobCreateView.as_view(), name="api-jobs"),
    path("volunteer/tutorial/", volunteer_views.TutorialStateView.as_view(), name="api-volunteer-tutorial"),
]
