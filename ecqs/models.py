"""Every model of the product is found from here: this index gathers the per-domain model
modules (one section per domain), so `from ecqs.models import X` works for any model and
Alembic sees one metadata. Small `can_<verb>` predicates live beside the data; state changes
happen only through the workflow engine (ecqs/workflows.py)."""

# ruff: noqa: F403
from ecqs.accounts.models import *
from ecqs.documents.models import *
from ecqs.instruments.models import *
from ecqs.licences.models import *
from ecqs.qualifications.models import *
from ecqs.registry.applications import *
from ecqs.registry.models import *
from ecqs.services.job_models import *
from ecqs.services.mail_models import *
from ecqs.services.models import *
