"""Expected permissions of the personnel-qualification workflow, from SPEC.md §M3 (seed 000).

待受理 → 材料已接收 (the submitting authority's reviewer receives the materials) → 已审核 or
不予批准 (the same reviewer decides). Before receiving, the reviewer may ask for 补正 (TSG Z8001-2019
第十二条: 待受理 → 待补正, naming documents to replace); the applicant resubmits (→ 待受理). The
applicant withdraws while 待受理 or 待补正.

A certificate is 有效 until a renewal or change approved on it replaces it (已换发, done by the
system as part of that approval, never by a person) or the issuing authority revokes it with a
reason (已撤销, issue 7).
"""

from tests.permissions import rule

EXPECTED = {
    "qualification_application": {
        "receive": rule("pending", "reviewer"),
        "request_correction": rule("pending", "reviewer"),
        "resubmit": rule("correction", "person"),
        "approve": rule("received", "reviewer"),
        "reject": rule("received", "reviewer"),
        "withdraw": rule("pending correction", "person"),
    },
    "qualification_certificate": {
        "supersede": rule("valid", "system", party=False),
        "revoke": rule("valid", "reviewer"),
    },
}
