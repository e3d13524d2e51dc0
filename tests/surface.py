"""The portal's attack surface, read from the URL resolver and the admin's registry.

The fuzz suite and the isolation sweep both walk it, so a page added later is
covered without anyone listing it: every URL pattern with its parameters, the
ModelAdmin behind it, each list's filter parameters and each list's actions.
"""

import json
import os
import re
from dataclasses import dataclass

from django.contrib import admin
from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.auth.models import Group
from django.db.models import Model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern

from storage.models import User

PERSON_NOW = (
    "SELECT u.*, ARRAY(SELECT g.group_id FROM storage_user_groups g WHERE g.user_id = u.id) "
    "AS group_ids FROM storage_user u WHERE u.id = %s"
)
ROUTE_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")
REGEX_PARAMETER = re.compile(r"\(\?P<(\w+)>[^)]*\)")
# Django's changelist parameters that are not filters.
LIST_PARAMETERS = ["q", "o", "p", "e", "all", "_to_field", "_popup", "_facets"]


@dataclass(frozen=True)
class Endpoint:
    template: str  # "/admin/storage/draft/{object_id}/change/"
    parameters: tuple[str, ...]
    name: str  # the URL's name, "" if none
    model_admin: admin.ModelAdmin | None

    @property
    def model(self) -> type[Model] | None:
        return self.model_admin.model if self.model_admin else None

    def url(self, **values: str) -> str:
        from urllib.parse import quote

        return self.template.format(**{k: quote(str(v), safe="") for k, v in values.items()})


def _template(pattern) -> str:
    text = str(pattern.pattern)
    if isinstance(pattern.pattern, RegexPattern):
        return REGEX_PARAMETER.sub(r"{\1}", text.lstrip("^").rstrip("$")).replace("\\", "")
    return ROUTE_PARAMETER.sub(r"{\1}", text)


def endpoints(skip_prefixes: tuple[str, ...] = ("/static/",)) -> list[Endpoint]:
    """Every URL the project serves, as templates, with the ModelAdmin that serves it."""
    registry = {
        f"/admin/{m._meta.app_label}/{m._meta.model_name}/": ma
        for m, ma in admin.site._registry.items()
    }
    found = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            template = prefix + _template(pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, template)
            elif isinstance(pattern, URLPattern) and not template.startswith(skip_prefixes):
                owner = next((ma for p, ma in registry.items() if template.startswith(p)), None)
                parameters = tuple(re.findall(r"{(\w+)}", template))
                found.append(Endpoint(template, parameters, pattern.name or "", owner))

    walk(get_resolver().url_patterns, "/")
    return found


def list_parameters(client, model_admin: admin.ModelAdmin) -> list[str]:
    """The query parameters a list takes, as its page builds them for `client`'s person:
    each list filter's own parameters, and Django's search, ordering and page."""
    opts = model_admin.model._meta
    response = client.get(f"/admin/{opts.app_label}/{opts.model_name}/")
    names = set(LIST_PARAMETERS)
    if response.status_code == 200:
        for spec in response.context["cl"].filter_specs:
            names |= set(spec.expected_parameters())
    return sorted(names)


def action_names(model_admin: admin.ModelAdmin) -> list[str]:
    """Every action the list has, whoever may take it, and one nobody has."""
    actions = {name for name in (model_admin.actions or [])}
    actions = {a if isinstance(a, str) else a.__name__ for a in actions}
    return sorted(actions | {"delete_selected", "no_such_action"})


def report(name: str, figures: dict) -> None:
    """Print a part's figures; append them to LYNX_RELIABILITY_REPORT for bench/reliability.md."""
    print(f"{name}: {json.dumps(figures)}")
    if path := os.environ.get("LYNX_RELIABILITY_REPORT"):
        with open(path, "a") as lines:
            lines.write(json.dumps({name: figures}) + "\n")


class Visitor:
    """A person's browser, signed in again (as they were) whenever a request changed that.

    Generated requests sign people out (logout), change their groups or flags (which ends
    their sessions) or deactivate them: each request is sent as the person was at the
    start, so that every request tests what it aims at, not a sign-in page.
    """

    def __init__(self, user: User | None) -> None:
        self.user, self.client = user, Client(raise_request_exception=False)
        self.asked = ""  # this request: a page may echo what was asked (a search box)
        self.ever_asked = ""  # a message about an earlier request may echo it later on
        if user is not None:
            self.flags = {f: getattr(user, f) for f in ("is_superuser", "is_staff", "is_active")}
            self.group_ids = list(user.groups.values_list("pk", flat=True))

    def send(self, method: str, url: str, data: dict):
        self.asked = f"{url} {data}"
        self.ever_asked += self.asked
        if self.user is not None:
            self._as_at_start()
        return getattr(self.client, method)(url, data)

    def _as_at_start(self) -> None:
        person = self._now()
        if person is None:  # deleted: from now on, an anonymous visitor
            self.user = None
            return
        changed = False
        if any(getattr(person, flag) != value for flag, value in self.flags.items()):
            User.objects.filter(pk=person.pk).update(**self.flags)
            changed = True
        if set(person.group_ids) != set(self.group_ids):
            # A deleted group stays deleted.
            self.group_ids = list(
                Group.objects.filter(pk__in=self.group_ids).values_list("pk", flat=True)
            )
            person.groups.set(self.group_ids)
            changed = True
        self.user = self._now() if changed else person
        if self.client.session.get(HASH_SESSION_KEY) != self.user.get_session_auth_hash():
            self.client.force_login(self.user)

    def _now(self) -> User | None:
        """The person as the database holds them now, with their groups' ids, in one cheap
        statement: it runs before every request of the fuzz and the sweep."""
        return next(iter(User.objects.raw(PERSON_NOW, [self.user.pk])), None)
