"""Production settings pass Django's deployment check; every response carries the CSP."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "rgzplatform.settings.production",
    "DJANGO_SECRET_KEY": "a-production-key-long-and-random-enough-Zx8#Qm2$Lp9&Vt4*Rk7!Hn3^Wd6",
    "DJANGO_ALLOWED_HOSTS": "rgz.example.org",
}


def check_deploy(**overrides) -> subprocess.CompletedProcess:
    # As a deployment would run it: without the browser tests' DJANGO_ALLOW_ASYNC_UNSAFE.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(PRODUCTION, **overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_with_production_settings_has_no_warnings():
    result = check_deploy()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_a_plain_http_intranet_turns_the_https_parts_off_by_environment():
    result = check_deploy(
        DJANGO_SECURE_SSL_REDIRECT="false", DJANGO_SECURE_HSTS_SECONDS="0", DJANGO_SECURE_COOKIES="false"
    )
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr + result.stdout


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/api/workflows/", "/api/docs/"])
def test_every_response_carries_the_content_security_policy(client, url):
    policy = client.get(url)["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "unsafe-inline" not in policy
