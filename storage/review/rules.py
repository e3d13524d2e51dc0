"""Approval rules: how many distinct approvals a draft needs, and from whom.

The default rule is today's dual control: a high-risk draft needs
LYNX_HIGH_RISK_APPROVALS approvals, any other draft one. A tenant's rules
(storage.review.models.ApprovalRule) add to it: every rule whose type and risk
match applies, and for payments an amount rule applies from its amount up in
its currency. A draft needs the most approvals any applicable rule asks for,
and a member of each group they name among its approvers.

A payment whose amount or currency the rules cannot read (missing, malformed,
or a currency none of the amount rules is written in) gets every amount rule
of its type and risk: the strictest outcome, and the page says why.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from django.conf import settings
from django.contrib.auth.models import Group
from django.db.models import QuerySet, TextField
from django.db.models.expressions import RawSQL

from storage.choices import RiskLevel
from storage.models import ApprovalRule, Draft
from storage.review.content import payment_terms
from storage.rows import parse_json_rows, rows_from_dicts, tenant_rows


@dataclass(frozen=True)
class RequiredGroup:
    id: int
    name: str


@dataclass(frozen=True)
class Requirement:
    """What a draft needs before it is approved, and which rules say so."""

    approvals: int
    groups: tuple[RequiredGroup, ...]
    rules: tuple[str, ...]  # each applicable rule, described
    names: tuple[str, ...] = ()  # their names, for a short mention
    unreadable: str = ""  # why the amount rules could not read the payment, if they could not

    @property
    def explanation(self) -> str:
        """Which rules apply, and why the strictest did if the amount could not be read."""
        text = "; ".join(self.rules)
        if self.unreadable:
            text += (
                f". {self.unreadable[0].upper()}{self.unreadable[1:]}: every amount rule applies"
            )
        return text


def tenant_rules(*, tenant_id: str) -> list[ApprovalRule]:
    """A tenant's approval rules with their groups, in one query (inside a tenant context)."""
    return list(tenant_rows(ApprovalRule, tenant_id=tenant_id).select_related("required_group"))


# What `with_tenant_rules` annotates: the rules as JSON text, from `portal_tenant_rules`.
RULES_JSON = "tenant_rules_json"


def with_tenant_rules(*, drafts: QuerySet, tenant_id: str) -> QuerySet:
    """The drafts, each carrying its tenant's approval rules (`rules_read_with`): read by the
    drafts' own statement instead of in a query of their own, through `portal_tenant_rules`
    (migration 0023), a function whose plan PostgreSQL keeps. A subquery, so that it runs once
    for the statement (an InitPlan): called in the select list, it ran once per draft."""
    rules = RawSQL("(SELECT portal_tenant_rules(%s))", [tenant_id], output_field=TextField())
    return drafts.annotate(**{RULES_JSON: rules})


def rules_read_with(*, draft: Draft) -> list[ApprovalRule] | None:
    """The rules `with_tenant_rules` read with `draft`, as `tenant_rules` gives them; None if
    it was read without."""
    found = getattr(draft, RULES_JSON, None)
    return None if found is None else rules_from_dicts(found=parse_json_rows(found=found))


def rules_from_dicts(*, found: list[dict]) -> list[ApprovalRule]:
    """The rules `portal_tenant_rules` read, parsed (`parse_json_rows`), with their groups."""
    rules = rows_from_dicts(model=ApprovalRule, found=found)
    for rule, item in zip(rules, found, strict=True):
        if rule.required_group_id:  # what select_related("required_group") would have read
            rule.required_group = Group(pk=rule.required_group_id, name=item["group_name"])
    return rules


def requirement_for(*, draft: Draft, rules: Sequence[ApprovalRule]) -> Requirement:
    """The approvals `draft` needs under the default rule and the tenant's `rules`."""
    matching = [
        rule
        for rule in rules
        if rule.draft_type in (None, "", draft.draft_type)
        and rule.risk_level in (None, "", draft.risk_level)
    ]
    applied = [rule for rule in matching if rule.min_amount is None]
    by_amount = [rule for rule in matching if rule.min_amount is not None]
    unreadable = ""
    if by_amount:
        terms = payment_terms(payload=draft.payload)
        unreadable = terms.problem
        if not unreadable and terms.currency not in {rule.currency for rule in by_amount}:
            unreadable = f"no amount rule is written in {terms.currency}"
        applied += (
            by_amount
            if unreadable
            else [
                r
                for r in by_amount
                if r.currency == terms.currency and terms.amount >= r.min_amount
            ]
        )
    default = settings.LYNX_HIGH_RISK_APPROVALS if draft.risk_level == RiskLevel.HIGH else 1
    approvals = max([default, *(rule.approvals for rule in applied)])
    described = [describe(rule) for rule in applied]
    names = [rule.name for rule in applied]
    if default == approvals or not applied:
        described.insert(0, _describe_default(draft, default))
        names.insert(0, described[0].split(":")[0])
    return Requirement(
        approvals=approvals,
        groups=tuple(_groups(applied)),
        rules=tuple(described),
        names=tuple(names),
        unreadable=unreadable,
    )


def describe(rule: ApprovalRule) -> str:
    """e.g. “Large payments: 2 approvals, one from Senior reviewers”."""
    text = f"{rule.name}: {_approvals(rule.approvals)}"
    if rule.required_group_id:
        text += f", one from {rule.required_group.name}"
    return text


def _describe_default(draft: Draft, approvals: int) -> str:
    if draft.risk_level == RiskLevel.HIGH:
        return f"Default for high risk: {_approvals(approvals)}"
    return f"Default: {_approvals(approvals)}"


def _approvals(count: int) -> str:
    return f"{count} {_plural('approval', count)}"


def _plural(noun: str, count: int) -> str:
    return noun if count == 1 else f"{noun}s"


def _groups(rules: Iterable[ApprovalRule]) -> list[RequiredGroup]:
    groups = {
        rule.required_group_id: rule.required_group for rule in rules if rule.required_group_id
    }
    return [RequiredGroup(group.pk, group.name) for group in groups.values()]


@dataclass(frozen=True)
class Progress:
    """A draft's approvals in its current round, measured against its requirement."""

    requirement: Requirement
    approvers: tuple[str, ...] = ()  # usernames, oldest approval first
    approver_groups: frozenset[int] = frozenset()  # the groups they are in

    @property
    def approvals(self) -> int:
        return len(self.approvers)

    @property
    def missing_groups(self) -> tuple[RequiredGroup, ...]:
        return tuple(g for g in self.requirement.groups if g.id not in self.approver_groups)

    @property
    def complete(self) -> bool:
        return self.approvals >= self.requirement.approvals and not self.missing_groups

    @property
    def count(self) -> str:
        """e.g. “1/2: acme-reviewer”."""
        text = f"{self.approvals}/{self.requirement.approvals}"
        return f"{text}: {', '.join(self.approvers)}" if self.approvers else text

    @property
    def still_needed(self) -> str:
        """e.g. “still needs one from Senior reviewers”, or "" when complete."""
        if self.complete:
            return ""
        missing = self.missing_groups
        needs = [f"one from {group.name}" for group in missing]
        others = self.requirement.approvals - self.approvals - len(missing)
        if others > 0:
            needs.append(
                f"{others} more" if missing else f"{others} more {_plural('approval', others)}"
            )
        return "still needs " + " and ".join(needs)

    @property
    def summary(self) -> str:
        """e.g. “1 of 2 approvals; still needs one from Senior reviewers”."""
        text = f"{self.approvals} of {_approvals(self.requirement.approvals)}"
        return f"{text}; {self.still_needed}" if self.still_needed else text

    def with_approval(self, *, username: str, group_ids: Iterable[int]) -> "Progress":
        return replace(
            self,
            approvers=(*self.approvers, username),
            approver_groups=self.approver_groups | frozenset(group_ids),
        )

    def approval_refusal(self, *, group_ids: Iterable[int]) -> str:
        """Why an approval by a member of `group_ids` cannot count now, or "".

        Each group still missing needs one of the remaining approvals: an
        approver outside them may not take the last places.
        """
        after = self.with_approval(username="", group_ids=group_ids)
        missing = after.missing_groups
        if len(missing) > max(after.requirement.approvals - after.approvals, 0):
            return "needs a member of " + " and ".join(group.name for group in missing)
        return ""
