"""Expected permissions of the personnel-qualification workflow, from SPEC.md §M3 (seed 000).

待受理 → 材料已接收 (the submitting authority's reviewer receives the materials) → 已审核 or
不予批准 (the same reviewer decides); the applicant withdraws while 待受理 only.
"""

from tests.permissions import rule

EXPECTED = {
    "qualification_application": {
        "receive": rule("pending", "reviewer"),
        "approve": rule("received", "reviewer"),
        "reject": rule("received", "reviewer"),
        "withdraw": rule("pending", "person"),
    },
}
