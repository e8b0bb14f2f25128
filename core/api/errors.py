"""Map the domain error to a clear 4xx; everything else goes through DRF's own handler."""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError

# Django raises these while reading a body past DATA_UPLOAD_MAX_* (a 400 HTML page by default).
TOO_LARGE = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        body = {"detail": exc.message, "code": exc.code}
        if exc.field:
            body["field"] = exc.field
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            body["retry_after"] = retry_after
        response = Response(body, status=exc.status_code)
        if retry_after:
            response["Retry-After"] = str(retry_after)
        return response
    if isinstance(exc, TOO_LARGE):
        return Response({"detail": f"the request is too large: {exc}", "code": "too_large"}, status=413)
    if isinstance(exc, OverflowError):  # an id or number past what the database stores
        return Response({"detail": "a number in the request is out of range", "code": "invalid"}, status=400)
    return drf_exception_handler(exc, context)
