import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mlcore_imports_no_web_framework():
    """mlcore is a plain library: importing all of it loads no Django, DRF, Celery or app module."""
    probe = (
        "import sys, pkgutil, importlib, mlcore\n"
        "for m in pkgutil.walk_packages(mlcore.__path__, 'mlcore.'): importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in "
        "{'django', 'rest_framework', 'celery', 'kombu', 'annotations', 'rgzplatform'})\n"
        "print(len([n for n in sys.modules if n.startswith('mlcore.')]), bad)\n"
        "assert not bad, bad\n"
        "ssl = {'mlcore.ssl.' + m for m in ('config', 'network', 'augment', 'data', 'losses', 'loop', "
        "'checkpoint', 'estimator', 'metrics', 'uncertainty', 'plots', 'explain')}\n"
        "assert ssl <= set(sys.modules), sorted(ssl - set(sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, env={"PATH": ""})
    assert result.returncode == 0, result.stderr
    loaded, _ = result.stdout.split(" ", 1)
    assert int(loaded) >= 5  # io, render, contours, cutouts, datasets really were imported


def test_mlcore_text_imports_no_web_framework():
    """The text pipeline (spaCy) and term derivation load without Django, DRF, Celery or an app."""
    modules = ["normalise", "components", "derive", "corpus", "tagging"]
    probe = (
        "import sys, importlib\n"
        f"for m in {modules!r}: importlib.import_module('mlcore.text.' + m)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in "
        "{'django', 'rest_framework', 'celery', 'kombu', 'annotations', 'taxonomy', 'rgzplatform'})\n"
        "assert 'spacy' in sys.modules and not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, env={"PATH": ""})
    assert result.returncode == 0, result.stderr
