"""Approve and Reject, from the queue's bulk actions and the draft page's buttons alike.

Both lead to one confirmation page listing what will happen to each selected
draft; its form POSTs (with CSRF) to `decision_view`, which calls the one
service that decides. Nothing changes state on GET.
"""

from django import forms
from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from storage import services
from storage.choices import Decision

CONFIRMATION_TEMPLATE = "admin/storage/draft/decision_confirmation.html"


class DecisionForm(forms.Form):
    """The reviewer's words; whether they are required is the service's rule."""

    reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 70}), strip=True
    )

    def __init__(self, *args, decision: Decision, **kwargs):
        super().__init__(*args, **kwargs)
        reject = decision == Decision.REJECT
        self.fields["reason"].label = "Reason (required)" if reject else "Note (optional)"


def confirmation_response(model_admin, request, *, decision, draft_ids, next_url, form=None):
    """The page that lists each selected draft and what the decision will do to it."""
    decision = Decision(decision)
    outcomes = services.preview_decisions(user=request.user, draft_ids=draft_ids, decision=decision)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"{decision.label} drafts",
        "opts": model_admin.opts,
        "media": model_admin.media,
        "decision": decision,
        "outcomes": outcomes,
        "will_change": any(outcome.decided for outcome in outcomes),
        "form": form or DecisionForm(decision=decision),
        "next_url": next_url,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, CONFIRMATION_TEMPLATE, context)


def decision_view(model_admin, request):
    """POST only: without `post=yes` the confirmation page, with it the decision itself."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        decision = Decision(request.POST.get("decision", ""))
    except ValueError:
        return HttpResponseBadRequest("Unknown decision.")
    draft_ids = request.POST.getlist(ACTION_CHECKBOX_NAME)
    next_url = _next_url(request)
    if request.POST.get("post") != "yes":
        return confirmation_response(
            model_admin, request, decision=decision, draft_ids=draft_ids, next_url=next_url
        )
    form = DecisionForm(request.POST, decision=decision)
    form.full_clean()
    try:
        outcomes = services.decide_drafts(
            user=request.user,
            draft_ids=draft_ids,
            decision=decision,
            reason=form.cleaned_data.get("reason", ""),
        )
    except ValidationError as error:
        form.add_error("reason", error)
        return confirmation_response(
            model_admin,
            request,
            decision=decision,
            draft_ids=draft_ids,
            next_url=next_url,
            form=form,
        )
    _report(request, outcomes, requested=len(set(draft_ids)))
    return HttpResponseRedirect(next_url)


def _report(request, outcomes, *, requested: int) -> None:
    for outcome in outcomes:
        level = messages.SUCCESS if outcome.decided else messages.WARNING
        messages.add_message(request, level, f"{outcome.draft}: {outcome.effect}.")
    if missing := requested - len(outcomes):
        messages.warning(request, f"{missing} of the selected drafts were not found.")


def _next_url(request) -> str:
    """Where to go afterwards: the page the reviewer came from, if it is on this site."""
    url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("admin:storage_draft_changelist")
