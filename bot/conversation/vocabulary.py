"""The words and phrases Faro reads in a text, as data: no code but the sets built from it.

Everything here is normalised (lower case, no accents) and is what would become configurable;
`bot/conversation/vocabulary.md` explains each list with examples, and the modules that read
them say how: `words` (normalisation), `negation`, `emergency` (emergency words, typos, threats),
`self_harm`, `answers` (menu digits, pending questions), `commands` and `dates`.
"""

from __future__ import annotations

import re

from bot.conversation.intents import EMERGENCY, NOT_OK, OK

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
# `emregencia`), compared as typed and as it sounds (`words.sound`: `emerjensia`), and a token
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
# Spanish (`words.sound`: "kiero" is "quiero", "bida" is "vida", "haserme" is "hacerme"),
# after the usual normalisation (no accents, no repeated letters).
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
