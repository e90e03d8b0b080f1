"""Publishing an approved 执业公示申报单 (the effect of its approval): 初始 creates the
practitioner's registration, 变更 moves it to the new unit, 追加 adds items, 续期 extends it.
The registration's status is never written here: a new one starts registered, the others stay
as they are (deregistration is its own workflow)."""

from __future__ import annotations

from datetime import date

from ecqs.extensions import db
from ecqs.models import PractitionerRegistration, PractitionerRegistrationItem, PublicityApplication
from ecqs.registry import eligibility
from ecqs.services import workdays


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def registration_number(registration: PractitionerRegistration, today: date) -> str:
    return f"ZC{today:%Y}{registration.id:08d}"


def _item(app_item, today: date) -> PractitionerRegistrationItem:
    return PractitionerRegistrationItem(
        project_id=app_item.project_id,
        project_code=app_item.project_code,
        project_name=app_item.project_name,
        level=app_item.level,
        certificate_id=app_item.certificate_id,
        added_on=today,
    )


def _set_items(
    registration: PractitionerRegistration, application: PublicityApplication, today: date
) -> None:
    """Add the application's items: a held project keeps its row (with the newer certificate), a
    higher level of an item replaces the lower one."""
    removed = False
    for app_item in application.items:
        key = eligibility.item_key(app_item)
        for old in list(registration.items):
            if old.project_id != app_item.project_id and eligibility.item_key(old) == key:
                registration.items.remove(old)
                removed = True
    if removed:
        db.session.flush()
    held = {item.project_id: item for item in registration.items}
    for app_item in application.items:
        if app_item.project_id in held:
            held[app_item.project_id].certificate_id = app_item.certificate_id
        else:
            registration.items.append(_item(app_item, today))


def publish(application: PublicityApplication, today: date | None = None) -> PractitionerRegistration:
    today = today or workdays.today()
    years = eligibility.REGISTRATION_YEARS
    registration = application.registration
    if application.kind in ("initial", "change") and (
        registration is None or registration.status != "registered"
    ):
        registration = PractitionerRegistration(
            number=f"-{application.number}",
            person_id=application.person_id,
            person_name=application.person_name,
            id_number=application.id_number,
            mobile=application.mobile,
            organization_id=application.organization_id,
            registered_on=today,
            valid_until=add_years(today, years),
        )
        db.session.add(registration)
        _set_items(registration, application, today)
        db.session.flush()
        registration.number = registration_number(registration, today)
    elif application.kind == "change":
        registration.organization_id = application.organization_id
        registration.registered_on = today
        registration.mobile = application.mobile or registration.mobile
        if registration.valid_until <= today:
            registration.valid_until = add_years(today, years)
        keep = {item.project_id for item in application.items}
        for old in list(registration.items):
            if old.project_id not in keep:
                registration.items.remove(old)
        db.session.flush()
        _set_items(registration, application, today)
    elif application.kind == "addition":
        _set_items(registration, application, today)
    else:  # renewal: three more years from the end of the current term (or from today if past)
        registration.valid_until = add_years(max(registration.valid_until, today), years)
        _set_items(registration, application, today)
    application.registration = registration
    db.session.flush()
    return registration
