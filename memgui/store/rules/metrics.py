"""Rules for usage metrics and streaks (the arithmetic lives in ``streaks.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from memgui.store.errors import ValidationError
from memgui.store.rules import streaks
from memgui.store.rules.facts import FactRules
from memgui.store.timeutil import as_aware, local_date
from memgui.store.values import clone, deep_merge


class MetricRules(FactRules):
    """Interaction metrics and daily streaks."""

    def get_conversation_metrics(self, user_id: str) -> dict[str, Any]:
        """The metrics dict; ``{}`` for a user that does not exist."""
        return clone(self._read_doc(self._uid(user_id), "metrics") or {})

    def update_conversation_metrics(self, user_id: str, updates: dict[str, Any]) -> bool:
        """Deep-merge ``updates`` into the metrics (creating the user if needed); True."""
        uid = self._uid(user_id)
        if not isinstance(updates, dict):
            raise ValidationError(f"metrics update for {uid!r} must be a dict, not {type(updates).__name__}")
        with self._user_txn(uid, create=True) as txn:
            self._ensure_user(txn)
            txn.write("metrics", deep_merge(self._doc(txn, "metrics"), updates))
        return True

    def update_streak(self, user_id: str, now: datetime | None = None) -> dict[str, Any]:
        """Count ``now`` (default: the current time) as a day the user was active, in the user's zone.

        Returns ``{"current_streak", "longest_streak", "last_interaction"}``; ``{}`` for an unknown user,
        for whom nothing is created.
        """
        uid = self._uid(user_id)
        if now is not None and not isinstance(now, datetime):
            raise ValidationError(f"now must be a datetime, not {type(now).__name__}")
        moment = as_aware(now, self.default_zone) if now is not None else self._now()
        with self._user_txn(uid, create=False) as txn:
            if not txn.exists:
                return {}
            day = local_date(moment, self._txn_zone(txn))
            metrics = streaks.record_active_day(self._doc(txn, "metrics"), day)
            txn.write("metrics", metrics)
        return {
            "current_streak": metrics["streak_days"],
            "longest_streak": metrics["longest_streak"],
            "last_interaction": metrics["last_interaction_date"],
        }

    def get_streak(self, user_id: str, now: datetime | None = None) -> streaks.StreakInfo:
        """The streak as it stands at ``now`` in the user's zone, without writing anything."""
        uid = self._uid(user_id)
        metrics = self._read_doc(uid, "metrics") or {}
        moment = as_aware(now, self.default_zone) if now is not None else self._now()
        return streaks.streak_info(metrics, self.user_zone(uid), moment)
