"""PHQ-9, the registry's main measure (docs/clinical-definitions.md#instruments).

Kroenke, Spitzer and Williams, J Gen Intern Med 2001;16:606-613. The Spanish wording is the
published US Spanish version (Pfizer, PHQ Screeners).
"""

from registry.definitions.remission import REMISSION_BELOW
from registry.instruments.base import FREQUENCY_ANSWERS, Band, ExtraQuestion, Instrument, Wording

ITEMS = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself, or that you are a failure or have let yourself or your family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed, or the opposite: "
    "being so fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead, or of hurting yourself in some way",
)
ITEMS_ES = (
    "Poco interés o placer en hacer cosas",
    "Se ha sentido decaído(a), deprimido(a) o sin esperanzas",
    "Ha tenido dificultad para quedarse o permanecer dormido(a), o ha dormido demasiado",
    "Se ha sentido cansado(a) o con poca energía",
    "Sin apetito o ha comido en exceso",
    "Se ha sentido mal con usted mismo(a), o que es un fracaso o que ha quedado mal con usted mismo(a) "
    "o con su familia",
    "Ha tenido dificultad para concentrarse en ciertas actividades, tales como leer el periódico o ver la televisión",
    "¿Se ha movido o hablado tan lento que otras personas podrían haberlo notado? O lo contrario: muy "
    "inquieto(a) o agitado(a), que ha estado moviéndose mucho más de lo normal",
    "Pensamientos de que estaría mejor muerto(a) o de lastimarse de alguna manera",
)
QUESTION = "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
QUESTION_ES = "Durante las últimas 2 semanas, ¿qué tan seguido ha tenido molestias debido a los siguientes problemas?"
FREQUENCY_ANSWERS_ES = ("Ningún día", "Varios días", "Más de la mitad de los días", "Casi todos los días")

DIFFICULTY_QUESTION = (
    "If you checked off any problems, how difficult have these problems made it for you to do "
    "your work, take care of things at home, or get along with other people?"
)
DIFFICULTY_ANSWERS = ("Not difficult at all", "Somewhat difficult", "Very difficult", "Extremely difficult")
DIFFICULTY_QUESTION_ES = (
    "Si marcó cualquiera de los problemas, ¿qué tanta dificultad le han dado estos problemas "
    "para hacer su trabajo, encargarse de las tareas del hogar, o llevarse bien con otras personas?"
)
DIFFICULTY_ANSWERS_ES = ("No ha sido difícil", "Un poco difícil", "Muy difícil", "Extremadamente difícil")
# LOINC 69722-7 and its answer list LL358-3 in score order (0-3). LA6575-0 is "Very" and
# LA6574-3 "Extremely": the codes are not in numeric order.
DIFFICULTY = ExtraQuestion(
    field="difficulty",
    text=DIFFICULTY_QUESTION,
    answers=DIFFICULTY_ANSWERS,
    loinc="69722-7",
    answer_loinc=("LA6572-7", "LA6573-5", "LA6575-0", "LA6574-3"),
    translations=(("es", DIFFICULTY_QUESTION_ES, DIFFICULTY_ANSWERS_ES),),
)

# The bands of the PHQ-9 total (also the PHQ-A's).
BANDS = (
    Band(0, 4, "minimal"),
    Band(5, 9, "mild"),
    Band(10, 14, "moderate"),
    Band(15, 19, "moderately severe"),
    Band(20, 27, "severe"),
)

PHQ9 = Instrument(
    code="PHQ9",
    name="PHQ-9",
    items=ITEMS,
    max_answer=3,
    positive_at=10,
    bands=BANDS,
    item_loinc=(
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
    ),
    panel_loinc="44249-1",
    total_loinc="44261-6",
    safety_item=9,
    extra_questions=(DIFFICULTY,),
    translations=(
        Wording("en", "Mood (PHQ-9)", QUESTION, ITEMS, FREQUENCY_ANSWERS),
        Wording("es", "Estado de ánimo (PHQ-9)", QUESTION_ES, ITEMS_ES, FREQUENCY_ANSWERS_ES),
    ),
    optional=False,
    charted=True,
    remission_below=REMISSION_BELOW,
    fhir=True,
)
