"""Norwegian-looking words the generator draws from. All names are fictional."""

from __future__ import annotations

STREET_STEMS = (
    "Stor", "Kirke", "Skole", "Bjørke", "Eike", "Fjell", "Sjø", "Mølle", "Strand", "Dronning",
    "Konge", "Prinsens ", "Havne", "Tor", "Brygge", "Øvre Slotts", "Nedre Å", "Gran", "Rogn",
    "Lyng", "Furu", "Solbakke", "Åsen", "Kløver", "Bekke", "Sandvika", "Fossekall", "Hauge",
    "Ekeberg", "Tårn", "Smed", "Løkke", "Myr", "Sørlie", "Nordre ", "Gamle Drammens",
)  # fmt: skip
STREET_SUFFIXES = ("gata", "gate", "veien", "vegen", "bakken", "stien", "alléen", "lia", "svingen", "tunet", "plass")
PLACES = (
    ("0150", "Oslo"), ("0351", "Oslo"), ("0465", "Oslo"), ("0661", "Oslo"), ("0870", "Oslo"),
    ("1337", "Sandvika"), ("1363", "Høvik"), ("1606", "Fredrikstad"), ("2317", "Hamar"),
    ("2609", "Lillehammer"), ("3015", "Drammen"), ("3211", "Sandefjord"), ("4006", "Stavanger"),
    ("4610", "Kristiansand"), ("5003", "Bergen"), ("5145", "Fyllingsdalen"), ("6002", "Ålesund"),
    ("7010", "Trondheim"), ("7042", "Trondheim"), ("8006", "Bodø"), ("9008", "Tromsø"),
    ("9600", "Hammerfest"), ("1440", "Drøbak"), ("4836", "Arendal"),
)  # fmt: skip
FIRST_NAMES = (
    "Ola", "Kari", "Ingrid", "Lars", "Sigrid", "Håkon", "Åse", "Bjørn", "Øystein", "Marte", "Nora",
    "Emil", "Jonas", "Silje", "Tone", "Per", "Eirik", "Solveig", "Thea", "Magnus", "Ragnhild", "Tor",
    "Live", "Sindre", "Maja", "Jørgen", "Frøydis", "Vetle",
)  # fmt: skip
LAST_NAMES = (
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
    "Jensen", "Karlsen", "Berg", "Haugen", "Hagen", "Bakke", "Dahl", "Lie", "Solberg", "Strand",
    "Sæther", "Ødegård", "Aasen", "Brekke", "Løvås", "Fjeld", "Vik", "Myhre",
)  # fmt: skip
TITLES = (
    "Eiendomsmegler", "Eiendomsmegler MNEF", "Eiendomsmeglerfullmektig", "Fagansvarlig",
    "Daglig leder", "Oppgjørsansvarlig", "Meglerassistent",
)  # fmt: skip
FIRM_NAMES = ("Fjordmegleren", "Nordlys Eiendom", "Solsiden Megling", "Bølgen & Co Eiendom", "Tindemegleren")
ADJECTIVES = (
    "Lys og romslig", "Innholdsrik", "Sentral", "Nyoppusset", "Solrik", "Koselig", "Påkostet",
    "Stilfull", "Barnevennlig", "Praktisk", "Idyllisk", "Moderne",
)  # fmt: skip
PROPERTY_WORDS = {
    0: ("bolig", "eiendom"),
    1: ("3-roms leilighet", "2-roms leilighet", "enebolig", "rekkehus", "4-roms selveier", "tomannsbolig"),
    2: ("hytte", "fritidsbolig", "sjøhytte"),
    3: ("næringslokale", "kontorseksjon", "butikklokale"),
    4: ("prosjektleilighet", "nybygg"),
    5: ("boligtomt", "hyttetomt"),
}
FEATURES = (
    "med balkong", "med stor hage", "med utsikt", "\u2013 gangavstand til alt", "med garasje",
    "med vestvendt terrasse", "i rolig blindvei", "med peis", "nær sjøen", "med hybel",
)  # fmt: skip
SENTENCES = (
    "Boligen har en gjennomtenkt planløsning & gode lysforhold.",
    "Kjøkkenet ble oppgradert i 2019 med integrerte hvitevarer.",
    "Bad med varmekabler, flis og dusjnisje.",
    "Kort vei til barnehage, skole og kollektivtransport.",
    "Felles takterrasse med flott utsikt over byen.",
    "Oppvarming med varmepumpe og vedovn.",
    "Innglasset balkong med kveldssol.",
    "Fellesgjeld er inkludert i totalprisen.",
    "Tomten er opparbeidet med plen, busker og frukttrær.",
    "Sjeldent mulighet i et populært og etablert boligområde!",
)  # fmt: skip
IMAGE_CATEGORIES = ("Fasade", "Stue", "Kjøkken", "Bad", "Soverom", "Utsikt", "Plantegning", "Nærområde")
DOCUMENT_TYPES = ((1, "Salgsoppgave"), (2, "Tilstandsrapport"), (3, "Energiattest"), (4, "Egenerklæringsskjema"))
PARTNER_TAGS = ("premium", "boost", "visning-pa-nett", "nybygg", "solgt-pa-forhand")
