"""The source tree, releases and the generated files built from them.

``sql/<module>/NN_<area>.sql`` is the source of truth. Its number says its kind:

- 10-19 state: types, tables, indexes, their grants (``if not exists``; safe to re-run);
- 20-89 replaceable: functions, views, triggers, policies (``create or replace``);
- 90-99 configuration: settings, jobs, seeded rows (idempotent calls).

``upgrades/<from>--<to>.sql`` holds the hand-written, guarded state delta between releases.
``supabase/releases.json`` (the manifest) records every release: its version, its migration
files with their sha256, and the sha256 of every source file at that release; ``pending``
names the migration of the next, unreleased version.

Generated from these (and committed):

- the pending migration: new state files, the upgrade delta, every replaceable or
  configuration file changed since the last release, the revoke sweep, the version stamp;
- ``dist/llm.sql``: installs fresh or upgrades any release, in one transaction;
- ``dist/llm-uninstall.sql``: removes everything the package created.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = ROOT / "sql"
UPGRADES_DIR = ROOT / "upgrades"
MIGRATIONS_DIR = ROOT / "supabase" / "migrations"
MANIFEST_FILE = ROOT / "supabase" / "releases.json"
CHANGELOG_FILE = ROOT / "CHANGELOG.md"
BUNDLE_FILE = ROOT / "dist" / "llm.sql"
UNINSTALL_FILE = ROOT / "dist" / "llm-uninstall.sql"

# Modules in dependency order: each builds on the ones before it.
MODULES = ("core", "conversations", "request_log", "usage", "response_cache")
# Schemas the package owns; the revoke sweep and the uninstall cover each.
SCHEMAS = ("llm", "llm_private")

SOURCE_NAME = re.compile(r"^(\d\d)_[a-z0-9_]+\.sql$")
UPGRADE_NAME = re.compile(r"^(\d+\.\d+\.\d+)--(\d+\.\d+\.\d+)\.sql$")
MIGRATION_NAME = re.compile(r"^\d{14}_[a-z0-9_]+\.sql$")

REVOKE_SWEEP = "".join(
    f"revoke execute on all functions in schema {schema} from public, anon;\n"
    for schema in SCHEMAS
)


class ReleaseError(Exception):
    """A release or generation step refused, with the reason."""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@dataclass(frozen=True)
class SourceFile:
    path: Path
    module: str
    number: int

    @property
    def rel(self) -> str:
        return self.path.relative_to(ROOT).as_posix()

    @property
    def kind(self) -> str:
        if self.number < 20:
            return "state"
        return "replaceable" if self.number < 90 else "config"

    @property
    def sql(self) -> str:
        return self.path.read_text()


def source_files(root: Path = SQL_DIR) -> list[SourceFile]:
    """Every source file in apply order within its kind: module order, then number."""
    found = []
    for directory in sorted(p for p in root.iterdir() if p.is_dir()):
        if directory.name not in MODULES:
            raise ReleaseError(f"{directory}: not a module ({', '.join(MODULES)})")
    for module in MODULES:
        for path in sorted((root / module).glob("*")):
            match = SOURCE_NAME.match(path.name)
            if not match or not 10 <= int(match.group(1)) <= 99:
                raise ReleaseError(f"{path}: source files are named NN_<area>.sql, NN from 10 to 99")
            found.append(SourceFile(path, module, int(match.group(1))))
    return found


def by_kind(files: list[SourceFile], kind: str) -> list[SourceFile]:
    return [f for f in files if f.kind == kind]


@dataclass(frozen=True)
class Upgrade:
    source: str
    target: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text()


def upgrades(directory: Path = UPGRADES_DIR) -> list[Upgrade]:
    """The upgrade steps as one chain from the first release, in order."""
    steps = {}
    for path in sorted(directory.glob("*.sql")):
        match = UPGRADE_NAME.match(path.name)
        if not match:
            raise ReleaseError(f"{path}: upgrade files are named <from>--<to>.sql")
        if match.group(1) in steps:
            raise ReleaseError(f"two upgrades start at {match.group(1)}")
        steps[match.group(1)] = Upgrade(match.group(1), match.group(2), path)
    chain = []
    current = load_manifest()["releases"][0]["version"]
    while current in steps:
        step = steps.pop(current)
        if version_key(step.target) <= version_key(step.source):
            raise ReleaseError(f"{step.path.name}: the target version must be newer")
        chain.append(step)
        current = step.target
    if steps:
        raise ReleaseError(
            "upgrades not reachable from the first release: "
            + ", ".join(s.path.name for s in steps.values()))
    return chain


# ------------------------------------------------------------------------------------------
# The manifest
# ------------------------------------------------------------------------------------------

def load_manifest(path: Path = MANIFEST_FILE) -> dict:
    return json.loads(path.read_text())


def save_manifest(manifest: dict, path: Path = MANIFEST_FILE) -> None:
    path.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")


def released_versions() -> list[str]:
    return [r["version"] for r in load_manifest()["releases"]]


def current_version() -> str:
    """The version the sources describe: the pending one, else the last release."""
    chain = upgrades()
    return chain[-1].target if chain else released_versions()[-1]


def release_migrations(version: str) -> list[str]:
    """Migration file names of one release (released or pending)."""
    manifest = load_manifest()
    for release in manifest["releases"]:
        if release["version"] == version:
            return list(release["migrations"])
    pending = manifest.get("pending")
    if pending and pending["version"] == version:
        return [pending["migration"]]
    raise ReleaseError(f"no release {version}")


def migrations_through(version: str) -> list[str]:
    """Migration file names of every release up to and including ``version``."""
    names = []
    for release in load_manifest()["releases"]:
        names += list(release["migrations"])
        if release["version"] == version:
            return names
    return names + release_migrations(version)


def source_hashes() -> dict[str, str]:
    return {f.rel: sha256(f.path) for f in source_files()}


# ------------------------------------------------------------------------------------------
# Generated SQL
# ------------------------------------------------------------------------------------------

def _section(title: str, parts: list[tuple[str, str]]) -> str:
    if not parts:
        return ""
    out = [f"\n-- ==== {title} ====\n"]
    for name, sql in parts:
        out.append(f"\n-- ---- {name} ----\n\n{sql.rstrip()}\n")
    return "".join(out)


def version_stamp(version: str) -> str:
    return (
        "\n-- ==== version ====\n\n"
        f"insert into llm.releases (version) values ('{version}') on conflict (version) do nothing;\n"
    )


def migration_text(version: str) -> str:
    """The migration of ``version`` (the pending release): only what changed since the last."""
    manifest = load_manifest()
    last = manifest["releases"][-1]
    chain = {step.target: step for step in upgrades()}
    if version not in chain or chain[version].source != last["version"]:
        raise ReleaseError(
            f"no upgrade from the last release {last['version']} to {version}: "
            f"write upgrades/{last['version']}--{version}.sql (guarded steps; it may be empty)")
    before = last["sources"]
    files = source_files()
    new_state = [f for f in by_kind(files, "state") if f.rel not in before]
    changed = [f for f in files if f.kind != "state" and before.get(f.rel) != sha256(f.path)]
    step = chain[version]
    return "".join([
        f"-- llm {version}: upgrade from {last['version']}.\n"
        "-- Generated by `make migration` from sql/ and upgrades/; do not edit.\n",
        _section("new state", [(f.rel, f.sql) for f in new_state]),
        _section("upgrade steps", [(step.path.relative_to(ROOT).as_posix(), step.sql)]),
        _section("changed definitions", [(f.rel, f.sql) for f in changed if f.kind == "replaceable"]),
        _section("changed configuration", [(f.rel, f.sql) for f in changed if f.kind == "config"]),
        "\n-- ==== revoke sweep ====\n\n" + REVOKE_SWEEP,
        version_stamp(version),
    ])


def bundle_text() -> str:
    """The whole package as one transaction: installs fresh or upgrades any release."""
    files = source_files()
    version = current_version()
    return "".join([
        f"-- llm {version}: the whole package in one file, for the Supabase SQL editor or psql.\n"
        "-- Installs it fresh, or upgrades any earlier release in place, in one transaction.\n"
        "-- Generated by `make bundle` from sql/ and upgrades/; do not edit.\n\n"
        "begin;\n",
        _section("state", [(f.rel, f.sql) for f in by_kind(files, "state")]),
        _section("upgrade steps", [(s.path.relative_to(ROOT).as_posix(), s.sql) for s in upgrades()]),
        _section("definitions", [(f.rel, f.sql) for f in by_kind(files, "replaceable")]),
        _section("configuration", [(f.rel, f.sql) for f in by_kind(files, "config")]),
        "\n-- ==== revoke sweep ====\n\n" + REVOKE_SWEEP,
        version_stamp(version),
        "\ncommit;\n",
    ])


def uninstall_text() -> str:
    manifest = load_manifest()
    names = [m for r in manifest["releases"] for m in r["migrations"]]
    if manifest.get("pending"):
        names.append(manifest["pending"]["migration"])
    versions = ", ".join(f"'{name.partition('_')[0]}'" for name in names)
    template = (ROOT / "sql" / "uninstall.sql.in").read_text()
    # the private schema first: its functions use types of schema llm
    drops = "\n".join(f"drop schema if exists {s} cascade;" for s in reversed(SCHEMAS))
    return template.replace("{{versions}}", versions).replace(
        "{{schemas}}", ", ".join(SCHEMAS)).replace("{{drop_schemas}}", drops)


# ------------------------------------------------------------------------------------------
# Commands
# ------------------------------------------------------------------------------------------

def write_migration(name: str | None = None) -> Path | None:
    """Writes (or rewrites) the pending release's migration; None when nothing is pending."""
    chain = upgrades()
    manifest = load_manifest()
    if not chain or chain[-1].target in released_versions():
        last = manifest["releases"][-1]
        if source_hashes() != last["sources"]:
            raise ReleaseError(
                f"sql/ changed since {last['version']}: write upgrades/{last['version']}--<next>.sql "
                "(guarded state steps; it may hold only a comment), then run this again")
        return None
    version = chain[-1].target
    pending = manifest.get("pending")
    if pending and pending["version"] != version:
        raise ReleaseError(f"pending migration is for {pending['version']}, upgrades end at {version}")
    if pending and (not name or pending["migration"].endswith(f"_{name}.sql")):
        file_name = pending["migration"]
    else:
        if not name or not re.fullmatch(r"[a-z0-9_]+", name):
            raise ReleaseError("NAME=<lowercase_words> names the new migration")
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d%H%M%S")
        file_name = f"{stamp}_{name}.sql"
        if pending:
            (MIGRATIONS_DIR / pending["migration"]).unlink(missing_ok=True)
    path = MIGRATIONS_DIR / file_name
    path.write_text(migration_text(version))
    manifest["pending"] = {"version": version, "migration": file_name}
    save_manifest(manifest)
    return path


def release(version: str) -> dict:
    """Freezes the pending migration as ``version`` and records it in the manifest."""
    write_migration()
    manifest = load_manifest()
    pending = manifest.get("pending")
    if not pending or pending["version"] != version:
        raise ReleaseError(
            f"nothing pending for {version}: write upgrades/<last>--{version}.sql, then `make migration`")
    if not re.search(rf"^## {re.escape(version)}\b", CHANGELOG_FILE.read_text(), re.M):
        raise ReleaseError(f"CHANGELOG.md has no section '## {version}'")
    name = pending["migration"]
    entry = {
        "version": version,
        "migrations": {name: sha256(MIGRATIONS_DIR / name)},
        "sources": source_hashes(),
    }
    manifest["releases"].append(entry)
    manifest["pending"] = None
    save_manifest(manifest)
    return entry


def write_dist() -> list[Path]:
    BUNDLE_FILE.parent.mkdir(parents=True, exist_ok=True)
    BUNDLE_FILE.write_text(bundle_text())
    UNINSTALL_FILE.write_text(uninstall_text())
    return [BUNDLE_FILE, UNINSTALL_FILE]


def check_released_migrations() -> list[str]:
    """Released migration files whose content differs from the manifest (empty when intact)."""
    problems = []
    listed = set()
    for release_entry in load_manifest()["releases"]:
        for name, digest in release_entry["migrations"].items():
            listed.add(name)
            path = MIGRATIONS_DIR / name
            if not path.exists():
                problems.append(f"{name} ({release_entry['version']}) is missing")
            elif sha256(path) != digest:
                problems.append(f"{name} ({release_entry['version']}) changed after its release")
    pending = load_manifest().get("pending")
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if not MIGRATION_NAME.match(path.name):
            problems.append(f"{path.name}: migration files are named YYYYMMDDHHMMSS_name.sql")
        elif path.name not in listed and not (pending and pending["migration"] == path.name):
            problems.append(f"{path.name} is in no release and is not the pending migration")
    return problems
