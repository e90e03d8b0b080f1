"""The menu categories of the back office, in one place (labels from the manuals)."""

from flask_babel import lazy_gettext as _l

CAT_CENTRE = _l("个人中心")
CAT_SYSTEM = _l("系统管理")
CAT_INSTRUMENTS = _l("强制检定工作计量器具业务管理系统")
CAT_SUPERVISION = _l("强检器具监管")
CAT_LICENCE = _l("特种设备生产单位许可")
CAT_PERSON = _l("特种设备检验、检测人员资格认定申请")
CAT_STATISTICS = _l("统计分析")
CAT_UNIT = _l("单位信息管理")
CAT_REGISTRY_REVIEW = _l("执业单位审核")
CAT_REG_PEOPLE = _l("注册人员管理")
CAT_REG_CERTS = _l("注册证书管理")
