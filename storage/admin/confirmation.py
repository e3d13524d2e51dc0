"""Admin actions that ask first, like Django's `delete_selected`.

Chosen from a list's action menu (or a button on an object's page that posts
the same action), the action renders a page listing each selected object and
what the action will do to it, from the service's preview. That page posts the
same action back to the list with `post=yes`, the ids it listed, each one's
token (what the person was shown of it, see `storage.actions.Outcome`) and the
person's words; the service then acts and each object's outcome becomes a
message. Objects that changed since the page was shown are left alone and the
page is shown again with them, as they are now. A refusal of the whole action
is a message, or a 403 for a person who may not take it at all. Nothing
changes on GET, and every form carries CSRF.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme

from storage.actions import ActionRefused, Outcome

TEMPLATE = "admin/storage/action_confirmation.html"
SEEN = "_seen"  # one token per listed id, in the same order


@dataclass(frozen=True)
class Confirmation:
    """What one two-step action shows and calls."""

    action: str  # the action's name, posted back with the answer
    title: str
    intro: str  # the sentence above the list
    confirm_label: str  # the button that says yes
    make_form: Callable[[Any], forms.Form]  # from POST data, or None for an empty form
    columns: dict[str, Callable[[Any], Any]]  # heading -> the cell of one object
    preview: Callable[[Sequence], list[Outcome]]  # ids -> what would happen
    perform: Callable[..., list[Outcome]]  # ids, seen, **form.cleaned_data -> what happened


def confirm_then_act(model_admin: admin.ModelAdmin, request, queryset, confirmation: Confirmation):
    """The body of a two-step admin action: the confirmation page, or the action itself."""
    try:
        if request.POST.get("post") != "yes":
            # The queryset, not the posted ids: "select all" selects by the list's filters.
            ids = queryset.values_list("pk", flat=True)
            return _page(model_admin, request, confirmation, ids, confirmation.make_form(None))
        ids = request.POST.getlist(ACTION_CHECKBOX_NAME)
        form = confirmation.make_form(request.POST)
        if form.is_valid():
            try:
                outcomes = confirmation.perform(ids, _seen(request, ids), **form.cleaned_data)
            except ActionRefused as refusal:
                if not refusal.field:
                    raise
                form.add_error(refusal.field, refusal.message)
            else:
                _report(model_admin, request, outcomes, requested=len(set(ids)))
                stale = [outcome.subject.pk for outcome in outcomes if outcome.stale]
                if stale:  # shown again, as they are now, for another look
                    return _page(model_admin, request, confirmation, stale, form)
                return HttpResponseRedirect(_next_url(request))
        return _page(model_admin, request, confirmation, ids, form)
    except ActionRefused as refusal:
        if refusal.forbidden:
            raise PermissionDenied(refusal.message) from None
        model_admin.message_user(request, refusal.message, messages.ERROR)
        return None


def _page(model_admin, request, confirmation: Confirmation, ids, form) -> TemplateResponse:
    outcomes = confirmation.preview(ids)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": confirmation.title,
        "opts": model_admin.opts,
        "media": model_admin.media,
        "intro": confirmation.intro,
        "confirm_label": confirmation.confirm_label,
        "action": confirmation.action,
        "headings": list(confirmation.columns),
        "rows": [
            (outcome, [cell(outcome.subject) for cell in confirmation.columns.values()])
            for outcome in outcomes
        ],
        "will_change": any(outcome.changes for outcome in outcomes),
        "form": form,
        "next_url": _next_url(request),
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "seen_name": SEEN,
    }
    return TemplateResponse(request, TEMPLATE, context)


def _seen(request, ids: list[str]) -> dict[str, str]:
    """The token the page showed for each id; none at all if the lists do not pair up."""
    tokens = request.POST.getlist(SEEN)
    return dict(zip(ids, tokens, strict=True)) if len(tokens) == len(ids) else {}


def _report(model_admin, request, outcomes: list[Outcome], *, requested: int) -> None:
    for outcome in outcomes:
        if outcome.stale:
            text, level = f"{outcome.subject}: {outcome.skipped_because}.", messages.ERROR
        else:
            text = f"{outcome.subject}: {outcome.effect}."
            level = messages.SUCCESS if outcome.changes else messages.WARNING
        model_admin.message_user(request, text, level)
    if missing := requested - len(outcomes):
        noun = model_admin.opts.verbose_name_plural
        model_admin.message_user(
            request, f"{missing} of the selected {noun} were not found.", messages.WARNING
        )


def _next_url(request) -> str:
    """Back where the person came from (a posted `next` on this site), or to the list."""
    url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return request.get_full_path()
