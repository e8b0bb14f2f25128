"""Cutout files were named after the source (``223473_26809_2_gendre-1a2b3c4d.png``), and their
public media URLs gave volunteers the catalogue name, which for the demo survey carries the label
index. Rename each cutout's files to a random name.

Not atomic: each cutout is linked under its new names, its row updated, then its old names
removed, so an interruption leaves at most one cutout with an extra link, never a row pointing
at a missing file; running it again continues where it stopped.
"""

import os
import re
import shutil
import uuid

from django.core.files.storage import default_storage
from django.db import migrations

NEUTRAL = re.compile(r"^[0-9a-f]{32}$")
FIELDS = (("source_file", "source"), ("image", "png"), ("pixels", "pixels"))


def _link(old_path: str, new_path: str) -> None:
    os.makedirs(os.path.dirname(new_path), exist_ok=True)
    try:
        os.link(old_path, new_path)
    except OSError:
        shutil.copy2(old_path, new_path)


def rename(apps, schema_editor):
    Cutout = apps.get_model("annotations", "Cutout")
    try:
        default_storage.path("")
    except NotImplementedError:
        return  # storage without local paths: nothing this migration can rename
    for cutout in Cutout.objects.only("pk", "survey_id", *(f for f, _ in FIELDS)).iterator():
        names = {field: getattr(cutout, field).name for field, _ in FIELDS}
        if all(NEUTRAL.match(os.path.splitext(os.path.basename(n))[0]) for n in names.values() if n):
            continue
        token = uuid.uuid4().hex
        moves, updates = [], {}
        for field, folder in FIELDS:
            old = names[field]
            if not old:
                continue
            extension = os.path.splitext(old)[1]
            new = f"cutouts/{folder}/{cutout.survey_id}/{token}{extension}"
            old_path, new_path = default_storage.path(old), default_storage.path(new)
            if os.path.exists(old_path):
                _link(old_path, new_path)
                moves.append(old_path)
            updates[field] = new
        Cutout.objects.filter(pk=cutout.pk).update(**updates)
        for old_path in moves:
            os.remove(old_path)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("annotations", "0004_repair_workflow_current_versions")]
    operations = [migrations.RunPython(rename, migrations.RunPython.noop, atomic=False)]
