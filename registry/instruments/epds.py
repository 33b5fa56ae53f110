"""EPDS, the Edinburgh Postnatal Depression Scale (docs/clinical-definitions.md#epds).

Cox, Holden and Sagovsky, Br J Psychiatry 1987;150:782-786. Ten statements about the past 7
days, each with its own four answers. On the printed form items 3 and 5-10 list their answers
from the highest score down (reverse-keyed); here every item's answers are listed in score
order, 0 to 3, and the stored answer is the score. Item 10 asks about thoughts of harming
oneself: 1 or more raises the safety flag, like PHQ-9 item 9.
"""

from registry.instruments.base import Band, Instrument, Wording

ITEMS = (
    "I have been able to laugh and see the funny side of things",
    "I have looked forward with enjoyment to things",
    "I have blamed myself unnecessarily when things went wrong",
    "I have been anxious or worried for no good reason",
    "I have felt scared or panicky for no very good reason",
    "Things have been getting on top of me",
    "I have been so unhappy that I have had difficulty sleeping",
    "I have felt sad or miserable",
    "I have been so unhappy that I have been crying",
    "The thought of harming myself has occurred to me",
)
# In score order (0-3), whatever the order on the printed form.
ANSWERS = (
    ("As much as I always could", "Not quite so much now", "Definitely not so much now", "Not at all"),
    ("As much as I ever did", "Rather less than I used to", "Definitely less than I used to", "Hardly at all"),
    ("No, never", "Not very often", "Yes, some of the time", "Yes, most of the time"),
    ("No, not at all", "Hardly ever", "Yes, sometimes", "Yes, very often"),
    ("No, not at all", "No, not much", "Yes, sometimes", "Yes, quite a lot"),
    (
        "No, I have been coping as well as ever",
        "No, most of the time I have coped quite well",
        "Yes, sometimes I haven't been coping as well as usual",
        "Yes, most of the time I haven't been able to cope at all",
    ),
    ("No, not at all", "Not very often", "Yes, sometimes", "Yes, most of the time"),
    ("No, not at all", "Not very often", "Yes, quite often", "Yes, most of the time"),
    ("No, never", "Only occasionally", "Yes, quite often", "Yes, most of the time"),
    ("Never", "Hardly ever", "Sometimes", "Yes, quite often"),
)
QUESTION = (
    "As you are pregnant or have recently had a baby, we would like to know how you are feeling. "
    "Please choose the answer that comes closest to how you have felt in the past 7 days, not just how you feel today."
)

EPDS = Instrument(
    code="EPDS",
    name="EPDS",
    items=ITEMS,
    max_answer=3,
    positive_at=10,
    bands=(Band(0, 9, "below cut-off"), Band(10, 12, "possible depression"), Band(13, 30, "probable depression")),
    item_answer_labels=ANSWERS,
    answer_loinc=(),
    prompt="In the past 7 days (answers in score order, 0-3; items 3 and 5-10 are printed in reverse).",
    # LOINC: the panel "Edinburgh Postnatal Depression Scale [EPDS]" and its total score.
    panel_loinc="71354-5",
    total_loinc="99046-5",
    safety_item=10,
    translations=(Wording("en", "How you have been feeling (EPDS)", QUESTION, ITEMS, item_answer_labels=ANSWERS),),
    enabled_by_default=False,
    charted=True,
    fhir=True,
)
