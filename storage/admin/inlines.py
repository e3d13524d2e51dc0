"""A draft's executions and decision trail on its page: read-only, tenant-scoped."""

from django.contrib import admin

from storage.admin.base import ReadOnly
from storage.models import DraftReview, Execution
from storage.rows import tenant_rows


class TenantRowsInline(ReadOnly, admin.TabularInline):
    """Related rows of the request's tenant, which nobody edits here."""

    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return tenant_rows(self.model, tenant_id=request.tenant_id)

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class ExecutionInline(TenantRowsInline):
    model = Execution
    fields = ["tool_id", "status", "actor_id", "created_at", "completed_at", "request_id"]
    show_change_link = True


class DecisionTrailInline(TenantRowsInline):
    model = DraftReview
    fields = ["created_at", "reviewer_name", "decision", "from_status", "to_status", "reason"]
    verbose_name_plural = "Decision trail (newest first)"

    @admin.display(description="reviewer")
    def reviewer_name(self, review: DraftReview) -> str:
        """The name as text: a link would lead reviewers to the user admin, closed to them."""
        return review.reviewer.username

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reviewer").order_by("-created_at")
