import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Start a Celery worker and the web app together (what `make run` does), load the demo survey "
        "through the worker, and stop both on Ctrl-C."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-demo", action="store_true", help="do not load the demo survey")

    def handle(self, *args, host, port, no_demo, **options):
        # A SIGTERM (a service manager, `timeout`, `kill`) stops both children as Ctrl-C does;
        # Python's default would end this process at once and leave the worker running.
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
        beat_schedule = settings.VAR_DIR / "celerybeat-schedule"
        beat_schedule.parent.mkdir(parents=True, exist_ok=True)
        base = [sys.executable]
        children = {
            "worker": subprocess.Popen(
                base
                + [
                    "-m",
                    "celery",
                    "-A",
                    "rgzplatform",
                    "worker",
                    "--loglevel",
                    "WARNING",
                    "--concurrency",
                    "2",
                    # Celery beat inside the worker: scheduled Zooniverse pulls (one process is enough here).
                    "--beat",
                    "--schedule",
                    str(beat_schedule),
                    "-Q",
                    # the default queue and `training` (classifier training and scoring; GPU workers
                    # elsewhere may take `training` alone)
                    f"{settings.CELERY_TASK_DEFAULT_QUEUE},training",
                ],
            ),
            "web": subprocess.Popen(base + ["manage.py", "runserver", f"{host}:{port}", "--noreload"]),
        }
        try:
            if not no_demo:
                call_command("ingest_demo")
            self.stdout.write(self.style.SUCCESS(f"rgzplatform is running at http://{host}:{port}/ (Ctrl-C stops it)"))
            while True:
                for name, child in children.items():
                    if child.poll() is not None:
                        time.sleep(1.0)  # a Ctrl-C reaches the children too: let ours arrive first
                        raise CommandError(f"the {name} process exited (code {child.returncode}); stopping")
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.stdout.write("stopping the web app and the worker")
        finally:
            for child in children.values():
                if child.poll() is None:
                    child.terminate()
            for child in children.values():
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt
