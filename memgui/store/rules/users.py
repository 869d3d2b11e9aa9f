"""Rules for users and profiles: creation, listing, profile merges and field edits, rename and erase."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from memgui.store.backend import StoreSeam, UserTxn
from memgui.store.documents import Doc, DocKind, empty_doc
from memgui.store.errors import ConflictError, ValidationError
from memgui.store.ids import normalize_user_id
from memgui.store.timeutil import parse_zone, resolve_zone
from memgui.store.values import ABSENT, MISSING, check_expected, clone, deep_merge


class UserRules(StoreSeam):
    """Users and their profiles."""

    @staticmethod
    def _uid(user_id: object) -> str:
        return normalize_user_id(user_id)

    def _new_user_docs(self, txn: UserTxn, user_id: str, initial: dict[str, Any] | None) -> None:
        """Stage the five v1 files of a new user, as the older implementation created them."""
        now = self._iso_now()
        profile: Doc = {"name": user_id, "created_at": now}
        if initial:
            _check_profile_update(initial)
            profile = deep_merge(profile, initial)
        txn.write("profile", profile)
        txn.write("history", {"messages": []})
        txn.write("facts", {"categories": {}, "last_updated": now})
        txn.write("metrics", {"message_count": 0, "total_words": 0, "first_interaction": None,
                              "last_interaction": None, "interaction_dates": []})
        txn.write("memories", {"memories": {}})

    def _ensure_user(self, txn: UserTxn) -> None:
        if not txn.exists:
            self._new_user_docs(txn, txn.user_id, None)
            txn.exists = True

    def _doc(self, txn: UserTxn, kind: DocKind) -> Doc:
        """The document of ``kind`` in a transaction, or the empty one when the file is absent."""
        doc = txn.read(kind)
        return empty_doc(kind) if doc is None else doc

    def user_zone(self, user_id: str) -> tzinfo:
        """The zone the user's days are counted in: the profile's ``timezone`` or ``DEFAULT_TIMEZONE``."""
        profile = self._read_doc(self._uid(user_id), "profile") or {}
        return resolve_zone(profile.get("timezone"), self.default_zone)

    def _txn_zone(self, txn: UserTxn) -> tzinfo:
        profile = txn.read("profile") or {}
        return resolve_zone(profile.get("timezone"), self.default_zone)  # parse_zone is memoized

    # -- documented and compatible API --------------------------------------------------------------
    def create_user(self, user_id: str, initial_data: dict[str, Any] | None = None) -> bool:
        """Create a user with a profile; False (and nothing written) if the user exists."""
        uid = self._uid(user_id)
        if initial_data is not None and not isinstance(initial_data, dict):
            raise ValidationError(f"initial_data for {uid!r} must be a dict, not {type(initial_data).__name__}")
        with self._user_txn(uid, create=True) as txn:
            if txn.exists:
                return False
            self._new_user_docs(txn, uid, initial_data)
            txn.exists = True
        return True

    def get_or_create_user(self, user_id: str, name: str | None = None) -> dict[str, Any]:
        """The user's profile, creating the user (named ``name``, else the id) when new."""
        uid = self._uid(user_id)
        if name is not None and not isinstance(name, str):
            raise ValidationError(f"name for {uid!r} must be text, not {type(name).__name__}")
        profile = self._read_doc(uid, "profile") if self._has_user(uid) else None
        if profile is not None:
            return clone(profile)
        with self._user_txn(uid, create=True) as txn:
            if not txn.exists:
                self._new_user_docs(txn, uid, {"name": name} if name else None)
                txn.exists = True
            return clone(self._doc(txn, "profile"))

    def user_exists(self, user_id: str) -> bool:
        return self._has_user(self._uid(user_id))

    def get_all_users(self) -> list[str]:
        """Every user id, sorted: users in the index and users found only as folders."""
        return self._list_users()

    def get_user_profile(self, user_id: str) -> dict[str, Any]:
        """The profile; ``{}`` for a user that does not exist."""
        return clone(self._read_doc(self._uid(user_id), "profile") or {})

    def update_user_profile(self, user_id: str, updates: dict[str, Any]) -> bool:
        """Deep-merge ``updates`` into the profile (creating the user if needed); True."""
        uid = self._uid(user_id)
        if not isinstance(updates, dict):
            raise ValidationError(f"profile update for {uid!r} must be a dict, not {type(updates).__name__}")
        _check_profile_update(updates)
        with self._user_txn(uid, create=True) as txn:
            self._ensure_user(txn)
            txn.write("profile", deep_merge(self._doc(txn, "profile"), updates))
        return True

    def store_user_profile(self, user_id: str, profile: dict[str, Any]) -> bool:
        """Older name of ``update_user_profile`` (a deep merge, as before)."""
        return self.update_user_profile(user_id, profile)

    # -- field edits for the admin window ----------------------------------------------------------
    def set_profile_field(self, user_id: str, key: str, value: Any, *, expected: Any = MISSING) -> None:
        """Set one top-level profile field. With ``expected`` (the value read, or ``ABSENT``), raise
        ``ConflictError`` unless the field still holds it."""
        uid = self._uid(user_id)
        if not isinstance(key, str) or not key:
            raise ValidationError(f"profile field name for {uid!r} must be non-empty text")
        _check_profile_update({key: value})
        with self._user_txn(uid, create=False) as txn:
            if not txn.exists:
                raise ConflictError(f"user {uid!r} no longer exists")
            profile = self._doc(txn, "profile")
            check_expected(profile.get(key, ABSENT), expected, f"profile field {key!r} of {uid!r}")
            out = dict(profile)
            out[key] = clone(value)
            txn.write("profile", out)

    def delete_profile_field(self, user_id: str, key: str, *, expected: Any = MISSING) -> None:
        """Remove one top-level profile field; ``ConflictError`` if it is gone or changed."""
        uid = self._uid(user_id)
        with self._user_txn(uid, create=False) as txn:
            profile = self._doc(txn, "profile") if txn.exists else {}
            if key not in profile:
                raise ConflictError(f"profile field {key!r} of {uid!r} no longer exists")
            check_expected(profile[key], expected, f"profile field {key!r} of {uid!r}")
            txn.write("profile", {k: v for k, v in profile.items() if k != key})

    # -- moving and erasing -------------------------------------------------------------------------
    def rename_user(self, old_id: str, new_id: str) -> None:
        """Move every file of ``old_id`` to ``new_id``, which must not exist yet."""
        old, new = self._uid(old_id), self._uid(new_id)
        if old == new:
            raise ValidationError(f"cannot rename {old!r} to itself")
        if not self._has_user(old):
            raise ConflictError(f"user {old!r} does not exist")
        if self._has_user(new):
            raise ConflictError(f"cannot rename {old!r} to {new!r}: that user exists")
        self._move_user(old, new)

    def clear_user_data(self, user_id: str) -> bool:
        """Older API: erase the user; False if there is no such user."""
        uid = self._uid(user_id)
        if not self._has_user(uid):
            return False
        self._erase_user(uid)
        return True


def _check_profile_update(updates: dict[str, Any]) -> None:
    zone = updates.get("timezone")
    if zone is not None:
        if not isinstance(zone, str):
            raise ValidationError(f"profile timezone must be text, not {type(zone).__name__}")
        try:
            parse_zone(zone)
        except ValueError as exc:
            raise ValidationError(f"profile timezone: {exc}") from None

