"""The fast path of `{% crispy_fast %}` writes crispy's bytes, and leaves to crispy what it does not know."""

import pytest
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Layout, Row
from django import forms
from django.template import Context, Template
from django.utils.safestring import mark_safe

from carereg.lib import crispy_fast
from carereg.lib.crispy_fast import option_html, render_crispy, widget_html

CRISPY = Template("{% load crispy_forms_tags %}{% crispy form %}")
CRISPY_FAST = Template("{% load crispy_fast %}{% crispy_fast form %}")


class EveryWidgetForm(forms.Form):
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), help_text="When it <em>was</em>.")
    at = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}), required=False)
    minutes = forms.IntegerField(min_value=0, max_value=600, widget=forms.NumberInput(attrs={"min": 0}))
    kind = forms.ChoiceField(choices=[("", "---------"), ("a", "A & a"), ("b", "B <b>")])
    grouped = forms.ChoiceField(choices=[("Group <1>", [("x", "X"), ("y", "Y")]), ("z", "Z")], required=False)
    count = forms.TypedChoiceField(choices=[(1, "one"), (2, "two")], coerce=int, required=False)
    name = forms.CharField(max_length=20, label="Name & title", required=False)
    email = forms.EmailField(required=False)
    reached = forms.BooleanField(required=False, initial=True, help_text="Untick when not.")
    agreed = forms.BooleanField(label="Agreed")
    tags = forms.MultipleChoiceField(
        choices=[("t1", "T1"), ("t2", "T2")], widget=forms.CheckboxSelectMultiple, required=False
    )
    pick = forms.ChoiceField(choices=[("p", "P"), ("q", "Q")], widget=forms.RadioSelect, required=False)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    safe_attr = forms.CharField(widget=forms.TextInput(attrs={"placeholder": mark_safe("a &amp; b")}), required=False)
    token = forms.CharField(widget=forms.HiddenInput, required=False, initial="t-1")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(Column("day"), Column("at", css_class="col-md-4"), Column("minutes", css_class="extra")),
            Row(Column("kind"), Column("grouped"), Column("count"), css_class="g-2"),
            "name",
            "email",
            "reached",
            "agreed",
            "tags",
            "pick",
            "note",
            "safe_attr",
            "token",
        )


BLANK: dict[str, str | list[str]] = {}
VALID = {"day": "2026-01-02", "minutes": "5", "kind": "a", "agreed": "on", "tags": ["t1"], "pick": "q", "note": "x"}
INVALID = {"day": "2099-99-01", "at": "25:00", "minutes": "-1", "kind": "nope", "count": "7", "name": "n" * 30}
INVALID |= {"email": "not-an-email", "tags": ["t3"], "pick": "r", "note": "<script>&", "safe_attr": '"quoted"'}


def draw(template: Template, form: forms.Form) -> str:
    return template.render(Context({"form": form, "csrf_token": "tok"}))


@pytest.mark.parametrize("data", [None, BLANK, VALID, INVALID], ids=["unbound", "blank", "valid", "invalid"])
def test_the_fast_path_draws_every_widget_as_crispy_does(data):
    crispy, fast = EveryWidgetForm(data), EveryWidgetForm(data)

    assert render_crispy(EveryWidgetForm(data), Context({})) is not None  # the fast path, not the fallback
    assert draw(CRISPY_FAST, fast) == draw(CRISPY, crispy)


def test_each_field_drawn_alone_is_crispys_field():
    for data in (None, INVALID):
        for name in EveryWidgetForm.base_fields:
            crispy, fast = EveryWidgetForm(data), EveryWidgetForm(data)
            crispy.helper.layout = Layout(name)
            fast.helper.layout = Layout(name)
            assert draw(CRISPY_FAST, fast) == draw(CRISPY, crispy), (name, data)


def test_a_form_with_non_field_errors_is_left_to_crispy():
    form = EveryWidgetForm(VALID)
    form.is_valid()
    form.add_error(None, "Both <cannot> be set.")

    assert render_crispy(form, Context({})) is None
    assert draw(CRISPY_FAST, form) == draw(CRISPY, form)


@pytest.mark.parametrize(
    "change",
    [
        lambda helper: setattr(helper, "form_tag", True),
        lambda helper: setattr(helper, "label_class", "col-2"),
        lambda helper: setattr(helper, "form_show_labels", False),
        lambda helper: setattr(helper, "help_text_inline", True),
        lambda helper: helper.layout.append(HTML("<hr>")),
        lambda helper: helper.layout.append(Row("name", css_id="names")),
    ],
    ids=["form tag", "label class", "no labels", "inline help", "HTML", "css id"],
)
def test_other_helper_settings_and_layout_objects_are_left_to_crispy(change):
    crispy, fast = EveryWidgetForm(INVALID), EveryWidgetForm(INVALID)
    change(crispy.helper)
    change(fast.helper)

    assert render_crispy(fast, Context({})) is None
    assert draw(CRISPY_FAST, fast) == draw(CRISPY, crispy)


def test_a_widget_with_its_own_template_is_drawn_by_its_template():
    class StarsWidget(forms.TextInput):
        template_name = "django/forms/widgets/number.html"  # any template the writer does not claim
        input_type = "number"

    StarsWidget.template_name = "django/forms/widgets/input.html"
    crispy, fast = EveryWidgetForm(INVALID), EveryWidgetForm(INVALID)
    for form in (crispy, fast):
        form.fields["name"].widget = StarsWidget()

    assert "django/forms/widgets/input.html" not in crispy_fast.WIDGET_TEMPLATES
    assert draw(CRISPY_FAST, fast) == draw(CRISPY, crispy)


class WithUploadForm(EveryWidgetForm):
    upload = forms.FileField(required=False, help_text="A letter.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.layout.append("upload")


@pytest.mark.parametrize("data", [None, INVALID], ids=["unbound", "invalid"])
def test_a_field_the_fast_path_does_not_draw_is_drawn_by_crispys_template_in_place(data):
    crispy, fast = WithUploadForm(data), WithUploadForm(data)

    drawn = draw(CRISPY_FAST, fast)

    assert render_crispy(WithUploadForm(data), Context({})) is not None
    assert 'type="file"' in drawn
    assert drawn == draw(CRISPY, crispy)


CRISPY_FILTER = Template("{% load crispy_forms_tags %}{{ form|crispy }}")
CRISPY_FAST_FILTER = Template("{% load crispy_fast %}{{ form|crispy_fast }}")


@pytest.mark.parametrize("data", [None, VALID], ids=["blank", "valid"])
def test_the_fast_filter_draws_every_widget_as_crispys_filter_does(data, monkeypatch):
    crispy, fast = EveryWidgetForm(data), EveryWidgetForm(data)
    if data is not None:
        assert fast.is_valid() and crispy.is_valid()
    expected = draw(CRISPY_FILTER, crispy)
    monkeypatch.setattr(crispy_fast, "as_crispy_form", None)  # the fast path, not the fallback

    assert draw(CRISPY_FAST_FILTER, fast) == expected


def test_the_fast_filter_leaves_a_form_with_errors_to_crispy(monkeypatch):
    monkeypatch.setattr(crispy_fast, "_render_field", None)  # the fast path would fail
    crispy, fast = EveryWidgetForm(INVALID), EveryWidgetForm(INVALID)
    assert draw(CRISPY_FAST_FILTER, fast) == draw(CRISPY_FILTER, crispy)


def test_the_fast_filter_leaves_a_form_with_an_upload_to_crispy(monkeypatch):
    monkeypatch.setattr(crispy_fast, "_render_field", None)
    assert draw(CRISPY_FAST_FILTER, WithUploadForm()) == draw(CRISPY_FILTER, WithUploadForm())


OPTIONS_LOOP = Template(
    "{% for choice in form.kind %}{{ choice.tag }}{% endfor %}|"
    "{% for choice in form.count %}{{ choice.tag }}{% endfor %}"
)
OPTION_TAGS = Template("{% load crispy_fast %}{{ form.kind|option_tags }}|{{ form.count|option_tags }}")


@pytest.mark.parametrize("data", [None, {"kind": "b", "count": "2"}], ids=["unbound", "chosen"])
def test_option_tags_writes_each_option_as_its_tag_does(data):
    form = EveryWidgetForm(data)

    assert OPTION_TAGS.render(Context({"form": form})) == OPTIONS_LOOP.render(Context({"form": form}))
    assert " selected" in OPTION_TAGS.render(Context({"form": form})) or data is None


@pytest.mark.parametrize("data", [None, VALID, INVALID], ids=["unbound", "valid", "invalid"])
def test_a_widget_and_a_choice_drawn_alone_are_djangos(data):
    form = EveryWidgetForm(data)
    for field in form:
        assert str(widget_html(field)) == str(field), field.name
        for option in field.subwidgets if field.name in ("tags", "pick") else ():
            assert str(option_html(option)) == option.tag(), (field.name, option.data["value"])
