"""What every action of the portal reports, whatever its domain.

An action either refuses as a whole (`ActionRefused`: no permission, bad input,
too many objects at once) and changes nothing, or goes through object by object
and says, per object, what it did or why it left that object alone (`Outcome`).
Admin screens and commands turn the first into a message or a 403 and list the
second, so a refusal reads the same wherever it comes from.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Each action locks the rows it changes until the request ends: keep that bounded.
MOST_AT_ONCE = 100


class ActionRefused(Exception):
    """The rules refuse the whole action; the message is written for the person who asked.

    `field` names the form field at fault, if one is; `forbidden` marks a person
    who may not take this action at all (the admin answers 403).
    """

    def __init__(self, message: str, *, field: str = "", forbidden: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.forbidden = forbidden


@dataclass(frozen=True)
class Outcome:
    """What an action does (or would do) to one object, or why it leaves the object alone.

    `token` stands for what the person was shown of the object (e.g. a
    fingerprint of its content): the confirmation page posts it back, and an
    action that finds a different one leaves the object alone as `stale`, so
    that nobody acts on something other than what they saw.
    """

    subject: Any
    skipped_because: str = ""
    token: str = ""
    stale: bool = False

    @property
    def changes(self) -> bool:
        return not self.skipped_because

    @property
    def effect(self) -> str:
        if self.skipped_because:
            return f"skipped: {self.skipped_because}"
        return self.change()

    def change(self) -> str:
        """What the action does to the subject, in words (subclasses)."""
        raise NotImplementedError


def at_most(ids: Sequence, *, noun: str) -> list:
    """The ids of one action, refused when there are more than MOST_AT_ONCE of them.

    A queryset is sliced, not read whole, so selecting every row of a big list
    costs one bounded query.
    """
    bounded = list(ids[: MOST_AT_ONCE + 1])
    if len(bounded) > MOST_AT_ONCE:
        raise ActionRefused(f"Choose at most {MOST_AT_ONCE} {noun} at a time.")
    return bounded
