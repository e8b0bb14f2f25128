from django.urls import path

from . import views

urlpatterns = [
    path("tags/", views.TagListCreateView.as_view(), name="api-tags"),
    path("tags/suggest/", views.SuggestView.as_view(), name="api-tag-suggest"),
    path("tags/search/", views.SearchView.as_view(), name="api-tag-search"),
    path("tags/events/", views.EventListView.as_view(), name="api-tag-events"),
    path("tags/events/<int:pk>/undo/", views.EventUndoView.as_view(), name="api-tag-event-undo"),
    path("tags/<int:pk>/", views.TagDetailView.as_view(), name="api-tag"),
    path("tags/<int:pk>/approve/", views.TagApproveView.as_view(), name="api-tag-approve"),
    path("tags/<int:pk>/retire/", views.TagRetireView.as_view(), name="api-tag-retire"),
    path("tags/<int:pk>/rename/", views.TagRenameView.as_view(), name="api-tag-rename"),
    path("tags/<int:pk>/merge/", views.TagMergeView.as_view(), name="api-tag-merge"),
    path("tags/<int:pk>/synonym-of/", views.TagSynonymOfView.as_view(), name="api-tag-synonym-of"),
    path("tags/<int:pk>/split/", views.TagSplitView.as_view(), name="api-tag-split"),
    path("tags/<int:pk>/synonyms/", views.TagAddSynonymView.as_view(), name="api-tag-synonyms"),
    path("taxonomy/derive/", views.DeriveView.as_view(), name="api-taxonomy-derive"),
    path("taxonomy/versions/", views.VersionListCreateView.as_view(), name="api-taxonomy-versions"),
    path("taxonomy/versions/<int:number>/", views.VersionDetailView.as_view(), name="api-taxonomy-version"),
]
