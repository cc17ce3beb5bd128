"""办件存证核验 page (public) and the context the staff case page can include."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tongban.cases import access
from tongban.cases import services as cases
from tongban.core.audit import client_ip
from tongban.core.identifiers import mask_name, validate_resident_id
from tongban.ledger import services
from tongban.ledger.api import NOT_FOUND
from tongban.ledger.schemas import clean_case_number


def verification_context(app) -> dict:
    """Context for ``{% include "ledger/_verification.html" %}`` on any case page (staff, supervision)."""
    verification = services.verify_case(app)
    commit = verification.commit
    return {
        "verification": verification,
        "ledger_leaf": services.covering_leaf(app, commit) if commit else None,
        "ledger_latest": services.latest_commit(),
    }


def verify(request: HttpRequest) -> HttpResponse:
    context: dict = {"values": {}}
    if request.method == "POST":
        case_number = request.POST.get("case_number", "")
        id_number = request.POST.get("id_number", "")
        context["values"] = {"case_number": case_number.strip()[:50]}
        try:
            access.throttle_progress(client_ip(request))
            errors = []
            try:
                case_number = clean_case_number(case_number)
            except ValueError as exc:
                errors.append(str(exc))
            try:
                id_number = validate_resident_id(id_number).number
            except ValidationError as exc:
                errors.extend(exc.messages)
            if errors:
                raise ValidationError(errors)
            app = cases.public_lookup(case_number, id_number)
            if app is None:
                context["error"] = NOT_FOUND
            else:
                context.update(verification_context(app))
                context["app"] = app
                context["applicant"] = mask_name(app.applicant_name)
        except ValidationError as exc:
            context["error"] = "；".join(exc.messages)
    return render(request, "ledger/verify.html", context)
