"""Expected permissions of the instrument workflows, from SPEC.md §M1 (seed 002 §3-4, seed 003
§3-6). A person linked to an enterprise works on its instruments and bookings like its users.

- Ledger: the enterprise stops 停用 an instrument in use, enables 启用 a stopped one, and scraps
  报废 one in use or stopped; scrapping is final.
- Booking 预约单: 待提交 → 已提交 when the enterprise submits; 已提交 → 已反馈 when every allocated
  item has its institution's answer, and back when an answer is withdrawn: the system's doing,
  never a user's button.
- Booking item: on submit the system allocates each item (待预约 → 待受理) to an authorised
  institution; that institution accepts (已受理), returns it with a reason (已退回: while allocated
  or accepted) and records the result (已检定); the enterprise cancels an allocated item only.
"""

from tests.permissions import rule

OWNERS = "enterprise person"

EXPECTED = {
    "instrument_status": {
        "stop": rule("in_use", OWNERS),
        "enable": rule("stopped", OWNERS),
        "scrap": rule("in_use stopped", OWNERS),
    },
    "booking": {
        "submit": rule("draft", OWNERS),
        "feedback": rule("submitted", "system", party=False),
        "reopen": rule("answered", "system", party=False),
    },
    "booking_item": {
        "allocate": rule("pending", "system", party=False),
        "accept": rule("allocated", "metrology"),
        "return": rule("allocated accepted", "metrology"),
        "record_result": rule("accepted", "metrology"),
        "cancel": rule("allocated", OWNERS),
    },
}
