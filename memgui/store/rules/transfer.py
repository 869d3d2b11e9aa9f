"""Moving a user in and out of the store: a lossless JSON bundle, readable Markdown and CSV, an import with a
dry-run plan and a choice for conflicts, and a verified erase.

A bundle holds every document and log of one user exactly as stored (unknown keys included), so exporting and
importing into an empty store restores the user byte for byte in meaning. Files written by ``write_export`` are
plaintext even for an encrypted store: exporting is the admin's explicit choice of where the data goes.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path
from typing import Any, Literal

from memgui.store import fileio
from memgui.store.codec import dump_json
from memgui.store.documents import SHAPE_CHECKS, USER_FILES, USER_LOGS, Doc, message_id, normalize_message
from memgui.store.errors import ConflictError, CorruptDataError, ValidationError
from memgui.store.rules import streaks
from memgui.store.rules.memories import MemoryRules
from memgui.store.timeutil import parse_timestamp
from memgui.store.values import clone

BUNDLE_FORMAT = "memgui-user-bundle"
BUNDLE_VERSION = 1
Conflict = Literal["merge", "replace", "skip"]
ExportFormat = Literal["json", "markdown", "csv"]


@dataclasses.dataclass(frozen=True)
class ImportPlan:
    """What an import does (or did): the action, one readable line per change, and counts."""

    user_id: str
    action: Literal["create", "replace", "merge", "skip"]
    changes: list[str]
    messages_added: int = 0
    facts_added: int = 0
    memories_added: int = 0
    profile_conflicts: list[str] = dataclasses.field(default_factory=list)
    applied: bool = False


@dataclasses.dataclass(frozen=True)
class EraseReport:
    """What an erase removed, and whether a check afterwards found nothing left of the user."""

    user_id: str
    removed: list[str]
    leftovers: list[str]

    @property
    def verified(self) -> bool:
        return not self.leftovers


def _sorted_by_time(messages: list[Doc], zone: Any) -> list[Doc]:
    def key(item: tuple[int, Doc]) -> tuple[float, int]:
        try:
            return parse_timestamp(item[1]["timestamp"], zone).timestamp(), item[0]
        except (KeyError, ValueError):
            return float("inf"), item[0]

    return [m for _, m in sorted(enumerate(messages), key=key)]


class TransferRules(MemoryRules):
    """Export, import and erase of whole users."""

    # -- export ---------------------------------------------------------------------------------------
    def export_user_bundle(self, user_id: str) -> dict[str, Any]:
        """Everything stored for a user, read under the user's lock so the bundle is consistent."""
        uid = self._uid(user_id)
        with self._user_txn(uid, create=False) as txn:
            if not txn.exists:
                raise ConflictError(f"user {uid!r} does not exist")
            documents = {kind: txn.read(kind) for kind in USER_FILES}
            logs = {log: txn.read_log(log) for log in USER_LOGS}
        return {
            "format": BUNDLE_FORMAT,
            "version": BUNDLE_VERSION,
            "exported_at": self._iso_now(),
            "user_id": uid,
            "documents": {kind: clone(doc) for kind, doc in documents.items() if doc is not None},
            "logs": {log: clone(entries) for log, entries in logs.items()},
        }

    def export_markdown(self, user_id: str) -> str:
        """A readable account of a user: profile, facts, memories, then the whole conversation by day."""
        uid = self._uid(user_id)
        bundle = self.export_user_bundle(uid)
        docs = bundle["documents"]
        zone = self.user_zone(uid)
        profile = docs.get("profile", {})
        messages = self._bundle_messages(bundle)
        lines = [f"# {profile.get('name') or uid} ({uid})", "",
                 f"Exported {bundle['exported_at']} · {len(messages)} messages · times in {zone}", "", "## Profile", ""]
        lines += [f"- **{key}**: {json.dumps(value, ensure_ascii=False)}" for key, value in profile.items()]
        lines += ["", "## Facts", ""]
        for record in self.get_fact_records(uid):
            origin = f" (added {record['added_at'] or 'before provenance was kept'} by {record['added_by'] or '?'})"
            lines.append(f"- [{record['category']}] {record['text']}{origin}")
        lines += ["", "## Permanent memories", ""]
        for kind, entries in docs.get("memories", {}).get("memories", {}).items():
            lines += [f"- [{kind}] {entry.get('content')}" for entry in entries]
        lines += ["", "## Conversation"]
        day = None
        for msg in messages:
            try:
                moment = parse_timestamp(msg["timestamp"], self.default_zone).astimezone(zone)
            except ValueError:
                moment = None
            this_day = moment.date().isoformat() if moment else "unknown date"
            if this_day != day:
                lines += ["", f"### {this_day}", ""]
                day = this_day
            who = {"user": "User", "assistant": "Assistant", "system": "System"}[msg["role"]]
            when = moment.strftime("%H:%M") if moment else msg["timestamp"]
            text = msg["content"].replace("\n", "\n  ")
            lines.append(f"- **{who}** {when} — {text}")
        return "\n".join(lines) + "\n"

    def export_csv(self, user_id: str) -> str:
        """The whole conversation as CSV: id, timestamp, local time, role, words, content, metadata."""
        uid = self._uid(user_id)
        zone = self.user_zone(uid)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["id", "timestamp", "local_time", "role", "word_count", "content", "metadata"])
        for msg in self._bundle_messages(self.export_user_bundle(uid)):
            try:
                local = parse_timestamp(msg["timestamp"], self.default_zone).astimezone(zone).isoformat()
            except ValueError:
                local = ""
            writer.writerow([msg["id"], msg["timestamp"], local, msg["role"], msg["word_count"], msg["content"],
                             json.dumps(msg["metadata"], ensure_ascii=False)])
        return out.getvalue()

    def write_export(self, user_id: str, path: str | Path, fmt: ExportFormat = "json") -> Path:
        """Write an export of a user to ``path`` atomically; returns the path."""
        if fmt == "json":
            data = dump_json(self.export_user_bundle(user_id), str(path), indent=2) + b"\n"
        elif fmt == "markdown":
            data = self.export_markdown(user_id).encode("utf-8")
        elif fmt == "csv":
            data = self.export_csv(user_id).encode("utf-8")
        else:
            raise ValidationError(f"export format must be json, markdown or csv, not {fmt!r}")
        target = Path(path)
        fileio.atomic_write(target, data, durable=True)
        return target

    @staticmethod
    def _bundle_messages(bundle: dict[str, Any]) -> list[Doc]:
        archived = bundle["logs"].get("archive", [])
        seen = {message_id(m) for m in archived}
        recent = bundle["documents"].get("history", {}).get("messages", [])
        return [normalize_message(m) for m in [*archived, *(m for m in recent if message_id(m) not in seen)]]

    # -- import ---------------------------------------------------------------------------------------
    def read_bundle(self, path: str | Path) -> dict[str, Any]:
        """A bundle file, checked; ``CorruptDataError`` or ``ValidationError`` naming what is wrong."""
        from memgui.store.codec import parse_json

        target = Path(path)
        data = fileio.read_bytes(target)
        if data is None:
            raise ValidationError(f"{target}: no such file")
        bundle = parse_json(data, target)
        self._check_bundle(bundle, str(target))
        return bundle  # type: ignore[no-any-return]

    @staticmethod
    def _check_bundle(bundle: Any, where: str) -> None:
        if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
            raise ValidationError(f"{where}: not a memgui user bundle (format {BUNDLE_FORMAT!r} expected)")
        if bundle.get("version") != BUNDLE_VERSION:
            raise ValidationError(f"{where}: bundle version {bundle.get('version')!r} is not supported")
        if not isinstance(bundle.get("user_id"), str):
            raise ValidationError(f"{where}: bundle has no user_id")
        documents, logs = bundle.get("documents"), bundle.get("logs")
        if not isinstance(documents, dict) or not isinstance(logs, dict):
            raise ValidationError(f"{where}: bundle needs 'documents' and 'logs' objects")
        for kind, doc in documents.items():
            if kind not in SHAPE_CHECKS:
                raise ValidationError(f"{where}: unknown document {kind!r}")
            try:
                SHAPE_CHECKS[kind](Path(f"{where}#{kind}"), doc)
            except CorruptDataError as exc:
                raise ValidationError(str(exc)) from None
        for log, entries in logs.items():
            if log not in USER_LOGS or not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                raise ValidationError(f"{where}: log {log!r} must be a list of objects")

    def import_user_bundle(self, bundle: dict[str, Any], *, user_id: str | None = None,
                           on_conflict: Conflict = "merge", dry_run: bool = True) -> ImportPlan:
        """Import a bundle as ``user_id`` (default: the bundle's). A new user is created exactly as exported.
        For an existing one ``on_conflict`` decides: ``merge`` adds what is missing (messages by id, in time
        order; facts; memories; profile fields, keeping the existing value where both differ), ``replace``
        erases the user first, ``skip`` leaves them alone. ``dry_run`` only returns the plan."""
        self._check_bundle(bundle, "bundle")
        if on_conflict not in ("merge", "replace", "skip"):
            raise ValidationError(f"on_conflict must be merge, replace or skip, not {on_conflict!r}")
        uid = self._uid(user_id if user_id is not None else bundle["user_id"])
        messages = self._bundle_messages(bundle)
        exists = self._has_user(uid)
        if not exists or on_conflict == "replace":
            facts = sum(len(v) for v in bundle["documents"].get("facts", {}).get("categories", {}).values())
            action: Literal["create", "replace"] = "replace" if exists else "create"
            plan = ImportPlan(uid, action, [f"{action} user {uid!r} with {len(messages)} messages and {facts} facts"],
                              messages_added=len(messages), facts_added=facts)
            if not dry_run:
                if exists:
                    self.erase_user(uid)
                with self._user_txn(uid, create=True) as txn:
                    for kind, doc in bundle["documents"].items():
                        txn.write(kind, clone(doc))
                    for log, entries in bundle["logs"].items():
                        txn.replace_log(log, clone(entries))
                    txn.exists = True
            return dataclasses.replace(plan, applied=not dry_run)
        if on_conflict == "skip":
            return ImportPlan(uid, "skip", [f"skip: user {uid!r} exists and is left as it is"])
        return self._merge(uid, bundle, messages, dry_run)

    def _merge(self, uid: str, bundle: dict[str, Any], incoming: list[Doc], dry_run: bool) -> ImportPlan:
        changes: list[str] = []
        with self._user_txn(uid, create=False) as txn:
            zone = self._txn_zone(txn)
            archived, history = txn.read_log("archive"), self._doc(txn, "history")
            present = {message_id(m) for m in [*archived, *history["messages"]]}
            new_messages = [m for m in incoming if m["id"] not in present]
            if new_messages:
                changes.append(f"+ {len(new_messages)} messages, {new_messages[0]['timestamp']} to "
                               f"{new_messages[-1]['timestamp']}")
            profile, conflicts = dict(self._doc(txn, "profile")), []
            for key, value in bundle["documents"].get("profile", {}).items():
                if key not in profile:
                    profile[key] = clone(value)
                    changes.append(f"+ profile {key}: {json.dumps(value, ensure_ascii=False)[:80]}")
                elif profile[key] != value:
                    conflicts.append(key)
                    changes.append(f"= profile {key}: keeps {json.dumps(profile[key], ensure_ascii=False)[:60]} "
                                   f"(bundle: {json.dumps(value, ensure_ascii=False)[:60]})")
            facts_doc, facts_added, versions = self._merge_facts(txn, bundle, changes)
            memories_doc, memories_added = self._merge_memories(txn, bundle, changes)
            if not changes:
                changes.append(f"nothing to add: user {uid!r} already holds everything in the bundle")
            plan = ImportPlan(uid, "merge", changes, len(new_messages), facts_added, memories_added, conflicts,
                              applied=not dry_run)
            if dry_run:
                return plan
            if new_messages:
                merged = _sorted_by_time([*(normalize_message(m) for m in archived),
                                          *(normalize_message(m) for m in history["messages"]), *new_messages],
                                         self.default_zone)
                limit = self.config.MAX_MESSAGES
                keep = merged[-limit:] if limit else merged
                txn.replace_log("archive", merged[: len(merged) - len(keep)])
                txn.write("history", {**history, "messages": keep})
                metrics = streaks.recount(merged, zone, self.default_zone, self._doc(txn, "metrics"))
                metrics["message_count"] = max(metrics["message_count"],
                                               int(self._doc(txn, "metrics").get("message_count") or 0)
                                               + len(new_messages))
                txn.write("metrics", metrics)
            txn.write("profile", profile)
            if facts_added:
                txn.write("facts", facts_doc)
            if versions:
                txn.append("fact_versions", versions)
            if memories_added:
                txn.write("memories", memories_doc)
        return plan

    def _merge_facts(self, txn: Any, bundle: dict[str, Any], changes: list[str]) -> tuple[Doc, int, list[Doc]]:
        """(the merged facts doc, how many facts it adds, the version entries the target lacks)."""
        doc = self._doc(txn, "facts")
        categories = {k: list(v) for k, v in doc.get("categories", {}).items()}
        meta = {k: dict(v) for k, v in doc.get("fact_meta", {}).items()}
        source = bundle["documents"].get("facts", {})
        added = 0
        now = self._iso_now()
        for category, texts in source.get("categories", {}).items():
            for text in texts:
                if text in categories.get(category, []):
                    continue
                categories.setdefault(category, []).append(text)
                entry = dict(source.get("fact_meta", {}).get(category, {}).get(text) or {})
                entry.setdefault("added_at", now)
                entry.setdefault("added_by", "import")
                entry.update(changed_at=now, changed_by="import")
                meta.setdefault(category, {})[text] = entry
                changes.append(f"+ fact [{category}] {text}")
                added += 1
        known = {e.get("id") for e in txn.read_log("fact_versions")}
        versions = [clone(e) for e in bundle["logs"].get("fact_versions", []) if e.get("id") not in known]
        return {**doc, "categories": categories, "fact_meta": meta, "last_updated": now}, added, versions

    def _merge_memories(self, txn: Any, bundle: dict[str, Any], changes: list[str]) -> tuple[Doc, int]:
        doc = self._doc(txn, "memories")
        memories = {k: list(v) for k, v in doc.get("memories", {}).items()}
        added = 0
        for kind, entries in bundle["documents"].get("memories", {}).get("memories", {}).items():
            have = [e.get("content") for e in memories.get(kind, [])]
            for entry in entries:
                if entry.get("content") not in have:
                    memories.setdefault(kind, []).append(clone(entry))
                    changes.append(f"+ memory [{kind}] {str(entry.get('content'))[:80]}")
                    added += 1
        return {**doc, "memories": memories}, added

    # -- erase ----------------------------------------------------------------------------------------
    def erase_user(self, user_id: str) -> EraseReport:
        """Remove every byte of a user (history, archive, versions, backups, quarantined files, index entry),
        then check that nothing of them is left. ``ConflictError`` if there is no such user."""
        uid = self._uid(user_id)
        if not self._has_user(uid):
            raise ConflictError(f"user {uid!r} does not exist")
        removed = self._erase_user(uid)
        return EraseReport(uid, removed, self._user_traces(uid))

