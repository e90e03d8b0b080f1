"""Expected permissions of the registry's workflows, from seed 004 (CASEI's manual) and SPEC §M4.

- 单位信息变更 and 单位资质管理: the unit files a request (an operation, not a transition); the
  association's staff (and the system administrator) approve it or reject it with a reason.
- 在线提问解答: staff answer an open question; the asking unit may follow up on the answer, which
  opens the thread again.
- 账号申诉 (§2.3): staff approve the appeal (the new contact takes over) or reject it.
- 执业公示申报单 (§3.3): the unit that filed it submits it (upload + the practitioner's SMS code)
  while 待上传; staff approve (publish) or reject with a reason; the system ends it as 逾期作废
  once 7 days have passed without an upload.
- 公示人员实名验证 (§4): the unit asks for a manual check of a 系统自动验证不一致 row; staff
  decide 人工核验通过 / 人工核验不通过 (with a reason).
- 执业公示注册: only an approved 注销申请 ends a registration — the engine acting for the
  reviewer (role system); no user deregisters a registration directly.
- 注册证书注销申请 (§3.3.4): the unit that filed it uploads the stamped request with the courier
  number (待提交 → 待审核); staff approve (each person 已注销) or reject it with a reason.
"""

from tests.permissions import rule

STAFF = "admin association"

EXPECTED = {
    "unit_change_request": {
        "approve": rule("pending", STAFF, party=False),
        "reject": rule("pending", STAFF, party=False),
    },
    "unit_qualification_request": {
        "approve": rule("pending", STAFF, party=False),
        "reject": rule("pending", STAFF, party=False),
    },
    "unit_question": {
        "answer": rule("open", STAFF, party=False),
        "follow_up": rule("answered", "unit"),
    },
    "unit_account_appeal": {
        "approve": rule("pending", STAFF, party=False),
        "reject": rule("pending", STAFF, party=False),
    },
    "publicity_application": {
        "submit": rule("awaiting_upload", "unit"),
        "approve": rule("submitted", STAFF, party=False),
        "reject": rule("submitted", STAFF, party=False),
        "expire": rule("awaiting_upload", "system", party=False),
    },
    "real_name_verification": {
        "apply": rule("mismatch", "unit"),
        "approve": rule("pending", STAFF, party=False),
        "reject": rule("pending", STAFF, party=False),
    },
    "practitioner_registration": {
        "deregister": rule("registered", "system", party=False),
    },
    "practitioner_deregistration": {
        "submit": rule("draft", "unit"),
        "approve": rule("submitted", STAFF, party=False),
        "reject": rule("submitted", STAFF, party=False),
    },
}
