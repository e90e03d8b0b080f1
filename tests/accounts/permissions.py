"""Expected permissions of the accounts workflows, from SPEC.md §M0 (seed 003 §2, seed 004 §2).

- A new organisation is 待审核 until staff approve it or reject it with a reason; the rejected
  organisation corrects its data and resubmits. Registrations are reviewed by the portal's
  administrators and by association staff (seed 004: inspection units); authority reviewers
  review applications, not accounts. Only the organisation's own admin account resubmits.
- An account is disabled (停用) and enabled again (启用) by the system administrator, or by the
  admin account of its own organisation for the organisation's sub-accounts (seed 003 §2
  子账号管理, seed 004 单位账号管理); nobody else.
- A person asks to be linked to an enterprise (关联企业, seed 003 appendix 2); that enterprise,
  and no other, approves (通过) or rejects it.
"""

from tests.permissions import rule

ORG_ACCOUNTS = "enterprise metrology assessor unit"

EXPECTED = {
    "organization_review": {
        "approve": rule("pending", "admin association"),
        "reject": rule("pending", "admin association"),
        "resubmit": rule("rejected", ORG_ACCOUNTS),
    },
    "account": {
        "disable": rule("active", "admin " + ORG_ACCOUNTS),
        "enable": rule("disabled", "admin " + ORG_ACCOUNTS),
    },
    "enterprise_link": {
        "approve": rule("pending", "enterprise"),
        "reject": rule("pending", "enterprise"),
    },
}
