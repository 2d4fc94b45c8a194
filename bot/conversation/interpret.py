"""What an inbound text means: a pure function from (text, context) to one `Intent`.

No I/O, no database, no clock: the caller passes what the sender has pending (`Context`) and
acts on the answer. The vocabulary lives in the module-level data below so that it can be made
configurable; `bot/conversation/vocabulary.md` explains the normalisation, the precedence, the
negation rules and the self-harm phrases with examples. The guiding choice everywhere: when
unsure, alert rather than mark fine.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from functools import cached_property, lru_cache

# Intent kinds.
OK = "ok"
NOT_OK = "not_ok"
EMERGENCY = "emergency"
DURESS = "duress"
ACK = "ack"
RESOLVE = "resolve"
ANSWER = "answer"
SELF_HARM = "self_harm"
TRIP_START = "trip_start"
TRIP_EXTEND = "trip_extend"
TRIP_END = "trip_end"
PAUSE = "pause"
RESUME = "resume"
SET_TIME = "set_time"
MENU = "menu"
STATUS = "status"
SET_DURESS = "set_duress"
OPT_OUT = "opt_out"
OPT_IN = "opt_in"
UNKNOWN = "unknown"

# --- Vocabulary (normalised: lower case, no accents) -------------------------------------

FINE_WORDS = frozenset(
    {"ok", "okey", "okay", "oki", "bien", "bn", "si", "sip", "fine", "good", "yes", "yep"}
)
# Fine words that say how one is, so that negating them means "not fine" ("no estoy bien").
# "si"/"yes" are left out: "no se si ..." is "I don't know if ...", not "not fine".
NEGATABLE_FINE = frozenset({"ok", "okey", "okay", "oki", "bien", "bn", "fine", "good"})
FINE_PHRASES = (
    ("sin", "novedad"),
    ("sin", "novedades"),
    ("no", "pasa", "nada"),
    ("todo", "tranquilo"),
    ("todo", "en", "orden"),
)
NOT_FINE_WORDS = frozenset({"mal", "apoyo", "bad", "support"})
NO_WORDS = frozenset({"no", "nop", "nel", "nope"})
EMERGENCY_WORDS = frozenset(
    {
        "sos", "ayuda", "ayudame", "ayudeme", "ayudenme", "auxilio", "socorro",
        "emergencia", "emergencias", "peligro", "panico", "help", "emergency", "danger", "911",
    }
)  # fmt: skip
MENU_DIGITS = {"1": OK, "2": NOT_OK, "9": EMERGENCY}
# The emergency key. No question's scale uses it (mood 1-5, PHQ 0-3; a test keeps it so), so
# it wins whatever question is open. `3` was the emergency key until issue 8 and is now an
# ordinary digit: with nothing open it is not understood, and the caller shows the menu.
EMERGENCY_DIGIT = "9"
# Answers to a pending yes/no question ("¿Quieres que alguien del equipo te llame? SI/NO").
# The first strong word decides ("si, no me vendria mal" is yes, "no, si necesito algo te
# aviso" is no); a weak yes only counts when no strong word is there ("ok, no gracias" is no).
YES_STRONG = frozenset(
    {"si", "sip", "simon", "claro", "dale", "sale", "andale", "orale", "yes", "yep", "yeah",
     "sure", "llamame", "llamenme", "marcame", "marquenme", "hablame"}
)  # fmt: skip
YES_WEAK = frozenset(
    {"ok", "okey", "okay", "oki", "porfa", "porfavor", "favor", "please", "acuerdo"}
)
NO_ANSWER_WORDS = frozenset({"no", "nop", "nel", "nope", "nah", "nones"})
# A "no" answers the question only at the end of a clause or before one of these: "no gracias",
# "ahorita no", "no por ahora", "no te preocupes". Before anything else it negates what follows
# ("no estoy bien", "no tengo a nadie") and is not a refusal of the call.
NO_ANSWER_TAILS = (
    ("gracias",), ("grax",), ("thanks",), ("thank",), ("por", "ahora"), ("por", "hoy"),
    ("por", "el", "momento"), ("ahorita",), ("ahora",), ("todavia",), ("aun",), ("hoy",),
    ("mejor",), ("necesito",), ("ocupo",), ("need",), ("te", "preocupes"), ("hace", "falta"),
    ("es", "necesario"), ("now",), ("no",), ("nop",),
)  # fmt: skip
# Emoji that spell a vocabulary word; every other emoji is removed.
EMOJI_WORDS = {"\U0001f198": "sos", "\U0001f197": "ok"}

# --- Typos in emergency words (see vocabulary.md, "Typos under stress") -------------------
#
# An emergency word of TYPO_MIN_LENGTH letters or more also matches a token one typo away
# (one letter missing, extra, wrong, or two neighbours swapped: `auxlio`, `ayusa`,
# `emregencia`), compared as typed and as it sounds (`_sound`: `emerjensia`), and a token
# typed on the same phone keys (a multi-tap slip gives another letter of the same key:
# `ayuda` is 2-9-8-3-2, so `bzuda`). Shorter words (`sos`, `help`) are too close to
# everyday words for that (`por` is typed on the same keys as `sos`).
TYPO_MIN_LENGTH = 5
# Real words within one typo (or the same keys) of an emergency word that must not alert.
# Checked against word-frequency lists of Spanish and English; the tests keep each one.
NOT_EMERGENCY_TYPOS = frozenset(
    {
        # ayuda: helping someone, and clinic words
        "ayudo", "ayude", "ayudar", "ayudan", "ayudas", "ayudare", "ayudase", "ayudarme",
        "ayudale", "ayudate", "ayudele", "ayudense", "ayudenle",
        "aguda", "ayuna", "acuda", "hallada", "aztec",
        # auxilio: primeros auxilios; socorro: socorrio; panico: a town, a name, bread
        "auxilios", "auxilia", "socorrio", "sonoro", "panuco", "pancho", "panito", "panizo",
        "tanico", "punico", "panino", "rocoso",
        # English
        "anger", "dancer", "ranger", "hanger", "banger", "manger", "changer", "danner",
        "dinger", "dander", "langer", "sanger", "tanger", "emergence",
    }
)  # fmt: skip
T9_KEYS = ("abc", "def", "ghi", "jkl", "mno", "pqrs", "tuv", "wxyz")  # keys 2 to 9

# --- Self-harm (see vocabulary.md, "Words of self-harm") ----------------------------------
#
# Patterns, not words: each is a sequence of slots separated by spaces; a slot lists its
# spellings separated by "|"; `word*` matches any word starting so, `*word` any word ending
# so, and a slot ending in "?" may be missing. Both sides are compared as they sound in
# Spanish (`_sound`: "kiero" is "quiero", "bida" is "vida", "haserme" is "hacerme"), after the
# usual normalisation (no accents, no repeated letters).
#
# A self-harm pattern matches with up to SELF_HARM_GAP other words between two of its slots
# and across punctuation ("me quiero ya morir", "quiero... morirme"). When unsure, alert:
# a kind message with the crisis line to someone who did not need it costs little.
_WANT = "quiero|quero|kero|qro|quisiera|kisiera|queria|deseo"
_MYSELF = "myself|myslef|meself|self"

# Said of oneself. Everyday verbs (morir, matar, vivir, cortar) only in the first person:
# in the third person they are the daily talk of a clinic ("la señora murio", "el paciente
# se quiere morir"), which is not the intern speaking about herself.
SELF_HARM_PHRASES = (
    # wanting to die, or to be dead
    f"{_WANT}|ganas|prefiero morir*|mori|morime",  # me quiero morir, ganas de morirme
    f"{_WANT}|prefiero|ojala estar|estuviera|estuviese muerta|muerto",  # quisiera estar muerta
    "ojala me muera|muriera|muriese|muero",
    "mejor muerta|muerto",
    "mejor me muero|muera",
    # not wanting to live
    f"no {_WANT} vivir|viviendo|viva|vivo|existir|existiendo|despertar",
    "no|sin|perdi ganas vivir|existir",  # no tengo ganas de vivir
    f"{_WANT}|ojala|prefiero no existir|nacido",  # quisiera no existir, ojala no hubiera nacido
    "dejar de existir",
    "vida|vivir no vale|valen|tiene pena|sentido|nada",  # mi vida no tiene sentido
    "no vale|tiene pena|sentido vivir|viviendo|existir",  # no vale la pena vivir
    "no|sin|ningun|ninguna razon*|motivo* vivir",
    "nada por|para vivir",  # no tengo nada por que vivir
    "mejor sin mi",  # estarian mejor sin mi
    "dormir* y no despertar*",
    "no volver despertar*",
    "ojala no despierte|despertara|despertar",
    f"{_WANT}|ganas desaparecer",  # quiero desaparecer (but: "desaparecer un rato")
    "desaparecer para siempre",
    "ir|irme|desaparecer|salir|dejar|borrarme este|del mundo|planeta",  # irme de este mundo
    # ending one's life
    "matarme|matarm|suicidarme|ahorcarme",
    f"me {_WANT}|voy|vo matar|suicidar|ahorcar|lastimar|cortar",  # me voy a matar
    "quitarme|quitarm la vida",
    f"me {_WANT}|voy|vo quitar la vida",  # me voy a quitar la vida
    "acabar|terminar|acabe con mi vida",
    "acabar|terminar con todo",  # (but: "acabar con todo el papeleo")
    "pienso|pensando|pensar|pensamientos|ideas|ideacion morir*|muerte|matarme",
    # hurting oneself
    "hacerme|hacerm dano|danio",
    f"me {_WANT}|voy hacer dano|danio",
    "lastimarme|cortarme|autolesionarme",
    # English
    "want|wanna|wish|ready|rather die",
    "wish|want|wanna dead",  # I wish I was dead, I want to be dead
    "kill|killing|kil " + _MYSELF,
    "hurt|harm|cut|hurting|harming|cutting " + _MYSELF,
    "end|take|ending|taking|ended my life",
    "end it all",
    "dont|don|not want|wanna live|alive|exist|wake",  # I don't want to live
    "better off dead",
    "off without me",
    "no reason live",
    "nothing live for",
)
# Words that name suicide or self-harm. Unlike the phrases they alert whoever they are about
# (we cannot tell, and they are rare in a check-in), except inside a responder's
# ATIENDO/LISTO: the mental-health contact acknowledging a case may well name it.
SELF_HARM_WORDS = (
    "suicid*|sucid*|suicd*|siucid*",  # suicidio, suicidarme, suicida, suicide, suicidal
    "autolesion*|autolecion*",
    "auto lesion*",
    "self harm*|injur*",
    "selfharm*",
)
# Figures of speech that contain a self-harm phrase: a self-harm match whose last word falls
# inside one of these counts for nothing. They match only as written, word after word within
# one clause (no gap), so "ya no quiero vivir, aqui nadie me entiende" still alerts. Everyday
# phrases that contain no self-harm phrase at all ("me muero de risa", "me mata el calor")
# need no entry here; the tests keep a list of them.
_CAUSES = (
    "risa|hambre|sueno|ganas|frio|calor|cansancio|sed|aburrimiento|flojera|verguenza|pena|"
    "nervios|emocion|gusto|envidia|laughter|laughing|hunger|embarrassment|boredom|cold|heat"
)
NOT_SELF_HARM = (
    # me quiero morir de la verguenza, me muero de risa, matarme de tanto estudiar
    f"morir*|muero|muere|muera|muerta|muerto|mori|matar*|die|dying|dead "
    f"de|del|of|from la|el|los|las|lo|the? {_CAUSES}",
    "matar* de tanto|tantas|tantos",  # me voy a matar de tanto estudiar
    # me voy a matar estudiando, killing myself studying, want to die laughing
    "matar*|morir*|die|" + _MYSELF + " *ando|*iendo|*yendo|*ing",
    # mi mama va a matarme, me quieren matar: someone else (a threat, or a figure of speech)
    "va|van|vas|iba|iban|quiere|quieren|querian|pueden a? matarme|matar|quitarme",
    # cortarme el pelo, cortarme las uñas, cut my hair
    "cortar*|corte el|la|los|las|mi|mis? pelo|cabello|unas|fleco|flequillo|barba|bigote|"
    "puntas|grenas|copete|hair|nails",
    # ya no quiero vivir aqui, no quiero seguir viviendo en este pueblo, live here
    "vivir|viviendo|live|living ya|mas|more? aqui|aca|alla|ahi|en|a|al|cerca|lejos|solo|sola|"
    "solos|here|there|in|alone|near",
    # no quiero despertar temprano
    "despertar|wake tan|so|up? temprano|early|a|at",
    # quiero desaparecer un rato, quiero desaparecer de aqui (but not "... de este mundo")
    "desaparecer un|unos|unas|por|de|del rato|dia|dias|semana|tiempo|aqui|aca|pueblo|hospital",
    # acabar con todo el papeleo
    "todo el|la|los|las|lo|mi|mis|un|una|su|sus|este|esta|estos|estas|tu|tus",
)
SELF_HARM_GAP = 2  # other words allowed between two slots of a SELF_HARM pattern

# --- Threats (see vocabulary.md, "Phrases of threat") ------------------------------------
#
# Danger in plain words raises an emergency like an emergency word: being followed, armed
# men, shots, being taken, threats and assault, fear. Same pattern language and sound
# comparison as the self-harm phrases; at most THREAT_GAP other words between two slots
# ("me vienen siguiendo", "me van a llevar": one). A directly negated phrase ("no tengo
# miedo", "ya no me siguen", "no hubo balacera") does not alert and sets `negated`, as a
# negated emergency word does. When unsure, alert.
_THEY_WANT = "quieren|quiere|querian|queria|quisieron|quiso|trataron|intentaron|tratan|intentan"
_THEY_WILL = "van|iban|vienen|venian"  # "me van a matar"; not "me van a llevar" (a ride)
_TAKE = "llevar|subir|jalar|levantar|secuestrar|agarrar|raptar|encerrar|llevarse|robar"
_HURT = "matar|violar|golpear|madrear|secuestrar|levantar|desaparecer|balacear|disparar|asaltar"
_WEAPON = (
    "arma|armas|pistola|pistolas|cuerno|cuernos|rifle|rifles|metralleta|metralletas|fusil|"
    "fusiles|escopeta|escopetas|gun|guns|weapon|weapons"
)
THREAT_PHRASES = (
    # being followed
    "me|nos siguen|sigue|sigen|sige|siguieron|siguio|seguian|seguia|persiguen|persigue|"
    "persiguieron|persiguio|perseguian|perseguia",  # me siguen, un carro me sigue
    "me|nos vienen|viene|venian|venia|estan|esta|andan|anda|andaban|andaba|van|va|iban|iba "
    "siguiendo|sigiendo|persiguiendo|persigiendo",  # me vienen siguiendo, me esta siguiendo
    "following|follows|followed|chasing|chased|stalking|stalked me|us",
    "being followed|chased|stalked",
    # armed men
    "hombre*|tipo*|bato*|vato*|sujeto*|gente|persona*|encapuchado*|grupo*|comando*|sicario*|"
    "malandro*|wey*|guey* armado|armados|armada|armadas",  # hombres armados, gente armada
    "estan|vienen|venian|llegaron|andan|andaban|iban|entraron|bajaron|son|eran armados|armadas",
    "traen|traian|trae|traia|tienen|tenian|tiene|tenia|sacaron|saco|sacan|saca|llevan|llevaban|"
    f"lleva|llevaba|con|with|has|have|had|pulled|holding|carrying {_WEAPON}",  # traen armas
    f"apunt* con {_WEAPON}|cuchillo|navaja",  # me apunto con una pistola
    "unos|unas|los|las|varios|puros armados|armadas",  # nos pararon unos armados
    "armed man|men|guys|people|group|gang",
    # shots
    "balazo|balazos|balacera|balaceras|balacearon|balacean|balaceando|balaceo|balas|tiroteo|"
    "tiroteos|tirotearon|plomazo|plomazos|disparo|disparos|dispararon|disparan|disparando|"
    "detonacion|detonaciones|tiros|gunshot|gunshots|gunfire|shootout|shooting|gunman|gunmen|"
    "gunpoint|encanonaron|encanonado|encanonada",
    "shots fired",
    "hear|heard|hearing shots",
    "shot|shooting|shoot at|me|us",
    # being taken
    "secuestro|secuestros|secuestrar*|secuestrad*|secuestran|secuestrando|levanton|levantones|"
    "rapto|raptar*|raptad*|kidnap*|abduct*",
    f"me|nos {_THEY_WANT} {_TAKE}",  # me quieren llevar, me quieren subir a una camioneta
    f"{_THEY_WANT} llevarme|llevarnos|subirme|subirnos|jalarme|agarrarme|raptarme",
    f"{_THEY_WANT}|{_THEY_WILL} levantarme|levantarnos|secuestrarme|secuestrarnos|matarme|"
    "matarnos|violarme|asaltarnos",
    "me|nos subieron|levantaron|jalaron|secuestraron|raptaron",  # me subieron a una troca
    "want|wanna|trying|try|tried take|grab|kidnap|abduct me|us",  # they want to take me
    "grabbed|forced|pushed me|us into|in",
    # threats and assault
    "me|nos amenaz*",  # me amenazan, me siento amenazada
    "amenazaron|amenazan|amenazando|amenazas|threaten*|threat|threats",
    f"me|nos {_THEY_WANT}|{_THEY_WILL} {_HURT}",  # me quieren matar, me van a matar
    f"me|nos {_THEY_WANT}|{_THEY_WILL} hacer dano|danio",  # me quieren hacer daño
    "me|nos golpeo|golpearon|golpean|golpea|golpeando|golpeaba|golpeaban|pego|pegaron|pegan|"
    "pega|pegando|pegaba|pegaban|madrearon|madreo|asaltaron|asaltan|asalto|asaltando|atracaron|"
    "violaron|violo|acosa|acosan|acosando|acosaba|acosaban|acosaron|atacaron|ataco|atacan|"
    "atacando|agredieron|agredio|agreden",  # me golpeo, me pego, me asaltaron
    "abusaron|abuso de mi|nosotras|nosotros",
    "attacked|attacking|assaulted|punched|raped|mugged|beat|beating|hitting|hit|stabbed|"
    "robbed|grabbed me|us",
    "was|were|got|been|being attacked|assaulted|mugged|robbed|raped|stabbed|kidnapped|abducted",
    "llamen|llame|llamar|llama|marquen|hablen|call a|al? la|los|the? policia|policias|"
    "patrulla|police|cops",  # llamen a la policia
    # fear
    "tengo|tenemos|siento miedo|terror|pavor",  # tengo miedo, tengo mucho miedo
    "tengo|tenemos|siento poco|chingo|monton|bastante de miedo",  # tengo un poco de miedo
    "estoy|estamos|ando asustada|asustado|asustadas|asustados|aterrada|aterrado|aterrorizada|"
    "aterrorizado|espantada|espantado",
    "i|im|we|were am|m|are|re|so|very|really|feel|feeling? scared|terrified|frightened",
    "so|very|really|too afraid",
    "afraid for my|our life|lives",
)
THREAT_GAP = 1  # other words allowed between two slots of a THREAT_PHRASES pattern
_ILLNESS = (
    f"{_CAUSES}|gripa|gripe|covid|sol|cruda|tos|virus|infeccion|diarrea|resfriado|catarro|"
    "dengue|zika|chikungunya|piojos|hongos|bicho|desvelada|susto|fiebre|dolor|dolores|mareo|"
    "mareos|nausea|nauseas|comezon|ardor|molestia|molestias|alergia|migrana|colitis|gastritis|"
    "asma|panza|estomago|ansiedad|tristeza|depre"
)
# Look-alikes that contain a threat phrase; like NOT_SELF_HARM they neutralise a match whose
# last word falls inside them, word after word within one clause. Look-alikes that contain
# no threat phrase at all ("le siguen doliendo", "seguimos") need no entry; the tests keep
# a list of them.
NOT_THREAT = (
    # me sigue doliendo, me siguen llegando pacientes, me siguen sin pagar, me sigue la tos
    "sigue|siguen|siguio|siguieron|seguia|seguian *ando|*iendo|*yendo|sin|igual|iguales|con|"
    "mal|bien",
    f"sigue|siguen|siguio|siguieron|seguia|seguian el|la|los|las|mi|un|una? {_ILLNESS}",
    # un perro me siguio hasta la casa, los niños me siguen
    "perro|perros|perrito|perritos|gato|gatos|vaca|vacas|burro|burros|chivo|chivos|nino|ninos "
    "me|nos sigue|siguen|siguio|siguieron",
    # me siguen en instagram, following me on facebook
    "sigue|siguen|siguiendo|following|follows|followed|follow me|us? en|on|in|por? face|"
    "facebook|instagram|insta|ig|tiktok|twitter|redes|youtube|twitch",
    # se le disparo la presion, la glucosa se disparo, se dispararon los casos
    "disparo|disparan|dispararon|disparando|dispara|disparaba el|la|los|las|su|sus|mi? "
    "presion|glucosa|glicemia|azucar|fiebre|temperatura|tension|frecuencia|pulso|casos|"
    "precio|precios|alarma|alarmas|flash|foto|fotos|camara|trigliceridos|colesterol|cifras|"
    "estres|ansiedad|adrenalina",
    "presion|glucosa|glicemia|azucar|fiebre|temperatura|tension|casos|precios|cifras se|le|"
    "les|me|nos? se|le|les|me|nos? disparo|disparan|dispararon|disparaba",
    # balas de oxigeno (oxygen cylinders), a tiros de piedra
    "bala|balas de|del oxigeno|o2|gas|aire",
    # amenaza de aborto, amenaza de parto pretermino; life-threatening, threatened miscarriage
    "amenaz* de|del aborto|parto|abortar",
    "life|non threat*",
    "threat* abortion|miscarriage|preterm|labor|labour",
    # secuestro pulmonar (a lung malformation), secuestro de datos
    "secuestro* pulmonar|broncopulmonar|oseo",
    "secuestro* de datos|informacion|cuenta|cuentas",
    # me pego la gripa, me pego el sol, se me pego la cancion
    f"pego|pegaron|pega|pegan|pegaba|pegando el|la|los|las|un|una|mucho|muy? {_ILLNESS}",
    "se me|te|le|nos pego|pega|pegaron|pegan",
    # me ataco la migrana
    f"ataco|atacaron|ataca|atacan el|la|los|las|un|una? {_ILLNESS}",
    # me van a matar de tanto trabajo, nos quieren matar de hambre
    f"matar*|matan|mata de|del|con|en la|el|los|las|lo|tanto|tanta|tantos|tantas? "
    f"{_CAUSES}|trabajo|chamba|guardia|guardias|tarea|tareas|estudiar|examen|pacientes|"
    "consulta|coraje|preocupacion|cosquillas",
    # me quieren llevar a comer, me quieren subir el sueldo
    "llevar|llevarme|llevarnos a|al? la|el|una|un? comer|cenar|desayunar|almorzar|pasear|bailar|"
    "cine|misa|fiesta|tomar|cafe|curso|congreso|reunion|junta|capacitacion|cabecera|hospital|"
    "clinica|consulta|escuela|iglesia",
    "subir|subirme|subieron el|la|de|mi? sueldo|puesto|beca|renta|precio|dosis|volumen|piso",
    # me levantaron temprano, me levantaron a las 5
    "levantaron|levantar|levantarme|levantan temprano|tarde|para",
    "levantaron|levantar|levantarme|levantan a las",
    # ya estan armados los paquetes (put together)
    "armados|armadas|armado|armada los|las|el|la|unos|unas? kit|kits|paquete|paquetes|botiquin|"
    "botiquines|expediente|expedientes|equipo|equipos|carpeta|carpetas|caja|cajas|brigada|"
    "brigadas",
    # hit me up, beat me to it, shooting pain, a shot at the title, take me to dinner
    "hit me|us up|with|back",
    "beat me|us to|at",
    "shooting pain|pains|star|stars|photos|video|hoops",
    "shot|shoot me|us a|an text|message|email|line|note",
    "take me|us to|for dinner|lunch|breakfast|coffee|eat|movies|party",
    # tengo miedo escenico is still fear; llamar a la policia por el robo de ayer still alerts
)

# --- Leaving and rejoining (see vocabulary.md, "Opt-out") ---------------------------------
#
# Only a message that is nothing but one of these (after normalisation: `Stop.`, `BAJA!!`)
# opts out or back in, as carriers and Twilio do: `alto` in "hay un reten, alto total" or
# `cancelar` in "cancelar el viaje" is no request to leave. Twilio's default opt-out words
# (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT), its opt-in words START and
# UNSTOP, and our Spanish ones. Twilio's third opt-in word, YES, is left out on purpose: `yes`
# and `si` are check-in answers here.
OPT_OUT_WORDS = frozenset(
    {"stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit", "revoke", "optout",
     "opt out", "baja", "cancelar", "alto"}
)  # fmt: skip
OPT_IN_WORDS = frozenset({"start", "unstop", "alta"})

# A word is "directly negated" when one of these phrases ends right before it, or one
# NEGATION_GAP word before it ("no hay ningun peligro"). Closed lists on purpose.
NEGATORS = (
    ("no",), ("sin",), ("ya", "no"), ("nada", "de"), ("no", "hay"), ("no", "es"),
    ("no", "era"), ("no", "fue"), ("no", "necesito"), ("no", "ocupo"), ("no", "estoy"),
    ("no", "tengo"), ("no", "hubo"), ("fuera", "de"), ("not",), ("no", "need"),
    ("dont", "need"), ("don", "t", "need"), ("no", "longer"),
    # Thanks are not a call for help: "gracias por tu ayuda".
    ("gracias", "por"), ("thanks", "for"), ("thank", "you", "for"),
)  # fmt: skip
NEGATION_GAP = frozenset(
    {"un", "una", "ningun", "ninguna", "ninguno", "de", "en", "el", "la", "mi", "tu", "su",
     "mas", "nada", "a", "an", "any", "in", "the", "for", "your", "my", "more"}
)  # fmt: skip
# A fine word is negated more loosely (any of these up to three words before it): a missed
# negation here would mark someone fine, so this side errs towards "not fine".
LOOSE_NEGATORS = frozenset(
    {"no", "not", "ni", "nunca", "never", "don", "dont", "didnt", "doesnt", "isnt", "aint"}
)

TRIP_WORDS = frozenset({"viaje", "trip"})
ARRIVAL_WORDS = frozenset({"llegue", "llegamos", "arrived"})
# "cuando llegue te aviso" is a promise, not an arrival: stopping the trip timer would be wrong.
ARRIVAL_BLOCKERS = frozenset({"cuando", "que", "hasta", "apenas", "cuanto", "when"})
PAUSE_WORDS = frozenset({"pausa", "pausar", "vacaciones", "pause", "vacation"})
RESUME_WORDS = frozenset({"regreso", "regrese", "volvi", "reanudar", "resume"})
TIME_WORDS = frozenset({"hora", "horario", "time"})
MENU_WORDS = frozenset({"menu", "opciones", "comandos"})
STATUS_WORDS = frozenset({"estado", "status"})
DURESS_SET_WORDS = frozenset({"clave"})
ACK_WORDS = frozenset({"atiendo", "atendiendo", "enterado", "ack"})
RESOLVE_WORDS = frozenset({"listo", "resuelto", "resolved"})
# Skipped before a command word or a menu digit: "hola, PAUSA 3d", "opcion 2".
LEAD_FILLER = frozenset(
    {"hola", "buenos", "buenas", "buen", "dias", "dia", "tardes", "noches", "faro", "hi",
     "hello", "ya", "oye", "opcion", "respuesta", "numero"}
)  # fmt: skip
# Skipped between a command word and its argument: "PAUSA hasta el 24 de diciembre".
ARG_FILLER = frozenset(
    {"de", "del", "por", "hasta", "el", "al", "a", "las", "la", "los", "desde", "durante",
     "x", "en", "para", "caso", "case", "codigo", "code", "until", "for", "at"}
)  # fmt: skip
MONTHS = {
    "ene": 1, "enero": 1, "jan": 1, "january": 1, "feb": 2, "febrero": 2, "february": 2,
    "mar": 3, "marzo": 3, "march": 3, "abr": 4, "abril": 4, "apr": 4, "april": 4,
    "may": 5, "mayo": 5, "jun": 6, "junio": 6, "june": 6, "jul": 7, "julio": 7, "july": 7,
    "ago": 8, "agosto": 8, "aug": 8, "august": 8, "sep": 9, "sept": 9, "septiembre": 9,
    "setiembre": 9, "september": 9, "oct": 10, "octubre": 10, "october": 10,
    "nov": 11, "noviembre": 11, "november": 11, "dic": 12, "diciembre": 12, "dec": 12,
    "december": 12,
}  # fmt: skip

MAX_TRIP_MINUTES = 24 * 60
MAX_PAUSE_DAYS = 60
MAX_DESTINATION = 60
CODE = re.compile(r"\d{3,8}")  # incident codes are 4 digits today; the column holds 8

VOCABULARY = (
    FINE_WORDS | NOT_FINE_WORDS | NO_WORDS | EMERGENCY_WORDS | TRIP_WORDS | ARRIVAL_WORDS
    | PAUSE_WORDS | RESUME_WORDS | TIME_WORDS | MENU_WORDS | STATUS_WORDS | DURESS_SET_WORDS
    | ACK_WORDS | RESOLVE_WORDS
)  # fmt: skip


# --- API -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What the sender has pending; all optional."""

    intern: bool = True  # own check-in vocabulary applies
    responder: bool = False  # has incidents alerted to them (peer buddies are both)
    duress_word: str | None = None  # this intern's secret word, stored as typed
    # What the last question asked, while its answer is pending: "mood" (a digit 1-5), "phq"
    # (a digit 0-3) or "yesno" (SI/NO; the digits 1/2); see QUESTION_RANGES and YESNO.
    question: str | None = None
    today: date | None = None  # sender's local date, to complete dates like "24/12"


@dataclass(frozen=True)
class Intent:
    kind: str
    code: str | None = None  # incident code for ACK/RESOLVE, None when not given
    value: int | None = None  # ANSWER digit (yes/no: 1 yes, 0 no); PAUSE days; TRIP minutes
    until: date | None = None  # PAUSE: the first local day check-ins resume (exclusive end)
    at: time | None = None  # SET_TIME
    text: str | None = None  # trip destination / new duress word, as typed
    negated: bool = False  # an emergency word was seen but negated or thanked for


NO_CONTEXT = Context()
QUESTION_RANGES = {"mood": range(1, 6), "phq": range(0, 4)}  # answered with one digit
YESNO = "yesno"  # answered SI/NO (or 1/2); 9 stays the emergency key


def interpret(text: str | None, context: Context = NO_CONTEXT) -> Intent:
    """The one intent of an inbound text. Never raises on odd input; see vocabulary.md."""
    words = _Words.of(text or "")
    if not words.raw:
        return Intent(UNKNOWN)
    alert, negated = _emergency(words, context)
    if alert == _THREAT and not context.intern:  # a nurse's "ATIENDO 4821, hubo balacera"
        intent = _acknowledgement(words, context, text or "")
        if intent is not None:
            return intent
    if alert:
        return Intent(EMERGENCY)
    intent = _opt(words) or _classify(words, context, text or "")
    return replace(intent, negated=True) if negated else intent


def normalize(text: str) -> str:
    """Lower case, no accents/emoji/control characters, punctuation to spaces, `s.o.s` → `sos`,
    runs of 3+ equal letters to one. Keeps `:/.,-` between digits and `+` before a digit, so
    that times, dates and trip extensions survive."""
    return " ".join(_Words.of(text).raw)


def may_answer_a_case(text: str | None) -> bool:
    """Whether a text could be a responder's answer (an ack or close word, or a number that
    could be an incident code): only then does it matter if the sender has alerts open."""
    words = set(normalize(text or "").split())
    return bool(words & (ACK_WORDS | RESOLVE_WORDS)) or any(CODE.fullmatch(w) for w in words)


def clashes_with_vocabulary(word: str) -> bool:
    """Whether a proposed duress word contains a vocabulary word or a number; such a word
    would be read as something else (emergency wins; "bien" would make every check-in a
    duress; a self-harm word would start the self-harm path). For the caller to refuse it."""
    words = _Words.of(word)
    clash = any(
        w in VOCABULARY or w.isdigit() or _is_emergency_word(w) or _squeeze(w) in _OPT
        for w in words.words
    )
    return clash or _self_harm(words) is not None or bool(_threats(words))


# --- Normalisation -----------------------------------------------------------------------

_BREAK = "\n"  # marks a clause boundary between tokens; negation never crosses one
_DOTTED = re.compile(r"(?<![a-z0-9])[a-z](?:[.\-_*][a-z])+(?![a-z0-9])")
_TOKEN = re.compile(r"\n|[.,;:!?¡¿()\[\]{}\"]|(?:\+(?=\d))?[a-z0-9]+(?:(?<=\d)[:/.,\-]\d+)*")
_CLAUSE_MARKS = frozenset('.,;:!?¡¿()[]{}"\n')


def _fold(text: str) -> str:
    """Lower case, accents off, digits to ASCII; emoji become clause breaks, controls vanish."""
    out = []
    for char in unicodedata.normalize("NFKD", text.lower()):
        category = unicodedata.category(char)
        if char in EMOJI_WORDS:
            out.append(f" {EMOJI_WORDS[char]} ")
        elif char in "\n\r\u2028\u2029":
            out.append(_BREAK)
        elif char.isspace():
            out.append(" ")
        elif category in ("Mn", "Me", "Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        elif category in ("So", "Sk"):
            out.append(_BREAK)  # an emoji usually ends a thought: "no 😱 ayuda"
        elif category == "Nd":
            out.append(str(unicodedata.digit(char)))
        else:
            out.append(char)
    folded = _DOTTED.sub(lambda m: re.sub(r"[^a-z]", "", m.group(0)), "".join(out))
    return re.sub(r"\+\s+(?=\d)", "+", folded)


@lru_cache(maxsize=8192)  # pure and called per token and word: the same words come back all day
def _squeeze(token: str) -> str:
    """All runs of a repeated letter to one: only for comparing with the vocabulary."""
    return re.sub(r"([a-z])\1+", r"\1", token)


_SQUEEZED = {_squeeze(w): w for w in VOCABULARY}


def _canonical(token: str) -> str:
    """The vocabulary word a token spells with extra repeated letters ("okk", "noo"); never
    with fewer letters than the word ("god" is not "good")."""
    if token in VOCABULARY:
        return token
    word = _SQUEEZED.get(_squeeze(token))
    return word if word is not None and len(token) >= len(word) else token


@dataclass(frozen=True)
class _Words:
    """A text as tokens: `raw` (normalised), `words` (vocabulary spelling), `clause` numbers."""

    raw: tuple[str, ...]
    words: tuple[str, ...]
    clause: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> _Words:
        tokens: list[str] = []
        clause: list[int] = []
        number = 0
        for token in _TOKEN.findall(_fold(text)):
            if token in _CLAUSE_MARKS:
                number += 1
            else:
                tokens.append(token)
                clause.append(number)
        tokens, clause = _join_spelled(tokens, clause)
        # The vocabulary is matched before runs are cut, so "goood" still has its "oo".
        raw = tuple(re.sub(r"([a-z])\1{2,}", r"\1", t) for t in tokens)
        return cls(raw, tuple(_canonical(t) for t in tokens), tuple(clause))

    @cached_property
    def keys(self) -> tuple[str, ...]:
        """Each token as it sounds in Spanish (`_sound`), for the phrase patterns."""
        return tuple(_sound(t) for t in self.raw)

    def same_clause(self, i: int, j: int) -> bool:
        return 0 <= j < len(self.raw) and self.clause[i] == self.clause[j]

    def find(self, vocabulary: frozenset[str]) -> list[int]:
        return [i for i, w in enumerate(self.words) if w in vocabulary]

    def has_phrase(self, phrase: tuple[str, ...]) -> bool:
        n = len(phrase)
        return any(self.words[i : i + n] == phrase for i in range(len(self.words) - n + 1))


SPELLED_MAX = max(len(w) for w in VOCABULARY)  # bounds the work on long runs of letters


def _join_spelled(raw: list[str], clause: list[int]) -> tuple[list[str], list[int]]:
    """'s o s' and 'o k' spelled out letter by letter, joined when they spell a vocabulary word."""
    out, out_clause, i = [], [], 0
    while i < len(raw):
        j = i
        while (
            j < min(len(raw), i + SPELLED_MAX)
            and _spelled_letter(raw[j])
            and clause[j] == clause[i]
        ):
            j += 1
        joined = "".join(raw[i:j])
        if j - i >= 2 and _canonical(joined) in VOCABULARY:
            out.append(joined)
            out_clause.append(clause[i])
            i = j
        else:
            out.append(raw[i])
            out_clause.append(clause[i])
            i += 1
    return out, out_clause


def _spelled_letter(token: str) -> bool:
    return len(token) == 1 and token.isalpha()


_NOT_TYPED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "So", "Sk"})


def _typed(text: str) -> str:
    """The text as typed, minus controls, emoji and lone surrogates; for arguments shown to
    people (destinations, duress words)."""
    kept = "".join(ch for ch in text if ch.isspace() or unicodedata.category(ch) not in _NOT_TYPED)
    return " ".join(kept.split())


# --- Negation ----------------------------------------------------------------------------


def _directly_negated(words: _Words, i: int) -> bool:
    """A NEGATORS phrase ends right before word i, or one NEGATION_GAP word before it."""
    for end in (i - 1, i - 2):
        if end == i - 2 and words.words[i - 1] not in NEGATION_GAP:
            break
        for phrase in NEGATORS:
            start = end - len(phrase) + 1
            if words.same_clause(i, start) and words.words[start : end + 1] == phrase:
                return True
    return False


def _fine_negated(words: _Words, i: int) -> bool:
    loose = any(
        words.same_clause(i, j) and words.words[j] in LOOSE_NEGATORS for j in range(i - 3, i)
    )
    return loose or _directly_negated(words, i)


# --- Self-harm -------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def _sound(token: str) -> str:
    """A token as it sounds in Spanish, so that common misspellings compare equal:
    ll→y, h silent, qu/q/c(a,o,u)→k, c(e,i)/z→s, v→b, no repeated letters."""
    t = token.replace("ll", "y").replace("h", "")
    t = re.sub(r"qu|q", "k", _squeeze(t))
    t = re.sub(r"c(?=[ei])", "s", t).replace("c", "k").replace("z", "s").replace("v", "b")
    return _squeeze(t)


@dataclass(frozen=True)
class _Slot:
    """One slot of a pattern: `a|b*|*c` (exact, prefix, suffix), optional when it ends in `?`."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]
    suffixes: tuple[str, ...]
    optional: bool

    @classmethod
    def of(cls, spec: str) -> _Slot:
        spellings = spec.removesuffix("?").split("|")
        return cls(
            frozenset(_sound(s) for s in spellings if "*" not in s),
            tuple(_sound(s[:-1]) for s in spellings if s.endswith("*")),
            tuple(_sound(s[1:]) for s in spellings if s.startswith("*")),
            spec.endswith("?"),
        )

    def matches(self, key: str) -> bool:
        return key in self.exact or key.startswith(self.prefixes) or key.endswith(self.suffixes)

    def matches_any(self, keys: frozenset[str]) -> bool:
        if not self.exact.isdisjoint(keys):
            return True
        return bool(self.prefixes or self.suffixes) and any(self.matches(k) for k in keys)


def _pattern(spec: str) -> tuple[_Slot, ...]:
    return tuple(_Slot.of(slot) for slot in spec.split())


_SELF_HARM_PHRASES = tuple(_pattern(p) for p in SELF_HARM_PHRASES)
_SELF_HARM_WORDS = tuple(_pattern(p) for p in SELF_HARM_WORDS)
_NOT_SELF_HARM = tuple(_pattern(p) for p in NOT_SELF_HARM)
_PHRASE, _WORD = "phrase", "word"


def _ends(
    keys: tuple[str, ...], words: _Words, slots: tuple[_Slot, ...], k: int, at: int, gap: int
) -> Iterator[int]:
    """The index of the last word of each way slots[k:] match, slot k at `at` (k == 0) or up
    to `gap` words after it. A zero gap also keeps the match inside one clause."""
    if k == len(slots):
        yield at - 1
        return
    slot = slots[k]
    stop = at + 1 if k == 0 else min(len(keys), at + gap + 1)
    for j in range(at, stop):
        if k and not gap and not words.same_clause(at - 1, j):
            break
        if slot.matches(keys[j]):
            yield from _ends(keys, words, slots, k + 1, j + 1, gap)
    if slot.optional and k:
        yield from _ends(keys, words, slots, k + 1, at, gap)


def _matches(
    keys: tuple[str, ...], words: _Words, patterns: tuple[tuple[_Slot, ...], ...], gap: int
) -> Iterator[range]:
    """Each match of each pattern, as the range of word indexes it spans. A pattern is only
    walked when every slot it needs has a word in the text: most texts rule out most patterns
    with a few set lookups, which keeps a 1,600-character text cheap."""
    present = frozenset(keys)
    for slots in patterns:
        if not all(slot.optional or slot.matches_any(present) for slot in slots):
            continue
        for start, key in enumerate(keys):
            if slots[0].matches(key):
                for end in _ends(keys, words, slots, 1, start + 1, gap):
                    yield range(start, end + 1)


def _self_harm(words: _Words) -> str | None:
    """_PHRASE when a SELF_HARM_PHRASES pattern matches, else _WORD when a SELF_HARM_WORDS one
    does; a match whose last word lies inside a NOT_SELF_HARM figure of speech is ignored."""
    keys = words.keys
    idioms: list[range] | None = None
    for kind, patterns in ((_PHRASE, _SELF_HARM_PHRASES), (_WORD, _SELF_HARM_WORDS)):
        for match in _matches(keys, words, patterns, SELF_HARM_GAP):
            if idioms is None:  # most texts match nothing: look for idioms only when needed
                idioms = list(_matches(keys, words, _NOT_SELF_HARM, 0))
            if not any(match[-1] in idiom for idiom in idioms):
                return kind
    return None


# --- Emergency words with typos, phrases of threat, opt-out ------------------------------

_T9 = str.maketrans({c: str(key) for key, cs in enumerate(T9_KEYS, start=2) for c in cs})
_TYPO_TARGETS = tuple(
    (_squeeze(w), _sound(w), _squeeze(w).translate(_T9))
    for w in sorted(EMERGENCY_WORDS)
    if len(w) >= TYPO_MIN_LENGTH and w.isalpha()
)
_NOT_TYPOS = frozenset(_squeeze(w) for w in NOT_EMERGENCY_TYPOS)
_THREAT_PHRASES = tuple(_pattern(p) for p in THREAT_PHRASES)
_NOT_THREAT = tuple(_pattern(p) for p in NOT_THREAT)
_OPT = {_squeeze(w): OPT_OUT for w in OPT_OUT_WORDS} | {_squeeze(w): OPT_IN for w in OPT_IN_WORDS}
_ALERT, _THREAT = "alert", "threat"


def _one_edit(a: str, b: str) -> bool:
    """Whether a and b are at most one edit apart: a letter added, dropped or changed, or two
    neighbours swapped (optimal string alignment distance <= 1). Linear: no table needed."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    if len(a) != len(b):
        longer, shorter = (a, b) if len(a) > len(b) else (b, a)
        return longer[n + 1 :] == shorter[n:]
    swapped = a[n : n + 2] == b[n : n + 2][::-1] and a[n + 2 :] == b[n + 2 :]
    return swapped or a[n + 1 :] == b[n + 1 :]


@lru_cache(maxsize=4096)  # the same few hundred words arrive all day
def _is_emergency_word(token: str) -> bool:
    """An emergency word; for one of TYPO_MIN_LENGTH letters or more, also one typo away (as
    typed or as it sounds) or typed on the same phone keys, unless it is a real word."""
    if token in EMERGENCY_WORDS:
        return True
    squeezed = _squeeze(token)
    if squeezed in _SQUEEZED:  # a vocabulary word, or an emergency word short of a double
        return _SQUEEZED[squeezed] in EMERGENCY_WORDS  # letter ("socoro")
    if token.isdigit() or squeezed in _NOT_TYPOS:
        return False
    sound, keys = _sound(token), squeezed.translate(_T9)
    return any(
        _one_edit(squeezed, word) or _one_edit(sound, heard) or keys == typed
        for word, heard, typed in _TYPO_TARGETS
    )


def _threats(words: _Words) -> list[int]:
    """Where each phrase of threat starts, leaving out those a NOT_THREAT look-alike explains."""
    idioms: list[range] | None = None
    starts = []
    for match in _matches(words.keys, words, _THREAT_PHRASES, THREAT_GAP):
        if idioms is None:  # most texts match nothing: look for look-alikes only when needed
            idioms = list(_matches(words.keys, words, _NOT_THREAT, 0))
        if not any(_explains(idiom, match) for idiom in idioms):
            starts.append(match.start)
    return starts


def _explains(idiom: range, match: range) -> bool:
    """Whether a look-alike explains a threat: it holds the threat's last word and begins at
    that word ("me sigue doliendo") or where the threat begins or before ("la presion se le
    disparo"). One that begins inside the threat explains only part of it: "siguen acosando"
    leaves "me siguen acosando" a threat."""
    return match[-1] in idiom and (idiom.start <= match.start or idiom.start == match[-1])


def _opt(words: _Words) -> Intent | None:
    """OPT_OUT / OPT_IN when the whole message is one of their words (`STOP`, `baja!!`)."""
    kind = _OPT.get(" ".join(_squeeze(t) for t in words.raw))
    return Intent(kind) if kind else None


# --- Classification ----------------------------------------------------------------------


def _emergency(words: _Words, context: Context) -> tuple[str | None, bool]:
    """(alert, negated). alert: _ALERT for the emergency key or an emergency word (typos
    included), _THREAT for a phrase of threat alone, None when neither is there or every one
    seen is directly negated; negated: one was seen and negated."""
    if _menu_choice(words, context) == EMERGENCY:
        return _ALERT, False
    hits = [n for n, word in enumerate(words.words) if _is_emergency_word(word)]
    if any(not _directly_negated(words, n) for n in hits):
        return _ALERT, False
    threats = _threats(words)
    if any(not _directly_negated(words, n) for n in threats):
        return _THREAT, False
    return None, bool(hits or threats)


def _classify(words: _Words, context: Context, text: str) -> Intent:
    """Everything below an emergency, in precedence order (vocabulary.md says why)."""
    harm = _self_harm(words)
    if harm == _PHRASE:
        return Intent(SELF_HARM)
    if harm == _WORD:  # "ATIENDO 4821, riesgo suicida" is the responder's acknowledgement
        return _acknowledgement(words, context, text) or Intent(SELF_HARM)
    for step in (_set_duress, _duress, _answer, _acknowledgement):
        intent = step(words, context, text)
        if intent is not None:
            return intent
    if _strongly_not_fine(words, context):
        return Intent(NOT_OK)
    intent = _command(words, context, text)
    if intent is not None:
        return intent
    return _check_in(words, context)


def _first(words: _Words) -> int:
    """Index of the first word that is not a greeting or similar filler."""
    i = 0
    while i < len(words.words) and words.words[i] in LEAD_FILLER:
        i += 1
    return i


def _menu_digit(words: _Words) -> str | None:
    """A single digit as the message's first word: '9 pacientes' is a menu answer but
    'tengo 9 pacientes' is not."""
    i = _first(words)
    if i < len(words.raw) and len(words.raw[i]) == 1 and words.raw[i].isdigit():
        return words.raw[i]
    return None


def _menu_choice(words: _Words, context: Context) -> str | None:
    """The kind a menu digit chooses. The emergency key always: no question's scale has it.
    Other digits only with no question open: a mood or PHQ digit answers its question, and
    a yes/no question takes 1 and 2 as yes and no."""
    digit = _menu_digit(words)
    if digit == EMERGENCY_DIGIT:
        return EMERGENCY
    if context.question in QUESTION_RANGES or context.question == YESNO:
        return None
    return MENU_DIGITS.get(digit or "")


def _set_duress(words: _Words, context: Context, text: str) -> Intent | None:
    # Checked before the duress word itself: confirming one's word must not raise an alarm.
    i = _first(words)
    if i >= len(words.words) or words.words[i] not in DURESS_SET_WORDS:
        return None
    match = re.match(r"^.*?\bclave\b[\s:=\-]*(.*)$", _typed(text), re.IGNORECASE)
    new = match.group(1).strip(" \"'.,;:!¡?¿") if match else ""
    return Intent(SET_DURESS, text=new) if _Words.of(new).raw else None


def _duress(words: _Words, context: Context, text: str) -> Intent | None:
    secret = tuple(_squeeze(t) for t in _Words.of(context.duress_word or "").raw)
    if not secret:
        return None
    said = tuple(_squeeze(t) for t in words.raw)
    n = len(secret)
    if any(said[i : i + n] == secret for i in range(len(said) - n + 1)):
        return Intent(DURESS)
    return None


def _answer(words: _Words, context: Context, text: str) -> Intent | None:
    if context.question == YESNO:
        return _yes_no(words)
    valid = QUESTION_RANGES.get(context.question or "")
    digit = _menu_digit(words)
    if valid is None or digit is None:
        return None
    return Intent(ANSWER, value=int(digit)) if int(digit) in valid else Intent(UNKNOWN)


_YES_STRONG = frozenset(_squeeze(w) for w in YES_STRONG)
_YES_WEAK = frozenset(_squeeze(w) for w in YES_WEAK)
_NO_ANSWER = frozenset(_squeeze(w) for w in NO_ANSWER_WORDS)


def _yes_no(words: _Words) -> Intent | None:
    """SI/NO to a pending question: ANSWER 1 or 0, UNKNOWN for another digit, None when the
    text says neither (it is then read as usual: a command, `mal`, an acknowledgement …)."""
    if _incident_code(words) is not None:
        return None  # "OK 4821" acknowledges a case
    digit = _menu_digit(words)  # "9" never gets here: it is the emergency key
    if digit is not None:
        return Intent(ANSWER, value=int(digit == "1")) if digit in "12" else Intent(UNKNOWN)
    said = [_squeeze(w) for w in words.raw]
    weak = False
    for n, word in enumerate(said):
        after = said[n + 1] if words.same_clause(n, n + 1) else None
        if word in _YES_STRONG and after != "que" and said[n - 1 : n] != ["se"]:
            return Intent(ANSWER, value=1)  # not "claro que no", not "no se si …"
        if word in _NO_ANSWER and _refuses(words, said, n):
            return Intent(ANSWER, value=0)
        weak = weak or word in _YES_WEAK
    return Intent(ANSWER, value=1) if weak else None


def _refuses(words: _Words, said: list[str], n: int) -> bool:
    """Whether the "no" at n answers the question rather than negating what follows."""
    if not words.same_clause(n, n + 1):
        return True
    return any(
        tuple(said[n + 1 : n + 1 + len(tail)]) == tail and words.same_clause(n, n + len(tail))
        for tail in NO_ANSWER_TAILS
    )


def _incident_code(words: _Words) -> str | None:
    return next((t for t in words.raw if CODE.fullmatch(t)), None)


def _acknowledgement(words: _Words, context: Context, text: str) -> Intent | None:
    """ATIENDO/LISTO [code]; OK <code> from someone alerted (or not an intern)."""
    code = _incident_code(words)
    if words.find(ACK_WORDS):
        kind = ACK  # with both words, ACK: it never closes an incident by mistake
    elif words.find(RESOLVE_WORDS):
        kind = RESOLVE
    elif code and (context.responder or not context.intern) and words.find(FINE_WORDS):
        kind = ACK
    else:
        return None
    if code is None and context.intern and not context.responder:
        return None  # an intern with nothing to acknowledge: "listo" is not a case
    return Intent(kind, code=code)


def _strongly_not_fine(words: _Words, context: Context) -> bool:
    """A not-fine word (not directly negated), a negated fine word, or the menu digit 2."""
    if _menu_choice(words, context) == NOT_OK:
        return True
    bad = any(not _directly_negated(words, i) for i in words.find(NOT_FINE_WORDS))
    return bad or any(_fine_negated(words, i) for i in words.find(NEGATABLE_FINE))


def _check_in(words: _Words, context: Context) -> Intent:
    """The plain answers, once no command matched: weak not-fine, fine, or unknown."""
    fine_at = [i for i in words.find(FINE_WORDS) if not _fine_negated(words, i)]
    fine = bool(fine_at) or any(words.has_phrase(p) for p in FINE_PHRASES)
    fine = fine or _menu_choice(words, context) == OK
    if not context.intern:
        return Intent(ACK) if fine else Intent(UNKNOWN)
    others = [
        w for w in words.words if (w in VOCABULARY or _is_emergency_word(w)) and w not in NO_WORDS
    ]
    if words.find(NO_WORDS) and not others and not fine and context.question != YESNO:
        return Intent(NOT_OK)  # a bare "no" is an answer only when nothing else is
    return Intent(OK) if fine else Intent(UNKNOWN)


# --- Commands ----------------------------------------------------------------------------


def _command(words: _Words, context: Context, text: str) -> Intent | None:
    """Intern commands. Most count only as the first word (with a valid argument where one
    is needed): 'a que hora es la guardia' must not move the check-in time."""
    for parse in (_trip, _arrival):
        intent = parse(words, context, text)
        if intent is not None:
            return intent
    if words.find(MENU_WORDS):
        return Intent(MENU)
    i = _first(words)
    if i >= len(words.words):
        return None
    head, rest = words.words[i], _argument(words, i + 1)
    if head in PAUSE_WORDS:
        return _pause(rest, context)
    if head in RESUME_WORDS:
        return Intent(RESUME)
    if head in TIME_WORDS:
        at = _parse_time(rest)
        return Intent(SET_TIME, at=at) if at else None
    if head in STATUS_WORDS:  # ESTADO: her own schedule; ESTADO 4821: a responder's case
        return Intent(STATUS, code=_incident_code(words))
    return None


def _argument(words: _Words, start: int) -> str:
    """The normalised words after a command word, without leading filler."""
    while start < len(words.raw) and words.raw[start] in ARG_FILLER:
        start += 1
    return " ".join(words.raw[start:])


_DURATION = (
    r"(?P<plus>\+)?(?:"
    r"(?P<h>\d{1,2})\s*(?:horas|hora|hrs|hr|h)(?![a-z])\.?\s*"
    r"(?:(?P<half>y\s*media(?![a-z]))|(?P<hm>\d{1,2})\s*(?:minutos|minuto|mins|min|m)?(?![a-z]))?"
    r"|(?P<hh>\d{1,2}):(?P<mm>\d{2})"
    r"|(?P<m>\d{1,4})\s*(?:minutos|minuto|mins|min|m)(?![a-z])\.?"
    r"|(?P<bare>\d{1,2})(?!\d|[:/.,\-]\d)"
    r")(?![a-z0-9])"
)
_DURATION_RE = re.compile(_DURATION)
_TRIP_TYPED = re.compile(r"viaj[eé]\s*" + _DURATION + r"(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
_DESTINATION_LEAD = re.compile(r"^(?:(?:rumbo|camino)\s+(?:a|al)|a|al|para|hacia|to)\s+", re.I)


def _minutes(match: re.Match[str]) -> int | None:
    """Trip length in minutes; a bare number is hours ('VIAJE 3 Linares')."""
    g = match.groupdict()
    hours = g["h"] or g["hh"] or g["bare"] or "0"
    minutes = 30 if g["half"] else int(g["hm"] or g["mm"] or g["m"] or 0)
    total = int(hours) * 60 + minutes
    return total if 0 < total <= MAX_TRIP_MINUTES else None


def _trip(words: _Words, context: Context, text: str) -> Intent | None:
    """VIAJE <duration> [destination] anywhere; VIAJE +<duration> or a leading +<duration>."""
    starts = [i + 1 for i in words.find(TRIP_WORDS)]
    if words.raw[0].startswith("+"):
        starts.append(0)
    for start in starts:
        match = _DURATION_RE.match(" ".join(words.raw[start:]))
        minutes = _minutes(match) if match else None
        if minutes is None:
            continue
        if match.group("plus"):
            return Intent(TRIP_EXTEND, value=minutes)
        rest = " ".join(words.raw[start:])[match.end() :]
        return Intent(TRIP_START, value=minutes, text=_destination(text, rest))
    return None


def _destination(text: str, fallback: str) -> str | None:
    """The words after the duration, as typed when we can find them, else normalised."""
    match = _TRIP_TYPED.search(_typed(text))
    rest = match.group("rest") if match else fallback
    rest = _DESTINATION_LEAD.sub("", rest.strip(" ,.;:-!¡?¿"))
    return rest[:MAX_DESTINATION].strip() or None


def _arrival(words: _Words, context: Context, text: str) -> Intent | None:
    for i in words.find(ARRIVAL_WORDS):
        blocked = words.same_clause(i, i - 1) and words.words[i - 1] in ARRIVAL_BLOCKERS
        if not blocked and not _directly_negated(words, i):
            return Intent(TRIP_END)
    return None


def _pause(rest: str, context: Context) -> Intent | None:
    """PAUSA/VACACIONES with a number of days (or weeks) or an end date."""
    parts = _date_parts(rest)
    if parts is not None:  # a date we cannot complete is not read as a number of days
        until = _complete_date(*parts, context.today)
        return _pause_until(until, context.today) if until else None
    match = _PAUSE_DAYS.match(rest)
    if not match:
        return None
    days = int(match.group(1)) * (7 if match.group("weeks") else 1)
    if not 0 < days <= MAX_PAUSE_DAYS:
        return None
    until = context.today + timedelta(days=days) if context.today else None
    return Intent(PAUSE, value=days, until=until)


def _pause_until(until: date, today: date | None) -> Intent | None:
    if today is None:
        return Intent(PAUSE, until=until)
    days = (until - today).days
    return Intent(PAUSE, value=days, until=until) if 0 <= days <= MAX_PAUSE_DAYS else None


_PAUSE_DAYS = re.compile(
    r"(\d{1,3})\s*(?:(?P<weeks>semanas|semana|sem|weeks|week|w)|dias|dia|days|day|d)?(?=\s|$)"
)
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC_DATE = re.compile(r"(\d{1,2})[/\-.](\d{1,2})(?:[/\-.](\d{4}|\d{2}))?\b")
_DAY_MONTH = re.compile(r"(\d{1,2}) (?:de )?([a-z]+)(?: (?:de |del )?(\d{4}))?\b")
_MONTH_DAY = re.compile(r"([a-z]+) (\d{1,2})(?: (\d{4}))?\b")


def _date_parts(rest: str) -> tuple[int | None, int, int] | None:
    """(year or None, month, day) of a date at the start of `rest`, day first as Mexico
    writes it: 24/12, 24-12-2026, 24 dic, 24 de diciembre de 2026, 2026-12-24."""
    if m := _ISO_DATE.match(rest):
        return int(m[1]), int(m[2]), int(m[3])
    if m := _NUMERIC_DATE.match(rest):
        year = None if m[3] is None else int(m[3]) + (2000 if len(m[3]) == 2 else 0)
        return year, int(m[2]), int(m[1])
    if (m := _DAY_MONTH.match(rest)) and m[2] in MONTHS:
        return (int(m[3]) if m[3] else None), MONTHS[m[2]], int(m[1])
    if (m := _MONTH_DAY.match(rest)) and m[1] in MONTHS:
        return (int(m[3]) if m[3] else None), MONTHS[m[1]], int(m[2])
    return None


def _complete_date(year: int | None, month: int, day: int, today: date | None) -> date | None:
    """The date itself; without a year, the next such date on/after today (None when today
    is unknown or the day does not exist)."""
    if year is None and today is None:
        return None
    for candidate in [year] if year is not None else [today.year, today.year + 1]:
        try:
            found = date(candidate, month, day)
        except ValueError:
            continue
        if year is not None or found >= today:
            return found
    return None


_TIME = re.compile(
    r"(\d{1,2})(?:[:.](\d{2})| (\d{2})(?![\d:]))?\s*(?:(am|pm|a m|p m)|hrs|hr|h|horas)?\s*$"
)


def _parse_time(rest: str) -> time | None:
    """'08:30', '7:45', '7', '7.30', '7 pm', '19 hrs'; nothing else may follow."""
    match = _TIME.match(rest)
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2] or match[3] or 0)
    meridiem = (match[4] or "").replace(" ", "")
    if meridiem and not 1 <= hour <= 12:
        return None
    if meridiem:
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    return time(hour, minute) if hour < 24 and minute < 60 else None
