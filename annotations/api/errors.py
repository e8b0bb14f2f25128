"""Map the domain error to a clear 4xx; everything else goes through DRF's own handler."""

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from annotations.errors import DomainError


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
    return drf_exception_handler(exc, context)
