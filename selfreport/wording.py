"""What the patient reads around the questionnaires, in plain language, in English and Spanish.

The questions themselves are the instruments' own words, one copy per language, in their
modules (registry/instruments/, Instrument.wording): the answers are scored by the same code
as the web form, only the words differ.
"""

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
