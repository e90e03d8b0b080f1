"""gettext and lazy_gettext of the application's catalogue, as Flask-Babel's (same catalogue,
same locale, same %-formatting with variables) but straight through the request's domain
(extensions._RequestDomain): Flask-Babel's module functions look the domain up through the
application context on every call, about thirty calls per label, and a grid page turns some
seventy lazy labels (column names, buttons, filters) into text. Import these, not flask_babel's."""

from flask.globals import _cv_app
from flask_babel.speaklater import LazyString

from ecqs.extensions import babel


def gettext(string: str, **variables) -> str:
    if _cv_app.get(None) is None:  # no application: the text as written (Flask-Babel's too)
        translated = string
    else:
        translated = babel.domain_instance.get_translations().ugettext(string)
    return translated % variables if variables else translated


def lazy_gettext(string: str, **variables) -> LazyString:
    return LazyString(gettext, string, **variables)
