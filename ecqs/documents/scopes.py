"""Row scopes of application documents: the catalogue is reference data; a file is seen by whoever
sees its application, through that application's own scope."""

from __future__ import annotations

from sqlalchemy import select, true

from ecqs.access import scope_for, scoped
from ecqs.models import ApplicationDocument, DocumentRequirement, LicenceApplication, QualificationApplication


@scope_for(DocumentRequirement)
def _document_requirements(query, user):
    # Public reference data (the wizard lists it); only administrators get its grid (view roles).
    return query.where(true())


@scope_for(ApplicationDocument)
def _application_documents(query, user):
    licences = scoped(select(LicenceApplication.id), LicenceApplication, user)
    qualifications = scoped(select(QualificationApplication.id), QualificationApplication, user)
    return query.where(
        ApplicationDocument.licence_application_id.in_(licences)
        | ApplicationDocument.qualification_application_id.in_(qualifications)
    )
