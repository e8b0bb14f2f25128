from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from annotations.auth_views import login_limited

urlpatterns = [
    # Sign-ins are limited (annotations.login_throttle); the admin's own login page too.
    path("admin/login/", login_limited(admin.site.login)),
    path("admin/", admin.site.urls),
    path("accounts/login/", login_limited(auth_views.LoginView.as_view()), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # the split view serves its script from a URL, not inline (Content-Security-Policy)
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("annotations.api.urls")),
    path("api/", include("jobs.urls")),
    path("api/", include("anomalies.api.urls")),
    path("api/", include("classifiers.api.urls")),
    path("api/", include("zooniverse.urls")),
    path("api/", include("taxonomy.api.urls")),
    path("api/", include("generative.api.urls")),
    path("api/", include("explorer.api.urls")),
    # Cutout files; a reverse proxy in front of gunicorn may serve MEDIA_ROOT directly instead.
    re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    path("", include("anomalies.urls")),
    path("", include("classifiers.urls")),
    path("", include("zooniverse.page_urls")),
    path("", include("taxonomy.urls")),
    path("", include("generative.urls")),
    path("", include("jobs.page_urls")),
    path("", include("explorer.urls")),
    path("", include("annotations.urls")),
]

if settings.RGZ_BENCH_LIMIT_ENDPOINTS:  # bench/queue_load.py's bare-limit pair; off unless asked for
    from annotations.bench_limit import limit_next_view, limit_store_view

    urlpatterns = [
        path("bench/limit/next/", limit_next_view, name="bench-limit-next"),
        path("bench/limit/store/", limit_store_view, name="bench-limit-store"),
        *urlpatterns,
    ]
