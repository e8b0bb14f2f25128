"""Query parameters read the same way by every API view: a bad one is a 400 naming it, never a 500."""

import math

from core.errors import InvalidInput

# A database id or count: what a signed 64-bit column holds.
INT_RANGE = (-(2**63), 2**63 - 1)


def bool_param(request, name):
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    if value.lower() in {"1", "true", "yes"}:
        return True
    if value.lower() in {"0", "false", "no"}:
        return False
    raise InvalidInput(f"{name} must be true or false, not {value!r}", field=name)


def int_param(request, name, required=False):
    value = request.query_params.get(name)
    if value in (None, ""):
        if required:
            raise InvalidInput(f"the {name} query parameter is required", field=name)
        return None
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"{name} must be an integer, not {value[:40]!r}", field=name)
    if not INT_RANGE[0] <= number <= INT_RANGE[1]:
        raise InvalidInput(f"{name} is out of range", field=name)
    return number


def float_param(request, name, *, what="a number"):
    """A finite number (NaN and infinities are refused); ``what`` says in the message what it means."""
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise InvalidInput(f"{name} must be {what}, not {value!r}", field=name)
    return number
