"""Review rounds, defined from what the database can see.

Lynx AI keeps no history of a draft's status or content, so the portal reads
rounds off its own decision trail:

- A draft's first decision is in round 1.
- A round ends with a decision that moves the draft out of `submitted` (a
  rejection, or the approval that completes it). If the draft is submitted
  again, its next decision starts the next round.
- A round also ends when the draft's content changes while it is submitted:
  approvals are of what the reviewers saw, so those of an earlier content
  stop counting and the next decision starts the next round.

Only the current round's approvals count, and each reviewer may approve once
per round (a unique index on draft, reviewer and round). What the database
cannot see, e.g. a draft withdrawn to `draft` and submitted again unchanged
between two decisions, does not start a round.
"""

from dataclasses import dataclass

from storage.choices import DraftStatus


@dataclass(frozen=True)
class LastDecision:
    """The newest decision on a draft, as far as rounds are concerned."""

    round: int
    to_status: str
    fingerprint: str


def next_round(*, status: str, fingerprint: str, last: LastDecision | None) -> int:
    """The round a decision on the draft, made now, belongs to."""
    if last is None:
        return 1
    return (
        last.round + 1
        if round_ended(status=status, fingerprint=fingerprint, last=last)
        else last.round
    )


def round_ended(*, status: str, fingerprint: str, last: LastDecision | None) -> bool:
    """Whether the last decision's round is over for a draft that is `status` with this content.

    Over for a draft back in review after a decision that took it out, or whose
    content changed since; a draft out of review stays in its last round.
    """
    if last is None or status != DraftStatus.SUBMITTED:
        return False
    return last.to_status != DraftStatus.SUBMITTED or last.fingerprint != fingerprint
