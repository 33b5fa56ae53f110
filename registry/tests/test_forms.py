"""registry/forms.py: the radio cells of the item table, drawn in Python as the template drew them."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext

from registry.forms import ContactForm, ItemAnswersForm, MeasurementForm, radio_cells
from registry.instruments import INSTRUMENTS

# The loop registry/_item_table.html had before radio_cells() drew its cells.
TEMPLATE_CELLS = Template(
    """{% for choice in field %}
        <td class="text-center"><input class="form-check-input" type="radio" name="{{ field.html_name }}" value="{{ choice.data.value }}" id="{{ choice.id_for_label }}"
          aria-labelledby="{{ field.auto_id }}_label {{ choice.id_for_label }}_text"{% if choice.data.selected %} checked{% endif %}>
          <span class="visually-hidden" id="{{ choice.id_for_label }}_text">{{ choice.choice_label }}</span></td>
        {% endfor %}"""  # noqa: E501
)

SAME_ANSWERS = [code for code, instrument in INSTRUMENTS.items() if instrument.same_answers_for_all_items]


@pytest.mark.parametrize("code", SAME_ANSWERS)
@pytest.mark.parametrize("answered", [False, True], ids=["blank", "answered"])
def test_radio_cells_are_the_templates_cells(code, answered):
    instrument = INSTRUMENTS[code]
    prefix = instrument.code.lower()
    data = {f"{prefix}-item_{n}": str(n % (instrument.max_answer + 1)) for n in range(1, instrument.item_count + 1)}
    data[f"{prefix}-item_1"] = "99"  # an invalid answer: nothing checked, an error beside it
    form = ItemAnswersForm(data if answered else None, instrument=instrument, required=False)
    form.is_valid()

    for field, cells in form.item_rows():
        assert cells == radio_cells(field) == TEMPLATE_CELLS.render(Context({"field": field}))
    assert not answered or " checked>" in "".join(cells for _field, cells in form.item_rows())


def test_a_measurement_form_without_a_prefix_draws_the_same_cells():
    form = MeasurementForm({"item_1": "2"}, instrument=INSTRUMENTS["GAD7"], prefix="")

    field, cells = form.item_rows()[0]

    assert 'name="item_1" value="2" id="id_item_1_2"' in cells
    assert cells == TEMPLATE_CELLS.render(Context({"field": field}))


@pytest.mark.django_db
def test_the_contact_forms_constraint_checks_ask_the_database_nothing(clinic):
    data = {"contact_date": "2026-01-10", "kind": "follow_up", "with_whom": "patient", "mode": "phone"}
    form = ContactForm(data | {"minutes": "10", "next_contact_on": "2026-01-24"}, clinic=clinic)

    with CaptureQueriesContext(connection) as queries:
        valid = form.is_valid()

    assert valid
    assert [q["sql"] for q in queries.captured_queries if "_check" in q["sql"]] == []


@pytest.mark.django_db
def test_a_contact_form_breaking_a_check_constraint_says_so(clinic):
    data = {"contact_date": "2026-01-10", "kind": "follow_up", "with_whom": "patient", "mode": "phone"}
    form = ContactForm(data | {"minutes": "10", "next_contact_on": "2026-01-24"}, clinic=clinic)
    form.full_clean()
    form.instance.minutes = 601  # past the field's own check, as only the constraint would see it

    with pytest.raises(ValidationError) as raised:
        form.instance.validate_constraints()

    assert raised.value.messages == ["Constraint “contact_minutes_range” is violated."]
