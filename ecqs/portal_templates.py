"""Portal pages from templates compiled once per language and application root.

A public page shows twenty-odd literal labels (`{{ _('查询') }}`) and half a dozen fixed links
(`{{ fixed_url('static', filename='css/ecqs.css') }}`); each costs a template call, a catalogue
or memo lookup and an escape on every request, about a third of the public instrument query's
calls (bench/RESULTS.md). Their values depend only on the language and on the application's
root (SCRIPT_NAME), so `render_portal_page` renders through a Jinja overlay of the app's
environment per (language, root) whose compiler turns those calls into constants: the same
text, translated by the same catalogue, formatted and escaped as at run time. Calls with
variables, other functions and everything that depends on the request stay as they are."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask.templating import Environment as FlaskEnvironment
from flask_babel import get_locale
from jinja2 import nodes
from jinja2.visitor import NodeTransformer

from ecqs.extensions import babel

LABEL_FUNCTIONS = frozenset({"_", "gettext"})  # both are ecqs.extensions.template_gettext
LINK_FUNCTIONS = frozenset({"fixed_url"})
_MAX_ENVIRONMENTS = 16  # languages × application roots: a handful; bounded anyway


def _literal(node) -> bool:
    return isinstance(node, nodes.Const) and isinstance(node.value, str)


class _Folder(NodeTransformer):
    """Replaces `_('literal')` by its translation and `fixed_url('endpoint', key='literal')` by
    its link, unless the template binds the name itself (a macro argument, a loop variable)."""

    def __init__(self, translations, names: frozenset, links):
        self.translations = translations
        self.names = names
        self.links = links  # the template global the compiled call would have called

    def visit_Call(self, node: nodes.Call):
        node = self.generic_visit(node)
        if (
            not isinstance(node.node, nodes.Name)
            or node.node.name not in self.names
            or node.dyn_args is not None
            or node.dyn_kwargs is not None
            or not all(_literal(arg) for arg in node.args)
            or not all(_literal(keyword.value) for keyword in node.kwargs)
        ):
            return node
        name = node.node.name
        if name in LABEL_FUNCTIONS:
            if len(node.args) != 1 or node.kwargs:
                return node
            text = self.translations.ugettext(node.args[0].value)
            if "%" in text:
                return node  # template_gettext %-formats it at run time: left to it
            # As template_gettext: the trusted catalogue's text, Markup where autoescaping.
            return nodes.MarkSafeIfAutoescape(nodes.Const(text), lineno=node.lineno)
        try:
            link = self.links(*(a.value for a in node.args), **{k.key: k.value.value for k in node.kwargs})
        except Exception:  # a bad link fails at run time, as before
            return node
        return nodes.Const(link, lineno=node.lineno)


class FoldingEnvironment(FlaskEnvironment):
    """The app's Jinja environment (an overlay: same loader, globals and filters, own cache)
    whose templates are compiled with the labels of one catalogue and the links of one root."""

    ecqs_translations = None

    def _parse(self, source, name, filename):
        tree = super()._parse(source, name, filename)
        bound = {n.name for n in tree.find_all(nodes.Name) if n.ctx != "load"}
        names = (LABEL_FUNCTIONS | LINK_FUNCTIONS) - bound
        return _Folder(self.ecqs_translations, frozenset(names), self.globals["fixed_url"]).visit(tree)


def _environment() -> FoldingEnvironment:
    environments = current_app.extensions.setdefault("ecqs_portal_templates", {})
    key = (str(get_locale()), request.script_root)
    env = environments.get(key)
    if env is None:
        base = current_app.jinja_env
        env = base.overlay(cache_size=base.cache.capacity if base.cache is not None else 400)
        env.__class__ = FoldingEnvironment
        # The request's catalogue is the one of its locale: every request of this key has it.
        env.ecqs_translations = babel.domain_instance.get_translations()
        if len(environments) >= _MAX_ENVIRONMENTS:
            environments.clear()
        environments[key] = env
    return env


def render_portal_page(template_name: str, **context) -> str:
    """render_template for a portal page: the same output, its literal labels and fixed links
    compiled in (per language and application root) instead of computed per request."""
    return render_template(_environment().get_template(template_name), **context)
