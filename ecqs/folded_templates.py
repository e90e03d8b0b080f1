"""Pages from templates compiled once per language and application root.

A page shows dozens of literal labels (`{{ _('查询') }}`, Flask-Admin's `{{ _gettext('Delete') }}`)
and fixed links (`{{ fixed_url('static', filename='css/ecqs.css') }}`, the back office's
`{{ admin_static.url(filename='admin/js/form.js', v='1.0.1') }}`); each costs a template call, a
catalogue or memo lookup and an escape on every request (a third of the public instrument
query's calls, bench/RESULTS.md). Their values depend only on the language and on the
application's root (SCRIPT_NAME), so these pages render through a Jinja overlay of the app's
environment per (language, root, context functions) whose compiler turns those calls into
constants: the same text, translated by the same catalogue, formatted and escaped as at run
time. Calls with variables, other functions and everything that depends on the request stay
as they are; so does any call whose name the template binds itself (a macro argument, a loop
variable, a `set`, an import)."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, render_template, request
from flask.templating import Environment as FlaskEnvironment
from flask_babel import get_locale
from jinja2 import Template, nodes
from jinja2.visitor import NodeTransformer

from ecqs.extensions import babel

LABEL_FUNCTIONS = frozenset({"_", "gettext"})  # both are ecqs.extensions.template_gettext
# Flask-Admin's templates `{% import 'admin/static.html' as admin_static %}`; ours makes its
# `url` the global admin_static_url (checked, not assumed: see FoldingEnvironment.static_url),
# which our own templates call by name.
STATIC_TEMPLATE = "admin/static.html"
STATIC_FUNCTION = "admin_static_url"
LINK_FUNCTIONS = frozenset({"fixed_url", STATIC_FUNCTION})
# Globals the folded calls stand for: a page whose context redefines one is not folded.
FOLDED_GLOBALS = LABEL_FUNCTIONS | LINK_FUNCTIONS
_MAX_ENVIRONMENTS = 16  # languages × application roots × callers: a handful; bounded anyway

# (name, function) pairs a caller puts in every context it renders with, and whose value for
# literal arguments depends on the language only (the back office's `_gettext`).
ContextFunctions = tuple[tuple[str, Callable[..., str]], ...]


def _literal(node) -> bool:
    return isinstance(node, nodes.Const) and isinstance(node.value, str)


def _literal_call(node: nodes.Call) -> bool:
    return (
        node.dyn_args is None
        and node.dyn_kwargs is None
        and all(_literal(arg) for arg in node.args)
        and all(_literal(keyword.value) for keyword in node.kwargs)
    )


def _imports_static(node: nodes.Node) -> bool:
    """`{% import 'admin/static.html' as … %}`"""
    return (
        isinstance(node, nodes.Import)
        and isinstance(node.template, nodes.Const)
        and node.template.value == STATIC_TEMPLATE
    )


def _bindings(tree: nodes.Template) -> dict[str, list[nodes.Node]]:
    """Every name the template binds, with what binds it: assignments, loop and macro
    arguments, macro names and imports."""
    bound: dict[str, list[nodes.Node]] = {}
    for node in tree.find_all((nodes.Name, nodes.Import, nodes.FromImport, nodes.Macro)):
        if isinstance(node, nodes.Name):
            names = [node.name] if node.ctx != "load" else []
        elif isinstance(node, nodes.Import):
            names = [node.target]
        elif isinstance(node, nodes.FromImport):
            names = [n[1] if isinstance(n, tuple) else n for n in node.names]
        else:
            names = [node.name]
        for name in names:
            bound.setdefault(name, []).append(node)
    return bound


class _Folder(NodeTransformer):
    """Replaces `_('literal')` by its translation, `fixed_url('endpoint', key='literal')`,
    `admin_static_url(key='literal')` and `<admin/static.html>.url(key='literal')` by their links,
    and a context function's call by its value, where the template does not bind the name itself."""

    def __init__(self, environment: FoldingEnvironment, names: frozenset, static_modules: frozenset):
        self.environment = environment
        self.names = names
        self.static_modules = static_modules  # names of this template's imports of static.html

    def visit_Call(self, node: nodes.Call):
        node = self.generic_visit(node)
        if not _literal_call(node):
            return node
        args = [a.value for a in node.args]
        kwargs = {k.key: k.value.value for k in node.kwargs}
        target = node.node
        if isinstance(target, nodes.Getattr):
            if (
                target.attr != "url"
                or not isinstance(target.node, nodes.Name)
                or target.node.name not in self.static_modules
            ):
                return node
            function = self.environment.static_url()
        elif isinstance(target, nodes.Name) and target.name in self.names:
            if target.name in LABEL_FUNCTIONS:
                return self._label(node, args, kwargs)
            # A context function, else (fixed_url, admin_static_url) the global the compiled call
            # would have called.
            functions = self.environment.ecqs_functions
            function = functions.get(target.name) or self.environment.globals[target.name]
        else:
            return node
        if function is None:
            return node
        try:
            value = function(*args, **kwargs)
        except Exception:  # a bad link or label fails at run time, as before
            return node
        if type(value) is not str:  # Markup and the like: left to run time
            return node
        return nodes.Const(value, lineno=node.lineno)

    def _label(self, node, args, kwargs):
        if len(args) != 1 or kwargs:
            return node
        text = self.environment.ecqs_translations.ugettext(args[0])
        if "%" in text:
            return node  # template_gettext %-formats it at run time: left to it
        # As template_gettext: the trusted catalogue's text, Markup where autoescaping.
        return nodes.MarkSafeIfAutoescape(nodes.Const(text), lineno=node.lineno)


class FoldingEnvironment(FlaskEnvironment):
    """The app's Jinja environment (an overlay: same loader, globals and filters, own cache)
    whose templates are compiled with the labels of one catalogue, the links of one root and
    the values of the caller's context functions."""

    ecqs_translations = None
    ecqs_functions: dict = {}
    _ecqs_static_url = False  # not looked up yet

    def static_url(self):
        """admin/static.html's `url` where it is the global admin_static_url, else None."""
        if self._ecqs_static_url is False:
            function = self.globals.get(STATIC_FUNCTION)
            try:
                url = getattr(self.get_template(STATIC_TEMPLATE).module, "url", None)
            except Exception:
                url = None
            self._ecqs_static_url = function if function is not None and url is function else None
        return self._ecqs_static_url

    def _parse(self, source, name, filename):
        tree = super()._parse(source, name, filename)
        bound = _bindings(tree)
        names = (LABEL_FUNCTIONS | LINK_FUNCTIONS | set(self.ecqs_functions)) - set(bound)
        static_modules = {
            target for target, binders in bound.items() if all(_imports_static(binder) for binder in binders)
        }
        return _Folder(self, frozenset(names), frozenset(static_modules)).visit(tree)


def folded_environment(functions: ContextFunctions = ()) -> FoldingEnvironment:
    """The folding environment of this request's language and root, for a caller whose every
    context holds `functions` (name, function) — the cache key includes them."""
    environments = current_app.extensions.setdefault("ecqs_folded_templates", {})
    key = (str(get_locale()), request.script_root, functions)
    env = environments.get(key)
    if env is None:
        base = current_app.jinja_env
        env = base.overlay(cache_size=base.cache.capacity if base.cache is not None else 400)
        env.__class__ = FoldingEnvironment
        env.bytecode_cache = None  # code compiled for one key must not reach another
        # The request's catalogue is the one of its locale: every request of this key has it.
        env.ecqs_translations = babel.domain_instance.get_translations()
        env.ecqs_functions = dict(functions)
        if len(environments) >= _MAX_ENVIRONMENTS:
            environments.clear()
        environments[key] = env
    return env


def folded_template(name: str, context: dict, functions: ContextFunctions = ()) -> Template | str:
    """The template `name` compiled with its literal calls folded, for rendering with `context`
    (the values the caller passes); the name itself (the plain template) where the context
    redefines a folded global or does not hold `functions` as given."""
    if any(global_name in context for global_name in FOLDED_GLOBALS) or any(
        context.get(function_name) is not function for function_name, function in functions
    ):
        return name
    return folded_environment(functions).get_template(name)


def render_portal_page(template_name: str, **context) -> str:
    """render_template for a portal page: the same output, its literal labels and fixed links
    compiled in (per language and application root) instead of computed per request."""
    return render_template(folded_template(template_name, context), **context)
