"""The volunteer's own settings kept across browsers: whether the tutorial was seen."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.volunteer_history import tutorial_seen_get, tutorial_seen_set


class TutorialStateSerializer(serializers.Serializer):
    seen = serializers.BooleanField(help_text="the signed-in volunteer has closed the tutorial once")


class TutorialStateView(APIView):
    def get_permissions(self):
        return [IsAuthenticated()] if self.request.method == "POST" else [AllowAny()]

    @extend_schema(
        responses=TutorialStateSerializer, summary="Has this volunteer seen the tutorial (false if anonymous)"
    )
    def get(self, request):
        return Response({"seen": tutorial_seen_get(user=request.user)})

    @extend_schema(request=None, responses=TutorialStateSerializer, summary="Remember that the tutorial was seen")
    def post(self, request):
        tutorial_seen_set(user=request.user)
        return Response({"seen": True})
