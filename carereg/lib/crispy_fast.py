"""A faster `{% crispy form %}` for the plain layouts the busy pages use, with the same bytes.

crispy-forms stays the project's form library: a form's `helper` and layout say how it looks,
and crispy-bootstrap5's templates are the reference. Drawing a field through
`bootstrap5/field.html` costs about twenty template nodes and includes, which made crispy more
than half the CPU of the record-contact page (docs/benchmarks.md#cpu-per-request). This module
writes the same HTML in Python for what those pages use: a helper left at its defaults but for
`form_tag = False`, a layout of field names, `Row` and `Column`, and text, number, date, time,
select, textarea, single-checkbox and hidden widgets. The widget itself is still drawn by Django
(with the classes crispy adds), and the whole is passed through crispy's own `remove_spaces`,
as its `{% specialspaceless %}` does. A field of any other kind (radio and checkbox lists, file
inputs) is drawn by crispy's template in crispy's context; a form with anything else (another
helper setting, other layout objects, non-field errors, media) is drawn by crispy entirely.

The `|crispy_fast` filter does the same for `{{ form|crispy }}` (a form without errors), and
`|option_tags` writes a select's options as Django's select_option.html does.

carereg/tests/test_crispy_fast.py compares the two outputs, field by field, for every form
that uses this path, blank, bound, and with errors.
"""

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form, optgroups
from crispy_forms.templatetags.crispy_forms_tags import CrispyFormNode
from crispy_forms.templatetags.crispy_forms_utils import remove_spaces
from crispy_forms.utils import render_field
from django import forms, template
from django.conf import settings
from django.forms.boundfield import BoundWidget
from django.forms.renderers import get_default_renderer
from django.forms.widgets import Input
from django.template import Context
from django.template.defaulttags import CsrfTokenNode
from django.utils import formats
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData, SafeString, mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def crispy_fast(context: Context, form: forms.BaseForm) -> SafeString:
    """`{% crispy form %}`, drawn by render_crispy() when it can, else by crispy."""
    html = render_crispy(form, context)
    if html is not None:
        return html
    with context.push(crispy_fast_form=form):
        return mark_safe(CrispyFormNode("crispy_fast_form", None).render(context))


@register.filter(name="crispy_fast")
def as_crispy_form_fast(form: forms.BaseForm) -> SafeString:
    """`{{ form|crispy }}`, drawn here for a form without errors or media whose fields are all
    drawn here, else by crispy. crispy's filter draws each field through bootstrap5/field.html
    with the defaults of a plain helper, but for `error_text_inline`, hence no form with errors."""
    if (
        not isinstance(form, forms.BaseForm)
        or settings.CRISPY_TEMPLATE_PACK != "bootstrap5"
        or (form.is_bound and form.errors)
        or not _plain_form(form)
        or not all(_drawn_here(field) for field in form)
    ):
        return as_crispy_form(form)
    fields = "".join(_render_field(field, form, Context(), []) for field in form)
    return mark_safe(f"\n\n{remove_spaces(fields.strip())}\n")  # the blank lines of bootstrap5/uni_form.html


def _drawn_here(field: forms.BoundField) -> bool:
    """Whether _render_field() draws the field itself, without crispy's template."""
    widget = field.field.widget
    if field.is_hidden or (isinstance(widget, CHOICE_LIST_WIDGETS) and not field.field.show_hidden_initial):
        return True
    return isinstance(widget, PLAIN_WIDGETS) and not isinstance(widget, OTHER_WIDGETS)


# The helper settings the Python path reproduces (FormHelper's defaults, but the form tag).
DEFAULT_HELPER = {
    "form_tag": False,
    "form_method": "post",
    "disable_csrf": False,
    "form_show_errors": True,
    "form_show_labels": True,
    "help_text_inline": False,
    "error_text_inline": True,
    "label_class": "",
    "field_class": "",
    "form_class": "",
    "form_id": "",
    "form_action": "",
    "form_group_wrapper_class": "",
    "field_template": None,
    "template": None,
    "render_unmentioned_fields": False,
    "render_hidden_fields": False,
    "render_required_fields": False,
}
# Widgets drawn here; RadioSelect and CheckboxSelectMultiple subclass these and are excluded.
PLAIN_WIDGETS = (Input, forms.Select, forms.Textarea, forms.CheckboxInput)
CHOICE_LIST_WIDGETS = (forms.RadioSelect, forms.CheckboxSelectMultiple)  # the latter subclasses the former
OTHER_WIDGETS = (forms.FileInput, forms.MultiWidget)
# Names that field.html reads from the page's context when the helper does not set them.
PAGE_NAMES_READ = ("tag", "wrapper_class", "inline_class", "bootstrap_checkbox_offsets")
GAP = "\n    "  # stands for the template's indentation, which remove_spaces folds to one space


def render_crispy(form: Any, context: Context) -> SafeString | None:
    """What `{% crispy form %}` would draw in this context, or None when crispy must draw it.
    (`form` is a Django form carrying crispy's attributes, hence Any.)"""
    helper = getattr(form, "helper", None)
    if helper is None or not _plain_helper(helper):
        return None
    if not _plain_layout(helper.layout, form) or not _plain_form(form):
        return None
    if any(name in context for name in PAGE_NAMES_READ):
        return None
    crispy_context: list[Context] = []  # made only if a field needs crispy's own template
    form.rendered_fields, form.crispy_field_template = set(), None  # as helper.render_layout() sets them
    body = _render_layout(helper.layout, form, context, crispy_context)
    html = CsrfTokenNode().render(context) + GAP + body
    return mark_safe(f"\n\n{remove_spaces(html.strip())}\n")  # the blank lines of bootstrap5/whole_uni_form.html


def _plain_helper(helper) -> bool:
    if type(helper) is not FormHelper or helper.attrs or helper.inputs or not helper.include_media:
        return False
    if getattr(helper, "template_pack", None) not in (None, settings.CRISPY_TEMPLATE_PACK):
        return False
    return all(getattr(helper, name) == value for name, value in DEFAULT_HELPER.items())


def _plain_layout(layout, form) -> bool:
    if isinstance(layout, str):
        return layout in form.fields
    if type(layout) is Layout or (
        type(layout) in (Row, Column)
        and not layout.css_id
        and not layout.flat_attrs
        and layout.template == type(layout).template
    ):
        return all(_plain_layout(item, form) for item in layout.fields)
    return False


def _plain_form(form) -> bool:
    media = form.media
    has_media = bool(media._css_lists and any(media._css_lists)) or bool(media._js_lists and any(media._js_lists))
    return not has_media and not form.non_field_errors() and not getattr(settings, "CRISPY_CLASS_CONVERTERS", None)


def _render_layout(layout, form, context, crispy_context) -> str:
    if isinstance(layout, str):
        return _render_field(form[layout], form, context, crispy_context)
    inner = "".join(_render_layout(item, form, context, crispy_context) for item in layout.fields)
    if type(layout) is Row:
        return f'<div  class="row {conditional_escape(layout.css_class or "")}" >\n  {inner}\n</div>\n'
    if type(layout) is Column:
        css = layout.css_class or ""
        classes = css if "col" in css else f"col-md {css}"
        return f'<div \n     class="{conditional_escape(classes)}" >\n        {inner}\n</div>\n\n\n'
    return inner


def _render_field(field: forms.BoundField, form, context, crispy_context) -> str:
    widget = field.field.widget
    if field.is_hidden:
        return f"{GAP}{_widget_html(field)}{GAP}"
    if isinstance(widget, CHOICE_LIST_WIDGETS) and not field.field.show_hidden_initial:
        return _render_choice_list(field)
    if isinstance(widget, OTHER_WIDGETS) or not isinstance(widget, PLAIN_WIDGETS):
        return _render_with_crispy(field, form, context, crispy_context)
    if isinstance(widget, forms.CheckboxInput):
        return _render_checkbox(field)
    kind = "form-select" if isinstance(widget, forms.Select) else "form-control"
    return (
        f'{GAP}<div id="div_{field.auto_id}" class="mb-3{_css_classes(field)}">{GAP}{_label(field)}{GAP}'
        f"{_widget(field, kind)}{GAP}{_errors(field)}{GAP}{_help_text(field)}{GAP}</div>{GAP}"
    )


def _render_checkbox(field) -> str:
    required = " requiredField" if field.field.required else ""
    label = (
        f'<label for="{field.id_for_label}" class="form-check-label{required}">\n'
        f"                    {conditional_escape(field.label)}{_asterisk(field)}\n                </label>"
    )
    return (
        f'{GAP}<div class="mb-3">{GAP}<div id="div_{field.auto_id}" class="form-check{_css_classes(field)}">{GAP}'
        f"{_widget(field, 'form-check-input')}{GAP}{label}{GAP}{_errors(field)}{GAP}{_help_text(field)}"
        f"{GAP}</div>{GAP}</div>{GAP}"
    )


def _render_choice_list(field) -> str:
    """bootstrap5/field.html for radio buttons and checkboxes, with layout/radio_checkbox_select.html."""
    fieldset = field.use_fieldset and bool(field.label)
    invalid = " is-invalid" if field.errors else ""
    groups = optgroups(field)
    last_group = len(groups) - 1
    html = []
    for group_number, (group, options, _index) in enumerate(groups):
        if group:
            html.append(f"<strong>{conditional_escape(group)}</strong>")
        for number, option in enumerate(options):
            last = group_number == last_group and number == len(options) - 1
            html.append(_choice(field, option, invalid, _errors(field, tag="p") if last else ""))
    return (
        f'{GAP}<div id="div_{field.auto_id}" class="mb-3{_css_classes(field)}">{GAP}{_label(field)}{GAP}'
        f"<div >{GAP}{GAP.join(html)}{GAP}</div>{GAP}{_help_text(field)}{GAP}{'</fieldset>' if fieldset else ''}"
        f"{GAP}</div>{GAP}"
    )


def _choice(field, option: dict, invalid: str, errors: str) -> str:
    target = conditional_escape(option["attrs"].get("id", ""))
    return (
        f'<div class="form-check">{GAP}<input type="{conditional_escape(option["type"])}" '
        f'class="form-check-input{invalid}"  name="{field.html_name}" value="{_unlocalized(option["value"])}" '
        f'{_attrs(option["attrs"], skip=None)}>{GAP}<label for="{target}" class="form-check-label">\n'
        f"            {_unlocalized(option['label'])}\n        </label>{GAP}{errors}{GAP}</div>"
    )


def _unlocalized(value) -> str:
    """`{{ value|unlocalize }}`."""
    return conditional_escape(str(formats.localize(value, use_l10n=False)))


def _label(field) -> str:
    if not field.label:
        return ""
    required = " requiredField" if field.field.required else ""
    target = f'for="{field.id_for_label}"' if field.id_for_label else ""
    if not field.use_fieldset:
        return (
            f'<label\n                {target} class="form-label{required}">\n'
            f"                {conditional_escape(field.label)}{_asterisk(field)}\n            </label>"
        )
    described = f' aria-describedby="{field.aria_describedby}"' if field.aria_describedby else ""
    return (
        f'<fieldset{described}>{GAP}<legend\n                {target} class="form-label{required} fs-6">\n'
        f"                {conditional_escape(field.label)}{_asterisk(field)}\n            </legend>"
    )


def _asterisk(field) -> str:
    return '<span class="asteriskField">*</span>' if field.field.required else ""


def _css_classes(field) -> str:
    classes = field.css_classes()
    return f" {classes}" if classes else ""


def _widget(field, kind: str) -> str:
    """The widget with the classes crispy's `{% crispy_field %}` adds to its attrs (it keeps them)."""
    wanted = f"{kind} is-invalid" if field.errors else kind
    attrs = field.field.widget.attrs
    name = type(field.field.widget).__name__.lower()
    css = attrs.get("class", "")
    css = (css if name in css else f"{css} {name}") if css else name
    css += "".join(f" {c}" for c in wanted.split() if c not in css.split())
    attrs["class"] = css
    return _widget_html(field)


def _widget_html(field: forms.BoundField) -> str:
    """str(field), written here for Django's input, select and textarea templates (with the
    project's attrs.html, which leaves out maxlength); other widgets through their templates."""
    widget = field.field.widget
    kind = WIDGET_TEMPLATES.get(widget.template_name)
    own_options = getattr(widget, "option_template_name", SELECT_OPTION) != SELECT_OPTION
    own_renderer = type(field.form.renderer) is not type(get_default_renderer())
    if kind is None or own_options or own_renderer or field.field.show_hidden_initial:
        return str(field)
    if field.field.localize:
        widget.is_localized = True
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    context = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    return kind(context)


def widget_html(field: forms.BoundField) -> SafeString:
    """`{{ field }}` (the widget alone), as Django's renderer draws it: it strips the newlines
    its templates end with."""
    return mark_safe(_widget_html(field).strip())


CHOICE_OPTIONS = ("django/forms/widgets/checkbox_option.html", "django/forms/widgets/radio_option.html")


def option_html(option: BoundWidget) -> SafeString:
    """`{{ choice.tag }}` of one checkbox or radio choice (its input, the label not wrapped)."""
    own_renderer = type(option.renderer) is not type(get_default_renderer())
    if option.data.get("template_name") not in CHOICE_OPTIONS or own_renderer:
        return option.tag()
    return mark_safe(_input(option.data).strip())


@register.filter
def option_tags(field: forms.BoundField) -> SafeString:
    """`{% for choice in field %}{{ choice.tag }}{% endfor %}` for a select's options, written as
    Django's select_option.html (with the project's attrs.html) writes them."""
    widget = field.field.widget
    own_renderer = type(field.form.renderer) is not type(get_default_renderer())
    if not isinstance(widget, forms.Select) or widget.option_template_name != SELECT_OPTION or own_renderer:
        return mark_safe("".join(choice.tag() for choice in field))
    return mark_safe(
        "".join(
            f'<option value="{_as_string(choice.data["value"])}"{_attrs(choice.data["attrs"])}>'
            f"{conditional_escape(choice.data['label'])}</option>"
            for choice in field
        )
    )


def _attrs(attrs: dict, skip: str | None = "maxlength") -> str:
    """templates/django/forms/widgets/attrs.html (which leaves out maxlength), or with skip=None
    crispy-bootstrap5's layout/attrs.html."""
    return "".join(
        f" {conditional_escape(name)}" + ("" if value is True else f'="{_as_string(value)}"')
        for name, value in attrs.items()
        if value is not False and name != skip
    )


def _as_string(value) -> str:
    """`{{ value|stringformat:'s' }}`: escaped unless the value was marked safe."""
    text = str(value)
    return text if isinstance(value, SafeData) else escape(text)


def _input(widget: dict) -> str:
    value = "" if widget["value"] is None else f' value="{_as_string(widget["value"])}"'
    kind, name = conditional_escape(widget["type"]), conditional_escape(widget["name"])
    return f'<input type="{kind}" name="{name}"{value}{_attrs(widget["attrs"])}>\n\n'


def _textarea(widget: dict) -> str:
    value = conditional_escape(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>\n'


def _select(widget: dict) -> str:
    html = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            html.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in options:
            html.append(
                f'\n  <option value="{_as_string(option["value"])}"{_attrs(option["attrs"])}>'
                f"{conditional_escape(option['label'])}</option>\n"
            )
        if group_name:
            html.append("\n  </optgroup>")
    html.append("\n</select>\n")
    return "".join(html)


SELECT_OPTION = "django/forms/widgets/select_option.html"


INPUT_KINDS = ("text", "number", "date", "time", "email", "url", "password", "hidden", "checkbox")
WIDGET_TEMPLATES = {f"django/forms/widgets/{kind}.html": _input for kind in INPUT_KINDS} | {
    "django/forms/widgets/select.html": _select,
    "django/forms/widgets/textarea.html": _textarea,
}


def _errors(field, tag: str = "span") -> str:
    if not field.errors:
        return ""
    items = GAP.join(
        f'<{tag} id="error_{n}_{field.auto_id}"><strong>{conditional_escape(error)}</strong></{tag}>'
        for n, error in enumerate(field.errors, start=1)
    )
    errors_id = conditional_escape(field.errors.field_id)
    return f'<div id="{errors_id}_error" class="invalid-feedback">{GAP}{items}{GAP}</div>'


def _help_text(field) -> str:
    if not field.help_text:
        return ""
    target = f'id="{field.auto_id}_helptext" ' if field.auto_id else ""
    return f'<div {target}class="form-text">{field.help_text}</div>'


def _render_with_crispy(field, form, context, crispy_context) -> str:
    """A field this module does not draw, through crispy's field template in crispy's context."""
    if not crispy_context:
        node = CrispyFormNode("form", None)
        node_context = context.__copy__()
        node_context.update({"is_bound": form.is_bound})
        node_context.update(node.get_response_dict(form.helper, context, False))
        crispy_context.append(node_context)
    return f"{GAP}{render_field(field.name, form, crispy_context[0])}{GAP}"
