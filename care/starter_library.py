"""The starter education library every clinic begins with: short, plain-language handouts
written for CareReg (no copyrighted text). Clinics edit, add and retire topics in the app."""

# (title, category, handout text): blank lines separate paragraphs.
STARTER_TOPICS = [
    (
        "What is depression?",
        "depression",
        "Depression is a common health problem, not a weakness. It can change how you sleep, eat, "
        "think and feel, and make everyday things hard.\n\n"
        "It is treatable. Most people feel better with talking treatment, medicine, or both. "
        "Your care manager will check how you are doing every few weeks with a short questionnaire "
        "(the PHQ-9), so that your treatment can be changed if you are not getting better.\n\n"
        "Call your care team if you feel worse, or if you have thoughts of hurting yourself.",
    ),
    (
        "Understanding anxiety",
        "anxiety",
        "Everyone worries sometimes. Anxiety becomes a problem when worry is hard to control, lasts "
        "for weeks, and gets in the way of work, family or sleep. Your body may feel it too: a fast "
        "heartbeat, tight muscles, an upset stomach.\n\n"
        "Anxiety is treatable. Slow breathing, regular activity, cutting back on caffeine and "
        "facing fears step by step all help, and so can talking treatment and medicine.",
    ),
    (
        "Starting an antidepressant",
        "medications",
        "Antidepressants take time: most people notice some change after 2 to 4 weeks, and the full "
        "effect can take 6 to 8 weeks. Take your medicine every day, even when you start to feel "
        "better.\n\n"
        "Side effects such as an upset stomach, headache or trouble sleeping are common at first "
        "and often fade within two weeks. Tell your care manager about any side effect; do not stop "
        "the medicine suddenly without talking to your doctor.\n\n"
        "Most people keep taking it for at least 6 to 12 months after they feel well, to keep "
        "depression from coming back.",
    ),
    (
        "Behavioral activation: doing more of what matters",
        "behavioral_activation",
        "When we feel down we tend to do less, and doing less makes us feel worse. Behavioral "
        "activation breaks that circle by planning small, doable activities that bring enjoyment or "
        "a sense of accomplishment.\n\n"
        "Each week, choose one or two activities, put them on your calendar, and notice how you "
        "feel afterwards. Start small: a ten-minute walk counts. Your care manager will go over how "
        "it went at your next call.",
    ),
    (
        "Problem solving, one step at a time",
        "problem_solving",
        "Problems that feel too big can be broken down. 1. Say what the problem is, in one "
        "sentence. 2. Set a realistic goal. 3. List every possible solution, without judging them "
        "yet. 4. Weigh the pros and cons. 5. Choose one and plan the steps. 6. Try it, then look at "
        "how it went.\n\n"
        "Working through problems this way with your care manager over a few sessions can ease "
        "depression and help you feel more in control.",
    ),
    (
        "Sleeping better",
        "sleep",
        "Go to bed and get up at the same time every day, weekends too. Keep the bedroom dark, "
        "quiet and cool, and use the bed only for sleep. Avoid caffeine after noon, and alcohol and "
        "screens in the hour before bed.\n\n"
        "If you cannot fall asleep within about 20 minutes, get up and do something calm in dim "
        "light until you feel sleepy. A short walk in daylight each morning helps set your body "
        "clock.",
    ),
    (
        "Alcohol, drugs and your mood",
        "substance_use",
        "Alcohol and drugs can feel like they help for a moment, but they make depression and "
        "anxiety worse, disturb sleep, and can interfere with your medicines.\n\n"
        "Cutting down helps. If you want to cut down or stop, your care team can help you make a "
        "plan and find support. It is safe to talk about this with us.",
    ),
    (
        "Staying safe in a crisis",
        "safety",
        "If you have thoughts of hurting yourself or of being better off dead, you are not alone "
        "and help is available right now.\n\n"
        "Call or text 988 (the Suicide and Crisis Lifeline) at any hour, or call 911 or go to the "
        "nearest emergency department if you are in danger. Keep your safety plan where you can "
        "find it, keep medicines and firearms locked away or with someone you trust, and tell your "
        "care manager at your next call.",
    ),
]
