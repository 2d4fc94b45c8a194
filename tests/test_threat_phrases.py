"""Phrases of threat: realistic texts that must raise an emergency, and look-alikes that must not.

Same style as test_self_harm_phrases.py: one row per message. The patterns are module-level
data in bot/conversation/vocabulary.py (THREAT_PHRASES, NOT_THREAT); the tests below also check
that every pattern is exercised by a row here, that every look-alike saves one, and that the
counts in bot/conversation/vocabulary.md ("Threat counts") are the real ones. People: intern
Ana (duress word "tranquila"), buddy Beto (intern and responder), nurse Rosa (responder only).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.conversation import interpret as i
from bot.conversation import vocabulary as v
from bot.conversation.emergency import LOOK_ALIKE_PATTERNS, THREAT_PATTERNS
from bot.conversation.interpret import Context, Intent, interpret
from bot.conversation.phrases import Patterns, matches
from bot.conversation.words import Words
from tests.test_interpret import NOT_TYPOS, OPT_WORDS, TYPOS

ANA = Context(duress_word="tranquila")
BETO = Context(intern=True, responder=True)
ROSA = Context(intern=False, responder=True)
MOOD = Context(question="mood", duress_word="tranquila")
PHQ = Context(question="phq")
YESNO = Context(question="yesno")


def row(message: str, context: Context = ANA, /):
    return pytest.param(message, context, id=repr(message)[:60])


THREATS = [
    # being followed
    row("me vienen siguiendo"),
    row("Me vienen siguiendo desde Galeana"),
    row("me siguen"),
    row("creo que me siguen"),
    row("me siguen dos tipos en una moto"),
    row("un carro me viene siguiendo"),
    row("me está siguiendo un carro"),
    row("me estan siguiendo!!"),
    row("nos vienen siguiendo en una camioneta"),
    row("alguien me anda siguiendo"),
    row("ayer me siguieron hasta la clínica"),
    row("me persiguen"),
    row("nos vienen persiguiendo"),
    row("me siguen acosando"),  # a look-alike ("siguen ...ando") inside a threat saves nothing
    # armed men
    row("hay hombres armados afuera"),
    row("hombres armados en la entrada del pueblo"),
    row("llegaron unos tipos armados"),
    row("gente armada en la carretera"),
    row("llegaron armados"),
    row("traen armas"),
    row("traen cuernos de chivo"),
    row("un señor con pistola en la clínica"),
    row("sacó una pistola"),
    row("nos pararon unos armados"),
    row("me apuntó con una pistola"),
    row("hay un comando armado en la plaza"),
    # shots
    row("balazos"),
    row("se oyen balazos"),
    row("se escuchan disparos cerca"),
    row("hay balacera en la plaza"),
    row("balacera!!"),
    row("valazos"),  # as it sounds
    row("están disparando"),
    row("dispararon contra la clínica"),
    row("tiroteo en la carretera"),
    row("escuché detonaciones"),
    row("se oyen tiros"),
    row("nos quieren balacear"),
    # being taken
    row("me quieren llevar"),
    row("me quieren subir a una camioneta"),
    row("secuestro"),
    row("secuestraron al enfermero"),
    row("me quieren secuestrar"),
    row("quieren llevarme"),
    row("van a secuestrarme"),
    row("hubo un levantón en el ejido"),
    row("me subieron a una troca"),
    row("nos quieren levantar"),
    # threats and assault
    row("me amenazan"),
    row("me amenazaron por teléfono"),
    row("me siento amenazada"),
    row("amenazaron al promotor"),
    row("me golpeó"),
    row("me golpeó mi pareja"),
    row("me pegó"),
    row("me pegaron afuera del centro de salud"),
    row("me quieren matar"),
    row("me van a matar"),
    row("quieren matarme"),
    row("me quieren hacer daño"),
    row("me asaltaron en el camino"),
    row("me acosa un señor del pueblo"),
    row("nos atacaron"),
    row("me violaron"),
    row("abusaron de mí"),
    row("llamen a la policía"),
    # fear, said by the intern
    row("tengo miedo"),
    row("TENGO MIEDO"),
    row("tengo mucho miedo"),
    row("Tengo miedo, hay alguien afuera"),
    row("tengo un poco de miedo"),
    row("tenemos miedo"),
    row("siento miedo"),
    row("estoy muy asustada"),
    row("tengo miedo de que me pase algo"),
    # English
    row("someone is following me"),
    row("a car is following us"),
    row("i think i'm being followed"),
    row("he followed me home"),
    row("there are armed men outside"),
    row("men with guns at the clinic"),
    row("he has a gun"),
    row("gunshots"),
    row("I hear gunshots"),
    row("shots fired"),
    row("we heard shots"),
    row("they are shooting at us"),
    row("they want to take me"),
    row("they are trying to take me"),
    row("someone tried to kidnap me"),
    row("someone grabbed me"),
    row("they forced me into a car"),
    row("they threatened me"),
    row("he hit me"),
    row("i was attacked"),
    row("i am scared"),
    row("I'm so scared"),
    row("i'm terrified"),
    row("i'm so afraid"),
    row("i'm afraid for my life"),
    row("call the police"),
    # Over everything else, as an emergency word is
    row("ok, pero me vienen siguiendo"),  # over a fine answer
    row("estoy tranquila, me siguen"),  # over the duress word
    row("3 me siguen", MOOD),  # over a questionnaire answer
    row("0 pero tengo miedo", PHQ),
    row("si, tengo miedo", YESNO),  # over a yes/no answer
    row("VIAJE 2h, me vienen siguiendo"),  # over a trip
    row("LLEGUE pero hay balacera"),
    row("PAUSA 3d, me amenazan"),  # over a command
    row("mal, tengo miedo"),  # over not fine
    row("me quiero morir, me vienen siguiendo"),  # over self-harm
    row("ATIENDO 4821, me vienen siguiendo", BETO),  # a buddy is an intern: her danger wins
    row("hay balacera", ROSA),  # a nurse in danger, with nothing to acknowledge
    # Accepted over-alerts, on purpose: when unsure, alert
    row("tengo miedo de reprobar el ENARM"),  # fear said by the intern alerts
    row("llegó un paciente con un balazo"),  # a shooting nearby is danger close to her
    row("ya no se oyen balazos"),  # negation only counts right before the phrase
    row("no escuché disparos"),
    row("me quieren llevar a Monterrey a un curso"),  # "me quieren llevar" as the issue names it
    row("le tengo miedo a las arañas"),
]

NOT_THREATS = [
    # The look-alikes the issue names, and their relatives in a clinic
    row("le siguen doliendo las rodillas"),
    row("siguen sin llegar las vacunas"),
    row("seguimos con la campaña de vacunación"),
    row("seguimos"),
    row("me sigue doliendo la cabeza"),
    row("me siguen doliendo los pies"),
    row("me siguen llegando pacientes"),
    row("me siguen mandando papeles de la jurisdicción"),
    row("me sigue la tos"),
    row("me siguió la fiebre toda la noche"),
    row("me siguen sin pagar la beca"),
    row("me sigue igual la presión"),
    row("me siguen en Instagram"),
    row("¿me sigues?"),
    row("sígueme en Facebook"),
    row("el paciente tiene miedo a las agujas"),
    row("la niña tiene miedo"),
    row("le da miedo la inyección"),
    row("se le disparó la presión"),
    row("la glucosa se disparó a 400"),
    row("se dispararon los casos de dengue"),
    row("se me disparó el estrés"),
    row("se acabaron las balas de oxígeno"),
    row("trae amenaza de aborto"),
    row("paciente con amenaza de parto pretérmino"),
    row("me pegó la gripa"),
    row("me pegó el sol"),
    row("se me pegó la canción"),
    row("me atacó la migraña"),
    row("me van a llevar a Monterrey el viernes"),  # a ride
    row("me quieren llevar a comer"),
    row("me quieren llevar a la fiesta del pueblo"),
    row("el comisario me quiere llevar a la cabecera"),
    row("un perro me siguió hasta la casa"),
    row("los niños me siguen a todos lados"),
    row("me quieren subir el sueldo"),
    row("mi mamá me va a matar"),
    row("me van a matar de tanto trabajo"),
    row("nos quieren matar de hambre"),
    row("me van a matar en la guardia"),
    row("me levantaron temprano"),
    row("me levantaron a las 5 para la guardia"),
    row("levantamos el acta"),
    row("ya están armados los paquetes"),
    row("armamos los botiquines"),
    row("salió como bala"),
    row("está de a tiro lejos"),
    row("tiro la basura y regreso"),
    row("paciente con secuestro pulmonar"),
    row("hubo secuestro de datos en la computadora del centro"),
    row("me apunto al curso"),
    row("apunté la presión"),
    # Negated: no alert, `negated` set (see test_a_negated_threat_is_flagged)
    row("no tengo miedo"),
    row("ya no me siguen"),
    row("no hubo balacera"),
    row("sin balazos hoy, todo tranquilo"),
    row("no hay hombres armados"),
    # English
    row("flu shots today"),
    row("shooting pain in my leg"),
    row("follow me on instagram"),
    row("thanks for following up"),
    row("following me on facebook?"),
    row("I'm afraid I can't make it"),
    row("life-threatening bleeding"),
    row("threatened miscarriage at 10 weeks"),
    row("hit me up later"),
    row("the patient is scared of needles"),
    row("take me to dinner"),
    row("i got my flu shot"),
    row("she beat me at chess"),
    row("shoot me a message when you arrive"),
    # A nurse describing the case she takes is acknowledging it
    row("ATIENDO 4821, hubo balacera en el camino", ROSA),
    row("LISTO 4821, ya no hay balacera", ROSA),
]


@pytest.mark.parametrize(("text", "context"), THREATS)
def test_a_phrase_of_threat_raises_an_emergency(text, context):
    assert interpret(text, context) == Intent(i.EMERGENCY)


@pytest.mark.parametrize(("text", "context"), NOT_THREATS)
def test_a_look_alike_raises_no_emergency(text, context):
    assert interpret(text, context).kind != i.EMERGENCY


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A negated threat reads like a negated emergency word: flagged, then the usual rules
        # (a bare "no" with no other vocabulary word is not fine: someone calls her).
        ("no tengo miedo", Intent(i.NOT_OK, negated=True)),
        ("ya no me siguen", Intent(i.NOT_OK, negated=True)),
        ("no hay hombres armados, todo bien", Intent(i.OK, negated=True)),
        ("sin balazos hoy, todo tranquilo", Intent(i.OK, negated=True)),
        ("No, me vienen siguiendo", Intent(i.EMERGENCY)),  # a clause break: no negation
        ("no se si me siguen", Intent(i.EMERGENCY)),  # the negation is not right before it
    ],
)
def test_a_negated_threat_is_flagged(text, expected):
    assert interpret(text, ANA) == expected


def test_a_nurses_acknowledgement_that_names_the_danger_still_acknowledges():
    assert interpret("ATIENDO 4821, hubo balacera en el camino", ROSA) == Intent(i.ACK, code="4821")
    assert interpret("LISTO 4821, ya no hay balacera", ROSA) == Intent(
        i.RESOLVE, code="4821", negated=True
    )
    # an emergency word still wins there, as before; and an intern's own danger always does
    assert interpret("ATIENDO 4821 ayuda", ROSA) == Intent(i.EMERGENCY)
    assert interpret("ATIENDO 4821, me vienen siguiendo", BETO) == Intent(i.EMERGENCY)


def test_threats_by_others_are_emergencies_not_self_harm():
    assert interpret("quieren matarme", ANA) == Intent(i.EMERGENCY)
    assert interpret("me van a matar", ANA) == Intent(i.EMERGENCY)
    assert interpret("mi mamá va a matarme", ANA).kind not in (i.EMERGENCY, i.SELF_HARM)


def test_the_tables_are_as_large_as_the_issue_asks():
    assert len(THREATS) >= 40
    assert len(NOT_THREATS) >= 25


# --- Every pattern is exercised ----------------------------------------------------------


def _patterns_matching(text: str, patterns, gap: int) -> set[int]:
    words = Words.of(text)
    return {n for n, slots in enumerate(patterns) if any(matches(words, Patterns((slots,)), gap))}


def _unused(specs, patterns, rows, gap: int) -> list[str]:
    used = set().union(*(_patterns_matching(p.values[0], patterns, gap) for p in rows))
    return [spec for n, spec in enumerate(specs) if n not in used]


def test_every_threat_pattern_has_a_row():
    assert _unused(v.THREAT_PHRASES, THREAT_PATTERNS, THREATS, v.THREAT_GAP) == []


def test_every_look_alike_saves_a_row():
    assert _unused(v.NOT_THREAT, LOOK_ALIKE_PATTERNS, NOT_THREATS, 0) == []


# --- The counts in bot/conversation/vocabulary.md ----------------------------------------

VOCABULARY_MD = Path(__file__).resolve().parents[1] / "bot" / "conversation" / "vocabulary.md"


def counts() -> dict[str, int]:
    """What the "Threat counts" table in vocabulary.md must say."""
    return {
        "THREAT_PHRASES": len(v.THREAT_PHRASES),
        "NOT_THREAT": len(v.NOT_THREAT),
        "NOT_EMERGENCY_TYPOS": len(v.NOT_EMERGENCY_TYPOS),
        "threat rows": len(THREATS),
        "not-threat rows": len(NOT_THREATS),
        "typo rows": len(TYPOS),
        "not-typo rows": len(NOT_TYPOS),
        "opt-out and opt-in rows": len(OPT_WORDS),
    }


def test_the_threat_count_table_in_vocabulary_md_is_up_to_date():
    section = VOCABULARY_MD.read_text().split("\n## Threat counts\n")[1].split("\n## ")[0]
    written = dict(re.findall(r"^\| (.+?) \| (\d+) \|", section, re.M))
    assert {name: int(n) for name, n in written.items()} == counts()
