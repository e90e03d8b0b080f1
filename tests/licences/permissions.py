"""Expected permissions of the production-licence workflow, from SPEC.md §M2 (seed 001).

草稿 → 已提交 (the enterprise submits) → 初审通过 (the authority's reviewer accepts) → 已约请机构
(the enterprise engages the assessment institution) → 评审时间已确认 (the institution proposes
dates, the enterprise may propose others, and the side that did not make the last proposal
confirms: seed 001 "协商鉴定评审时间") → 评审完成 (the institution submits its report) → 准予许可 or
不予许可 (the reviewer decides). Side exits: 待补正 (the reviewer's correction notice; the
enterprise resubmits), 不予受理 (the reviewer), 撤回 (the enterprise, before acceptance).
"""

from tests.permissions import rule

EXPECTED = {
    "licence_application": {
        "submit": rule("draft", "enterprise"),
        "resubmit": rule("correction", "enterprise"),
        "withdraw": rule("draft submitted correction", "enterprise"),
        "request_correction": rule("submitted", "reviewer"),
        "reject": rule("submitted", "reviewer"),
        "accept": rule("submitted", "reviewer"),
        "engage": rule("accepted", "enterprise"),
        "propose_dates": rule("engaged", "assessor"),
        "counter_propose": rule("engaged", "enterprise"),
        "confirm_dates": rule("engaged", "assessor enterprise"),
        "submit_report": rule("scheduled", "assessor"),
        "grant": rule("reviewed", "reviewer"),
        "refuse": rule("reviewed", "reviewer"),
    },
}
