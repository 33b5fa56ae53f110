"""PHQ-A, the PHQ-9 Modified for Adolescents (docs/clinical-definitions.md#phq-a).

Johnson, Harris, Spitzer and Williams, J Adolesc Health 2002;30:196-204. Nine items about the
past two weeks, in the adolescent's words and in their own order, scored 0-3 like the PHQ-9,
with the PHQ-9's bands; item 9 (thoughts of being better off dead or of hurting oneself)
answered 1 or more raises the safety flag, as on the PHQ-9.

Of its four unscored supplementary questions only the difficulty question is kept (in the
Measurement's difficulty column, as the PHQ-9's); the three yes/no questions (depressed most
days in the past year; serious thoughts of ending one's life in the past month; ever tried to
kill oneself) have no column to hold them and are not recorded: the docs say so.
"""

from registry.definitions.remission import REMISSION_BELOW
from registry.instruments.base import FREQUENCY_ANSWERS, ExtraQuestion, Instrument, Wording
from registry.instruments.phq9 import BANDS, DIFFICULTY_ANSWERS

ITEMS = (
    "Feeling down, depressed, irritable, or hopeless",
    "Little interest or pleasure in doing things",
    "Trouble falling asleep, staying asleep, or sleeping too much",
    "Poor appetite, weight loss, or overeating",
    "Feeling tired, or having little energy",
    "Feeling bad about yourself, or feeling that you are a failure, or that you have let yourself or your family down",
    "Trouble concentrating on things like school work, reading, or watching TV",
    "Moving or speaking so slowly that other people could have noticed, or the opposite: being so "
    "fidgety or restless that you were moving around a lot more than usual",
    "Thoughts that you would be better off dead, or of hurting yourself in some way",
)
QUESTION = "In the past two weeks, how often have you been bothered by each of the following symptoms?"
DIFFICULTY = ExtraQuestion(
    field="difficulty",
    text="If you are experiencing any of the problems on this form, how difficult have these problems made "
    "it for you to do your work, take care of things at home or get along with other people?",
    answers=DIFFICULTY_ANSWERS,
)

PHQA = Instrument(
    code="PHQA",
    name="PHQ-A",
    items=ITEMS,
    max_answer=3,
    positive_at=10,
    bands=BANDS,
    prompt="In the past two weeks, how often has the adolescent been bothered by each of the following symptoms?",
    # LOINC: "Patient Health Questionnaire-9: Modified for Teens [Reported.PHQ.Teen]" and its total
    # score. The items have no LOINC codes we could verify: over FHIR they are item-1 ... item-9,
    # their answers the PHQ's answer codes LA6568-5 ... LA6571-9 (the same four answers).
    panel_loinc="89206-7",
    total_loinc="89204-2",
    safety_item=9,
    extra_questions=(DIFFICULTY,),
    translations=(Wording("en", "How you have been feeling (PHQ-A)", QUESTION, ITEMS, FREQUENCY_ANSWERS),),
    enabled_by_default=False,
    charted=True,
    remission_below=REMISSION_BELOW,
    fhir=True,
)
