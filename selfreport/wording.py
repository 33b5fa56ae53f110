"""What the patient reads, in plain language, in English and Spanish.

The English items are the PHQ-9's and GAD-7's own words (registry/scoring.py); the Spanish
ones are the published US Spanish versions (Pfizer, PHQ Screeners). The answers are scored by
the same code as the web form: only the words differ.
"""

from registry.scoring import GAD7_ITEMS, PHQ9_DIFFICULTY_ANSWERS, PHQ9_DIFFICULTY_QUESTION, PHQ9_ITEMS

PHQ9_ES = (
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
GAD7_ES = (
    "Se ha sentido nervioso(a), ansioso(a) o con los nervios de punta",
    "No ha sido capaz de parar o controlar su preocupación",
    "Se ha preocupado demasiado por motivos diferentes",
    "Ha tenido dificultad para relajarse",
    "Se ha sentido tan inquieto(a) que no ha podido quedarse quieto(a)",
    "Se ha molestado o irritado fácilmente",
    "Ha tenido miedo de que algo terrible fuera a pasar",
)

TEXT = {
    "en": {
        "title": "Your questionnaire",
        "intro": "Your care team asks you a few questions about how you have been feeling. It takes about "
        "3 minutes. Your answers go straight to your care team.",
        "confirm": "To keep your answers private, please enter your date of birth.",
        "birth_date": "Date of birth",
        "continue": "Continue",
        "wrong_birth_date": "That date of birth does not match our records. Please try again.",
        "locked": "This link is locked because the date of birth was entered wrongly too many times. "
        "Please call your care team.",
        "unavailable": "This link has expired or has already been used. If you want to answer the "
        "questions, please ask your care team for a new link.",
        "question": "Over the last 2 weeks, how often have you been bothered by any of the following problems?",
        "answers": ("Not at all", "Several days", "More than half the days", "Nearly every day"),
        "difficulty": PHQ9_DIFFICULTY_QUESTION,
        "difficulty_answers": PHQ9_DIFFICULTY_ANSWERS,
        "PHQ9": PHQ9_ITEMS,
        "GAD7": GAD7_ITEMS,
        "PHQ9_name": "Mood (PHQ-9)",
        "GAD7_name": "Worry and anxiety (GAD-7)",
        "missing": "Please answer question {number}.",
        "send": "Send my answers",
        "thanks": "Thank you. Your answers were sent to your care team.",
        "crisis_title": "If you are thinking about hurting yourself",
        "crisis": "Please call or text 988 now (the Suicide and Crisis Lifeline, open 24 hours) or call 911 "
        "if you are in danger. Your care team will also contact you.",
        "crisis_always": "If you ever think about hurting yourself, call or text 988, any time.",
        "other_language": "En español",
    },
    "es": {
        "title": "Su cuestionario",
        "intro": "Su equipo de atención le hace unas preguntas sobre cómo se ha sentido. Toma unos 3 minutos. "
        "Sus respuestas llegan directamente a su equipo de atención.",
        "confirm": "Para proteger sus respuestas, escriba su fecha de nacimiento.",
        "birth_date": "Fecha de nacimiento",
        "continue": "Continuar",
        "wrong_birth_date": "Esa fecha de nacimiento no coincide con nuestros registros. Inténtelo de nuevo.",
        "locked": "Este enlace está bloqueado porque la fecha de nacimiento se escribió mal demasiadas veces. "
        "Llame a su equipo de atención.",
        "unavailable": "Este enlace ya venció o ya se usó. Si quiere contestar las preguntas, pida un enlace "
        "nuevo a su equipo de atención.",
        "question": "Durante las últimas 2 semanas, ¿qué tan seguido ha tenido molestias debido a los "
        "siguientes problemas?",
        "answers": ("Ningún día", "Varios días", "Más de la mitad de los días", "Casi todos los días"),
        "difficulty": "Si marcó cualquiera de los problemas, ¿qué tanta dificultad le han dado estos problemas "
        "para hacer su trabajo, encargarse de las tareas del hogar, o llevarse bien con otras personas?",
        "difficulty_answers": ("No ha sido difícil", "Un poco difícil", "Muy difícil", "Extremadamente difícil"),
        "PHQ9": PHQ9_ES,
        "GAD7": GAD7_ES,
        "PHQ9_name": "Estado de ánimo (PHQ-9)",
        "GAD7_name": "Preocupación y ansiedad (GAD-7)",
        "missing": "Conteste la pregunta {number}, por favor.",
        "send": "Enviar mis respuestas",
        "thanks": "Gracias. Sus respuestas se enviaron a su equipo de atención.",
        "crisis_title": "Si está pensando en hacerse daño",
        "crisis": "Llame o envíe un mensaje de texto al 988 ahora (Línea de Prevención del Suicidio y Crisis, "
        "las 24 horas; oprima 2 para español) o llame al 911 si está en peligro. Su equipo de atención "
        "también se comunicará con usted.",
        "crisis_always": "Si alguna vez piensa en hacerse daño, llame o envíe un mensaje de texto al 988, a "
        "cualquier hora.",
        "other_language": "In English",
    },
}

EMAIL = {
    "en": (
        "A questionnaire from your care team",
        "Hello,\n\nYour care team at {clinic} asks you to answer a short questionnaire. Please open this "
        "link on your phone or computer:\n\n{url}\n\nThe link works once and expires on {expires}. If you "
        "did not expect this message, you can ignore it.\n",
    ),
    "es": (
        "Un cuestionario de su equipo de atención",
        "Hola:\n\nSu equipo de atención de {clinic} le pide contestar un cuestionario corto. Abra este enlace "
        "en su teléfono o computadora:\n\n{url}\n\nEl enlace funciona una sola vez y vence el {expires}. Si "
        "no esperaba este mensaje, puede ignorarlo.\n",
    ),
}

EMAIL_REMINDER = {
    "en": (
        "Your questionnaire is waiting",
        "Hello,\n\nYour care team at {clinic} is still waiting for your answers to a short questionnaire. "
        "Please open this link on your phone or computer:\n\n{url}\n\nThe link works once and expires on "
        "{expires}. If you did not expect this message, you can ignore it.\n",
    ),
    "es": (
        "Su cuestionario le espera",
        "Hola:\n\nSu equipo de atención de {clinic} todavía espera sus respuestas a un cuestionario corto. "
        "Abra este enlace en su teléfono o computadora:\n\n{url}\n\nEl enlace funciona una sola vez y vence "
        "el {expires}. Si no esperaba este mensaje, puede ignorarlo.\n",
    ),
}

# Texts hold the clinic's name, the link and its expiry, and how to stop: no name, score or
# diagnosis (docs/sms.md#message-content). STOP and HELP stay in English in every language:
# they are the keywords the provider and the carriers recognise.
SMS = {
    "en": {
        "link": "{clinic}: your care team asks you to answer a short questionnaire: {url} "
        "It works once and expires on {expires}. Reply STOP to stop texts.",
        "reminder": "{clinic}: your questionnaire is waiting: {url} It expires on {expires}. Reply STOP to stop texts.",
        "help": "{clinic}: questionnaire links from your care team. For help, call your clinic. "
        "Reply STOP to stop texts. In a crisis, call or text 988.",
        "unread": "{clinic}: replies to this number are not read. Please call your care team. If you are "
        "thinking about hurting yourself, call or text 988 now, or call 911.",
    },
    "es": {
        "link": "{clinic}: su equipo de atención le pide contestar un cuestionario corto: {url} "
        "Funciona una sola vez y vence el {expires}. Responda STOP para no recibir más mensajes.",
        "reminder": "{clinic}: su cuestionario le espera: {url} Vence el {expires}. "
        "Responda STOP para no recibir más mensajes.",
        "help": "{clinic}: enlaces a cuestionarios de su equipo de atención. Para ayuda, llame a su clínica. "
        "Responda STOP para no recibir más mensajes. En una crisis, llame o envíe un mensaje al 988.",
        "unread": "{clinic}: nadie lee las respuestas a este número. Llame a su equipo de atención. Si piensa "
        "en hacerse daño, llame o envíe un mensaje al 988 ahora, o llame al 911.",
    },
}
# Who sends, when a reply comes from a number no patient's consent holds.
SMS_UNKNOWN_SENDER = "CareReg"
