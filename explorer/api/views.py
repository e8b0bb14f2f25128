"""The data browser's API: filtered, sorted, paginated cutouts and bulk actions on a selection."""

from drf_spectacular.utils import extend_schema
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import IsAstronomer
from explorer import selectors, services

from .serializers import BrowseQuerySerializer, BulkActionSerializer, BulkResultSerializer, CutoutCardSerializer


class BrowsePagination(PageNumberPagination):
    page_size = 48
    page_size_query_param = "page_size"
    max_page_size = 200


class BrowseCutoutsView(APIView):
    permission_classes = [IsAstronomer]  # labels, catalogue names and scores are for astronomers
    pagination_class = BrowsePagination

    @extend_schema(
        parameters=[BrowseQuerySerializer],
        responses=CutoutCardSerializer(many=True),
        summary="Cutouts filtered by survey, subject set, label, consensus, retirement, complexity, "
        "classifier score and uncertainty, synthetic flag and tags; sorted and paginated",
    )
    def get(self, request):
        query = BrowseQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.cutout_browse(filters=query.to_filters())
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(CutoutCardSerializer(selectors.cutout_cards(page), many=True).data)


class BrowseBulkView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        request=BulkActionSerializer,
        responses=BulkResultSerializer,
        summary="One action on selected cutouts (add to a workflow's queue, set priority, retire), all or nothing",
    )
    def post(self, request):
        payload = BulkActionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        result = services.cutouts_bulk_action(
            action=data["action"],
            cutout_ids=data["cutouts"],
            workflow_id=data.get("workflow"),
            priority=data.get("priority"),
        )
        return Response(BulkResultSerializer(result).data)
