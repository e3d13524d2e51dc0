"""The demo tenants and their users: who may sign in to try the portal, with what rights.

Users are described here as data (tenant, role, groups); the generator names them in the
rows it makes (creators, approvers, actors) through `tenant_username`, so both agree.
"""

import functools
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import Group

from storage.choices import DraftType, RuleChange
from storage.models import ApprovalRule, ApprovalRuleChange, Tenant, User
from storage.people import passwords
from storage.review.rule_editing import snapshot
from storage.roles import AUDITORS, REVIEWERS, SETTLEMENT_OPERATORS, TENANT_ADMINS, ensure_groups

TENANTS = {"acme": "Acme Corp", "globex": "Globex"}
ADMIN = "admin"
# A demo group without permissions of its own: the approval rule below names it.
SENIOR_REVIEWERS = "Senior reviewers"
# Each tenant's demo roles and the groups their users are in (storage/roles.py says what
# the groups may do). Two reviewers, so that dual control can be tried by hand, and a
# senior one, whom the large payments rule asks for.
TENANT_ROLES = {
    "reviewer": (REVIEWERS,),
    "reviewer2": (REVIEWERS,),
    "senior": (REVIEWERS, SENIOR_REVIEWERS),
    "auditor": (AUDITORS,),
    "operator": (SETTLEMENT_OPERATORS,),
    "admin": (TENANT_ADMINS,),
}
# Every demo tenant's approval rule, on top of the default (high risk: two approvals).
LARGE_PAYMENTS = {
    "name": "Large payments",
    "draft_type": DraftType.VPM_PAYMENT.value,
    "min_amount": Decimal("100000.00"),
    "currency": "EUR",
    "approvals": 2,
}
NAMESPACE = uuid.UUID("5f0c8f1e-2b4a-4c55-9d7e-61a3b0f4c2d8")


def tenant_username(tenant_id: str, role: str) -> str:
    """The user name of a tenant's person in a role, e.g. `acme-reviewer`."""
    return f"{tenant_id}-{role}"


@dataclass(frozen=True)
class DemoUser:
    """One demo account: its tenant (none for the superuser), its role and its groups."""

    tenant_id: str | None
    role: str
    groups: tuple[str, ...] = ()
    is_superuser: bool = False

    @property
    def username(self) -> str:
        return tenant_username(self.tenant_id, self.role) if self.tenant_id else self.role

    @property
    def email(self) -> str:
        return f"{self.username}@example.com"


USERS = (
    *(
        DemoUser(tenant_id, role, groups)
        for tenant_id in TENANTS
        for role, groups in TENANT_ROLES.items()
    ),
    DemoUser(None, ADMIN, is_superuser=True),
)


def tenant_rows() -> list[Tenant]:
    """The demo tenants, unsaved."""
    return [Tenant(tenant_id=tenant_id, name=name) for tenant_id, name in TENANTS.items()]


def ensure_users(*, password: str) -> int:
    """Create or repair the demo users and their groups, saving only what differs.

    Returns how many users were new. Password hashing is slow on purpose, so the password
    is hashed once (the demo users share the hash) and each distinct stored hash is checked
    once: a second load costs one check.
    """
    ensure_groups()
    Group.objects.get_or_create(name=SENIOR_REVIEWERS)
    groups = {group.name: group for group in Group.objects.all()}
    matches = functools.cache(lambda encoded: check_password(password, encoded))
    hashed = functools.cache(lambda: make_password(password))
    created = 0
    for demo_user in USERS:
        expected = {
            "email": demo_user.email,
            "tenant_id": demo_user.tenant_id,
            "is_staff": True,
            "is_superuser": demo_user.is_superuser,
        }
        username = demo_user.username
        user = User.objects.filter(username=username).first() or User(username=username)
        changed = [field for field, value in expected.items() if getattr(user, field) != value]
        for field in changed:
            setattr(user, field, expected[field])
        stored = user.password  # the row's stand-in: the hash is held apart (migration 0028)
        if passwords.is_held(stored):
            stored = passwords.held_hash(username=username)
        if not matches(stored):
            user.password = hashed()
            changed.append("password")
        if user._state.adding:
            user.save()
            created += 1
        elif changed:
            user.save(update_fields=changed)
        user.groups.add(*(groups[name] for name in demo_user.groups))
    return created


def ensure_approval_rules() -> int:
    """Each tenant's large payments rule, added by the superuser as the history says.

    Returns how many rules were new.
    """
    senior = Group.objects.get(name=SENIOR_REVIEWERS)
    admin = User.objects.get(username=ADMIN)
    rules = [
        ApprovalRule(
            rule_id=uuid.uuid5(NAMESPACE, f"{tenant_id}/rule/large-payments"),
            tenant_id=tenant_id,
            required_group=senior,
            **LARGE_PAYMENTS,
        )
        for tenant_id in TENANTS
    ]
    before = ApprovalRule.objects.count()
    ApprovalRule.objects.bulk_create(rules, ignore_conflicts=True)
    ApprovalRuleChange.objects.bulk_create(
        [
            ApprovalRuleChange(
                change_id=uuid.uuid5(NAMESPACE, f"{rule.rule_id}/added"),
                tenant_id=rule.tenant_id,
                rule_id=rule.rule_id,
                action=RuleChange.ADDED,
                changed_by=admin,
                after=snapshot(rule),
            )
            for rule in rules
        ],
        ignore_conflicts=True,
    )
    return ApprovalRule.objects.count() - before
