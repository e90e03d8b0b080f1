"""The domains of the product, one package each. Importing this module registers every
domain's state tables (with the engine, ecqs.workflows) and row scopes (with ecqs.access);
create_app imports it, so the registries are complete before the first request."""

from ecqs.accounts import scopes as accounts_scopes
from ecqs.accounts import workflows as accounts_workflows
from ecqs.documents import scopes as documents_scopes
from ecqs.instruments import scopes as instruments_scopes
from ecqs.instruments import workflows as instruments_workflows
from ecqs.licences import scopes as licences_scopes
from ecqs.licences import workflows as licences_workflows
from ecqs.qualifications import scopes as qualifications_scopes
from ecqs.qualifications import workflows as qualifications_workflows
from ecqs.registry import scopes as registry_scopes
from ecqs.registry import workflows as registry_workflows
from ecqs.services import scopes as services_scopes

# domain: (state tables, row scopes)
DOMAINS = {
    "accounts": (accounts_workflows, accounts_scopes),
    "documents": (None, documents_scopes),
    "instruments": (instruments_workflows, instruments_scopes),
    "licences": (licences_workflows, licences_scopes),
    "qualifications": (qualifications_workflows, qualifications_scopes),
    "registry": (registry_workflows, registry_scopes),
    "services": (None, services_scopes),
}
