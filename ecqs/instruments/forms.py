"""Forms of the instrument module: the ledger form (every field of seed 003's 器具新增 form),
the division cascade field, the verification-result form and the authorisation form."""

from __future__ import annotations

from flask import url_for
from flask_admin.form import BaseForm
from markupsafe import Markup
from sqlalchemy import select
from wtforms import DateField, Field, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ecqs.extensions import db
from ecqs.i18n import gettext as _
from ecqs.i18n import lazy_gettext as _l
from ecqs.models import (
    DELIVERY_MODE_LABELS,
    INSTRUMENT_ORIGIN_LABELS,
    INSTRUMENT_PURPOSE_LABELS,
    INSTRUMENT_TYPE_LABELS,
    Division,
    InstrumentItem,
    InstrumentKind,
)
from ecqs.services import workdays

REQUIRED = _l("此项为必填项")


def _required():
    return DataRequired(message=REQUIRED)


def division_chain(code: str | None) -> list[str]:
    """[province, city, county] codes of a division (as far as it goes)."""
    if not code:
        return []
    chain, node = [], db.session.get(Division, code)
    while node is not None:
        chain.append(node.code)
        node = node.parent
    return list(reversed(chain))


def division_children(parent: str | None) -> list[tuple[str, str]]:
    stmt = select(Division.code, Division.name).order_by(Division.code)
    stmt = stmt.where(Division.level == 1) if parent is None else stmt.where(Division.parent_code == parent)
    return [(c, n) for c, n in db.session.execute(stmt)]


class DivisionCascadeWidget:
    """Three selects (province / city / county) driven by the shared division cascade script."""

    def __call__(self, field, **kwargs):
        chain = [*division_chain(field.data), None, None, None]
        parents = [None, chain[0], chain[1]]
        html = [
            Markup('<div class="form-inline" data-division-cascade data-url="{}" id="{}">').format(
                url_for("register.divisions"), field.id
            )
        ]
        for level in range(3):
            options = division_children(parents[level]) if level == 0 or parents[level] else []
            html.append(
                Markup(
                    '<select class="form-control mr-2" name="{0}-{1}" id="{2}-{1}" '
                    'data-level="{1}" aria-label="{3}">'
                ).format(field.name, level + 1, field.id, (_("省"), _("市"), _("区县"))[level])
            )
            html.append(Markup('<option value="">{}</option>').format(_("请选择")))
            for code, name in options:
                selected = Markup(" selected") if chain[level] == code else ""
                html.append(Markup('<option value="{}"{}>{}</option>').format(code, selected, name))
            html.append(Markup("</select>"))
        html.append(Markup("</div>"))
        return Markup("").join(html)


class DivisionCascadeField(Field):
    """A GB/T 2260 code chosen with the cascade; the deepest chosen level wins."""

    widget = DivisionCascadeWidget()

    def process(self, formdata, data=None, extra_filters=None):
        super().process(formdata, data, extra_filters)
        if formdata is not None:
            parts = [(formdata.get(f"{self.name}-{i}") or "").strip() for i in (1, 2, 3)]
            if any(f"{self.name}-{i}" in formdata for i in (1, 2, 3)):
                self.data = next((p for p in reversed(parts) if p), None)
            elif self.name in formdata:
                self.data = (formdata.get(self.name) or "").strip() or None

    def _value(self):
        return self.data or ""

    def pre_validate(self, form):
        if self.data and (len(self.data) != 6 or db.session.get(Division, self.data) is None):
            raise ValidationError(_("行政区划不存在"))


def _choices(labels: dict):
    return list(labels.items())


class InstrumentForm(BaseForm):
    """强检器具台账 新增 / 复制 / 修改 (the edit form drops 有效期至)."""

    name = StringField(_l("器具名称"), [_required(), Length(max=100)])
    instrument_type = SelectField(_l("器具类型"), [_required()], choices=_choices(INSTRUMENT_TYPE_LABELS))
    item_id = SelectField(_l("器具项别"), [_required()], coerce=int, validate_choice=False)
    kind_id = SelectField(_l("器具种别"), [_required()], coerce=int, validate_choice=False)
    model_spec = StringField(_l("型号规格"), [_required(), Length(max=100)])
    measuring_range = StringField(_l("测量范围"), [_required(), Length(max=100)])
    accuracy_class = StringField(_l("准确度等级"), [_required(), Length(max=50)])
    serial_no = StringField(_l("出厂编号"), [_required(), Length(max=60)])
    manufacturer = StringField(_l("生产厂家"), [_required(), Length(max=120)])
    origin = SelectField(_l("器具产地"), [_required()], choices=_choices(INSTRUMENT_ORIGIN_LABELS))
    usage_division_code = DivisionCascadeField(_l("使用地点行政区划"), [_required()])
    usage_place = StringField(_l("安装/使用地点"), [_required(), Length(max=200)])
    purchase_date = DateField(_l("购置时间"), [Optional()])
    quantity = IntegerField(
        _l("器具数量"),
        [_required(), NumberRange(min=1, max=100000, message=_l("器具数量必须是 1 到 100000 之间的整数"))],
        default=1,
    )
    purpose = SelectField(_l("器具用途"), [_required()], choices=_choices(INSTRUMENT_PURPOSE_LABELS))
    delivery_mode = SelectField(_l("送检方式"), [_required()], choices=_choices(DELIVERY_MODE_LABELS))
    valid_until = DateField(
        _l("有效期至"),
        [Optional()],
        description=_l("请谨慎填写“有效期至”，该信息一旦保存不可修改。"),
    )

    def __init__(self, formdata=None, obj=None, **kwargs):
        super().__init__(formdata=formdata, obj=obj, **kwargs)
        items = db.session.execute(select(InstrumentItem).order_by(InstrumentItem.code)).scalars().all()
        self.item_id.choices = [(0, _("请选择"))] + [(i.id, f"{i.name}（{i.code}）") for i in items]
        groups: dict[str, list] = {}
        kinds = db.session.execute(
            select(InstrumentKind).join(InstrumentItem).order_by(InstrumentItem.code, InstrumentKind.code)
        ).scalars()
        for kind in kinds:
            groups.setdefault(kind.item.name, []).append((kind.id, f"{kind.name}（{kind.code}）"))
        self.kind_id.choices = {"": [(0, _("请选择"))], **groups}

    def validate_item_id(self, field):
        if not field.data or db.session.get(InstrumentItem, field.data) is None:
            raise ValidationError(_("请选择器具项别"))

    def validate_kind_id(self, field):
        kind = db.session.get(InstrumentKind, field.data) if field.data else None
        if kind is None:
            raise ValidationError(_("请选择器具种别"))
        if self.item_id.data and kind.item_id != self.item_id.data:
            raise ValidationError(_("所选种别不属于所选项别"))

    def validate_purchase_date(self, field):
        if field.data and field.data > workdays.today():
            raise ValidationError(_("购置时间不能晚于今天"))

    def populate_obj(self, obj):
        for name, field in self._fields.items():
            if name == "item_id":  # derived from the kind
                continue
            value = field.data.strip() if isinstance(field.data, str) else field.data
            setattr(obj, name, value)


class InstrumentEditForm(InstrumentForm):
    """有效期至 is not a field after the instrument was added: only a verification result moves it."""

    valid_until = None


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AuthorizationForm(BaseForm):
    """计量技术机构授权: one institution, one division, several kinds (one row per kind)."""

    institution_id = SelectField(_l("计量技术机构"), [_required()], coerce=int, validate_choice=False)
    kind_ids = MultiCheckboxField(_l("授权种别"), [_required()], coerce=int, validate_choice=False)
    division_code = DivisionCascadeField(_l("授权区域"), [_required()])
