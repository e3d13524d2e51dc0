"""Editing a tenant's approval rules: who may, and the history of every change.

Rules live under the tenant policy, and superusers belong to no tenant: every
write opens the rules' tenant context itself, so the web role writes as that
tenant and RLS still applies. Each change adds a row to the append-only
history (portal_approval_rule_changes) with who, when, and the rule before and
after, in the same transaction.
"""

from uuid import UUID

from storage.actions import ActionRefused
from storage.choices import RuleChange
from storage.models import ApprovalRule, ApprovalRuleChange, Tenant, User
from storage.roles import EDIT_RULES_PERMISSION
from storage.rows import tenant_rows
from storage.tenancy import tenant_context


def may_edit_rules(*, user: User, tenant_id: str) -> bool:
    """Superusers edit any tenant's rules; holders of the permission only their own tenant's."""
    if not (tenant_id and user.has_perm(EDIT_RULES_PERMISSION)):
        return False
    return user.is_superuser or user.tenant_id == tenant_id


def save_rule(*, user: User, tenant_id: str, rule: ApprovalRule) -> ApprovalRule:
    """Add `rule` to the tenant's rules, or change it there; the history records both."""
    _require_editor(user, tenant_id)
    with tenant_context(tenant_id):
        adding = rule._state.adding
        before = None if adding else _locked_snapshot(tenant_id, rule.pk)
        rule.tenant_id = tenant_id
        rule.save()
        _record(
            user,
            tenant_id,
            rule.pk,
            RuleChange.ADDED if adding else RuleChange.CHANGED,
            before,
            snapshot(rule),
        )
    return rule


def delete_rule(*, user: User, tenant_id: str, rule_id: UUID) -> None:
    """Delete one of the tenant's rules; the history keeps what it was."""
    _require_editor(user, tenant_id)
    with tenant_context(tenant_id):
        before = _locked_snapshot(tenant_id, rule_id)
        tenant_rows(ApprovalRule, tenant_id=tenant_id).filter(pk=rule_id).delete()
        _record(user, tenant_id, rule_id, RuleChange.DELETED, before, None)


def snapshot(rule: ApprovalRule) -> dict:
    """The rule as the history shows it: every field, the group by name."""
    return {
        "name": rule.name,
        "draft_type": rule.draft_type or None,
        "risk_level": rule.risk_level or None,
        "min_amount": None if rule.min_amount is None else f"{rule.min_amount:.2f}",
        "currency": rule.currency or None,
        "approvals": rule.approvals,
        "required_group": rule.required_group.name if rule.required_group_id else None,
    }


def _require_editor(user: User, tenant_id: str) -> None:
    if not may_edit_rules(user=user, tenant_id=tenant_id):
        raise ActionRefused("You may not edit this tenant's approval rules.", forbidden=True)
    if not Tenant.objects.filter(pk=tenant_id).exists():
        raise ActionRefused(f"There is no tenant “{tenant_id}”.")


def _locked_snapshot(tenant_id: str, rule_id) -> dict:
    rule = (
        tenant_rows(ApprovalRule, tenant_id=tenant_id)
        .select_for_update(of=("self",))
        .select_related("required_group")
        .filter(pk=rule_id)
        .first()
    )
    if rule is None:
        raise ActionRefused("This rule no longer exists.")
    return snapshot(rule)


def _record(user, tenant_id: str, rule_id, action: str, before, after) -> None:
    ApprovalRuleChange.objects.create(
        tenant_id=tenant_id,
        rule_id=rule_id,
        action=action,
        changed_by=user,
        before=before,
        after=after,
    )
