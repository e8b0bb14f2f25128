"""Folders the platform writes into, made by the process that first uses them: the settings only
name them, so importing the settings has no side effects."""

from pathlib import Path

SQLITE_ENGINE = "django.db.backends.sqlite3"


def sqlite_folders_create(databases: dict) -> None:
    """The folder of each SQLite database file and of its test copy (the embedded default lives
    under ``RGZ_VAR_DIR``); SQLite makes the file but not its folder."""
    for database in databases.values():
        if database.get("ENGINE") != SQLITE_ENGINE:
            continue
        for name in (database.get("NAME"), (database.get("TEST") or {}).get("NAME")):
            if name and str(name) != ":memory:" and not str(name).startswith("file:"):
                Path(name).parent.mkdir(parents=True, exist_ok=True)


def broker_folders_create(transport_options: dict) -> None:
    """The file broker's message folders (kombu's filesystem transport makes neither)."""
    for key in ("data_folder_in", "data_folder_out"):
        if transport_options.get(key):
            Path(transport_options[key]).mkdir(parents=True, exist_ok=True)
