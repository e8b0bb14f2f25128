from core.roles import is_admin, is_astronomer


def roles(request):
    user = getattr(request, "user", None)
    return {"is_astronomer": is_astronomer(user), "is_admin": is_admin(user)}
