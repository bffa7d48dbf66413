"""The mock API's data: the deterministic user data set (randomuser-like
users generated from a seed and an index, in JSON, NDJSON or CSV), the
stateful orders feed for incremental loads, and the JSON helpers that
encode them.  Python 3 standard library only.
"""

import base64
import binascii
import bisect
import calendar
import csv
import datetime
import hashlib
import io
import json
import random
import re
import struct
import threading
import time


DEFAULT_SEED = "pgelt"
DEFAULT_TOTAL = 100

JSON_TYPE = "application/json"
NDJSON_TYPE = "application/x-ndjson"
CSV_TYPE = "text/csv; charset=utf-8"

CSV_COLUMNS = ("uuid", "gender", "title", "first", "last", "email", "city",
               "country", "postcode", "dob", "phone", "nat")


# ---------------------------------------------------------------------------
# JSON helpers
# ---------------------------------------------------------------------------

def jdump(obj):
    """Compact UTF-8 JSON text."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def jbytes(obj):
    return jdump(obj).encode("utf-8")


def b64_cursor(obj):
    raw = json.dumps(obj, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def un_b64_cursor(text):
    """Decode a cursor made by b64_cursor(); None when it is not one."""
    if not text or len(text) > 8192:
        return None
    try:
        pad = "=" * (-len(text) % 4)
        obj = json.loads(base64.urlsafe_b64decode(text + pad).decode("utf-8"))
    except (ValueError, UnicodeDecodeError, TypeError):
        return None
    if not isinstance(obj, dict) or obj.get("v") != 1:
        return None
    return obj


# ---------------------------------------------------------------------------
# The user data set
# ---------------------------------------------------------------------------

def _compile_pattern(pat):
    """'#' is a digit, 'L' an upper-case letter, anything else literal."""
    tmpl = []
    kinds = []
    for ch in pat:
        if ch == "#":
            tmpl.append("%c")
            kinds.append("d")
        elif ch == "L":
            tmpl.append("%c")
            kinds.append("l")
        elif ch == "%":
            tmpl.append("%%")
        else:
            tmpl.append(ch)
    kinds = "".join(kinds)
    return ("".join(tmpl).encode("utf-8"), kinds, "l" not in kinds,
            10 ** len(kinds))


def _fill(cp, x):
    """Fill a compiled pattern from the integer x; returns bytes."""
    tmpl, kinds, all_digits, mod = cp
    if all_digits:
        return tmpl % tuple(b"%0*d" % (len(kinds), x % mod))
    out = []
    for k in kinds:
        if k == "d":
            x, r = divmod(x, 10)
            out.append(48 + r)
        else:
            x, r = divmod(x, 26)
            out.append(65 + r)
    return tmpl % tuple(out)


def _b(s):
    return s.encode("utf-8")


def _jb(s):
    return jdump(s).encode("utf-8")


def _email_part(name):
    base = name.split('"')[0].strip().lower()
    return "".join(ch for ch in base if ch.isalnum())


def _names(items):
    return [(s, _jb(s), _b(_email_part(s)), _email_part(s)) for s in items]


def _pc_int(lo, span):
    def f(k):
        v = lo + k % span
        return v, b"%d" % v
    return f


def _pc_pattern(pat):
    cp = _compile_pattern(pat)

    def f(k):
        v = _fill(cp, k)
        return v.decode("ascii"), b'"' + v + b'"'
    return f


class Nat:
    __slots__ = ("code", "codeb", "country", "male", "female", "last",
                 "cities", "streets", "postcode", "phone", "cell", "id_name",
                 "id_pattern")

    def __init__(self, code, country, male, female, last, cities, streets,
                 postcode, phone, cell, id_name, id_pattern):
        self.code = code
        self.codeb = _b(code)
        self.country = (country, _jb(country))
        self.male = _names(male)
        self.female = _names(female)
        self.last = _names(last)
        self.cities = [(c, _jb(c), _jb(s)) for c, s in cities]
        self.streets = [_jb(s) for s in streets]
        self.postcode = postcode
        self.phone = _compile_pattern(phone)
        self.cell = _compile_pattern(cell)
        self.id_name = _b(id_name)
        self.id_pattern = _compile_pattern(id_pattern) if id_pattern else None


# Deliberately dirty data: a nickname in double quotes (US), a city with a
# comma (US), a city with a line break (GB), apostrophes (IE, CA), non-ASCII
# letters almost everywhere, integer and string postcodes, null id values
# (NZ, TR).
_NATS = [
    Nat("US", "United States",
        ["James", "John", 'Robert "Bobby"', "Michael", "William", "David",
         "Richard", "Joseph", "Thomas", "Charles", "Christopher", "Daniel"],
        ["Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara",
         "Susan", "Jessica", "Sarah", "Karen", "Nancy", "Lisa"],
        ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller",
         "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez"],
        [("Washington, D.C.", "District of Columbia"), ("Seattle", "Washington"),
         ("Austin", "Texas"), ("Denver", "Colorado"), ("Portland", "Oregon"),
         ("Boston", "Massachusetts"), ("Chicago", "Illinois"),
         ("Miami", "Florida")],
        ["Main St", "Oak Ridge Ln", "Pecan Acres Ln", "Cedar St", "Lakeview St",
         "Hillcrest Rd"],
        _pc_int(10000, 90000), "(###) ###-####", "(###) ###-####",
        "SSN", "###-##-####"),
    Nat("GB", "United Kingdom",
        ["Oliver", "Harry", "George", "Jack", "Charlie", "Thomas", "Oscar",
         "William", "James", "Alfie"],
        ["Olivia", "Amelia", "Isla", "Ava", "Emily", "Sophie", "Grace",
         "Lily", "Chloe", "Freya"],
        ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson",
         "Davies", "Robinson", "Wright", "Thompson", "Evans"],
        [("London", "Greater London"), ("Manchester", "Greater Manchester"),
         ("Birmingham", "West Midlands"), ("Leeds", "West Yorkshire"),
         ("Newcastle upon\nTyne", "Tyne and Wear"), ("Bristol", "Somerset"),
         ("Oxford", "Oxfordshire"), ("York", "North Yorkshire")],
        ["High Street", "Station Road", "Church Lane", "Mill Lane",
         "Victoria Road", "Green Lane"],
        _pc_pattern("LL#L #LL"), "0#### ######", "07### ######",
        "NINO", "LL ## ## ## L"),
    Nat("FR", "France",
        ["Léo", "Hugo", "Louis", "Gabriel", "Raphaël", "Arthur", "Jules",
         "Noé", "Théo", "Émile"],
        ["Léa", "Chloé", "Manon", "Camille", "Inès", "Zoé", "Hélène",
         "Océane", "Maëlys", "Élise"],
        ["Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent",
         "Girard", "Fontaine", "Mercier", "Rousseau", "Faure", "André"],
        [("Paris", "Île-de-France"), ("Lyon", "Rhône"),
         ("Marseille", "Bouches-du-Rhône"), ("Nîmes", "Gard"),
         ("Besançon", "Doubs"), ("Orléans", "Loiret"),
         ("Toulouse", "Haute-Garonne"), ("Saint-Étienne", "Loire")],
        ["Rue de la Paix", "Avenue des Ternes", "Rue Principale",
         "Place du Château", "Rue de l'Église", "Boulevard Voltaire"],
        _pc_int(1000, 94000), "0#-##-##-##-##", "06-##-##-##-##",
        "INSEE", "1############ ##"),
    Nat("DE", "Germany",
        ["Jürgen", "Lukas", "Maximilian", "Jonas", "Felix", "Björn", "Günter",
         "Paul", "Leon", "Finn"],
        ["Anna", "Lea", "Lena", "Jana", "Mia", "Sophie", "Hannelore", "Käthe",
         "Grete", "Lotte"],
        ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Schäfer",
         "Becker", "Hoffmann", "Krüger", "Köhler", "Wagner", "Groß"],
        [("Berlin", "Berlin"), ("München", "Bayern"),
         ("Köln", "Nordrhein-Westfalen"), ("Düsseldorf", "Nordrhein-Westfalen"),
         ("Nürnberg", "Bayern"), ("Hamburg", "Hamburg"),
         ("Lübeck", "Schleswig-Holstein"), ("Görlitz", "Sachsen")],
        ["Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße",
         "Birkenweg", "Mühlenweg"],
        _pc_int(10000, 89999), "0###-#######", "017#-#######",
        "SVNR", "## ###### L ###"),
    Nat("NO", "Norway",
        ["Bjørn", "Håkon", "Ørjan", "Magnus", "Sindre", "Eirik", "Kristian",
         "Ole", "Jørgen", "Tor"],
        ["Ingrid", "Kari", "Sølvi", "Åse", "Marte", "Silje", "Nora",
         "Ingeborg", "Tone", "Hanne"],
        ["Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen",
         "Nilsen", "Kristiansen", "Jensen", "Ødegård", "Bråten", "Sæther"],
        [("Oslo", "Oslo"), ("Bergen", "Hordaland"), ("Tromsø", "Troms"),
         ("Trondheim", "Sør-Trøndelag"), ("Bodø", "Nordland"),
         ("Ålesund", "Møre og Romsdal"), ("Stavanger", "Rogaland")],
        ["Storgata", "Kirkeveien", "Skolegata", "Fjellveien", "Sjøgata",
         "Bjørnstjerne Bjørnsons gate"],
        _pc_int(0, 10000), "########", "4#######",
        "FN", "###########"),
    Nat("DK", "Denmark",
        ["Søren", "Mads", "Rasmus", "Frederik", "Mikkel", "Emil", "Anders",
         "Jens", "Niels", "Bo"],
        ["Ida", "Freja", "Sofie", "Mette", "Signe", "Maja", "Line",
         "Birgitte", "Ditte", "Karen"],
        ["Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen",
         "Larsen", "Sørensen", "Rasmussen", "Jørgensen", "Madsen", "Kristensen"],
        [("København", "Hovedstaden"), ("Aarhus", "Midtjylland"),
         ("Odense", "Syddanmark"), ("Aalborg", "Nordjylland"),
         ("Køge", "Sjælland"), ("Næstved", "Sjælland")],
        ["Vestergade", "Østergade", "Søndergade", "Nørregade", "Kirkevej",
         "Skovvej"],
        _pc_int(1000, 9000), "########", "########",
        "CPR", "######-####"),
    Nat("BR", "Brazil",
        ["João", "José", "Antônio", "Francisco", "Luís", "Gabriel", "Rafael",
         "Otávio", "Caetano", "Lucas"],
        ["Maria", "Ana", "Júlia", "Letícia", "Conceição", "Beatriz", "Luíza",
         "Fabiana", "Cecília", "Vitória"],
        ["Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira",
         "Alves", "Araújo", "Gonçalves", "Conceição", "Peixoto", "Monteiro"],
        [("São Paulo", "São Paulo"), ("Rio de Janeiro", "Rio de Janeiro"),
         ("Belém", "Pará"), ("Florianópolis", "Santa Catarina"),
         ("Goiânia", "Goiás"), ("Maceió", "Alagoas"), ("Curitiba", "Paraná")],
        ["Rua Três", "Rua São Paulo", "Avenida Brasil", "Rua da Paz",
         "Rua Santa Luzia", "Travessa dos Martírios"],
        _pc_pattern("#####-###"), "(##) ####-####", "(##) 9####-####",
        "CPF", "###.###.###-##"),
    Nat("IE", "Ireland",
        ["Seán", "Conor", "Darragh", "Cian", "Oisín", "Liam", "Patrick",
         "Ciarán", "Eoin", "Niall"],
        ["Aoife", "Siobhán", "Niamh", "Saoirse", "Róisín", "Ciara", "Sinéad",
         "Orla", "Clodagh", "Áine"],
        ["O'Brien", "O'Connor", "O'Sullivan", "Murphy", "Kelly", "Walsh",
         "Byrne", "Ryan", "O'Neill", "McCarthy", "Doyle", "Lynch"],
        [("Dublin", "Dublin"), ("Cork", "Cork"), ("Galway", "Galway"),
         ("Limerick", "Limerick"), ("Kilkenny", "Kilkenny"),
         ("Dún Laoghaire", "Dublin")],
        ["Main Street", "O'Connell Street", "Church Road", "The Crescent",
         "Grafton Street", "Patrick Street"],
        _pc_pattern("L## L#L#"), "0##-###-####", "08#-###-####",
        "PPS", "#######L"),
    Nat("ES", "Spain",
        ["José", "Álvaro", "Raúl", "Iván", "Jesús", "Andrés", "Rubén", "Óscar",
         "Hugo", "Pablo"],
        ["María", "Lucía", "Sofía", "Inés", "Begoña", "Ángela", "Nuria",
         "Marina", "Rocío", "Verónica"],
        ["García", "González", "Rodríguez", "Fernández", "López", "Martínez",
         "Sánchez", "Pérez", "Gómez", "Muñoz", "Díaz", "Jiménez"],
        [("Madrid", "Comunidad de Madrid"), ("Barcelona", "Cataluña"),
         ("Sevilla", "Andalucía"), ("Málaga", "Andalucía"),
         ("Córdoba", "Andalucía"), ("A Coruña", "Galicia"),
         ("Logroño", "La Rioja")],
        ["Calle Mayor", "Avenida de Andalucía", "Calle del Prado",
         "Paseo de Extremadura", "Calle de Alcalá", "Ronda de Valencia"],
        _pc_int(1000, 51000), "9##-###-###", "6##-###-###",
        "DNI", "########-L"),
    Nat("FI", "Finland",
        ["Väinö", "Eetu", "Onni", "Elias", "Leevi", "Aleksi", "Jyrki", "Pekka",
         "Mikko", "Juha"],
        ["Aino", "Helmi", "Siiri", "Päivi", "Tuulikki", "Eveliina", "Milla",
         "Sanni", "Emma", "Iida"],
        ["Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen",
         "Laine", "Heikkinen", "Järvinen", "Lehtonen", "Jääskeläinen", "Kallio"],
        [("Helsinki", "Uusimaa"), ("Espoo", "Uusimaa"), ("Tampere", "Pirkanmaa"),
         ("Jyväskylä", "Keski-Suomi"), ("Hämeenlinna", "Kanta-Häme"),
         ("Oulu", "Pohjois-Pohjanmaa")],
        ["Hämeenkatu", "Pispalan Valtatie", "Mannerheimintie", "Satakennankatu",
         "Aleksanterinkatu", "Esplanadi"],
        _pc_int(10000, 89999), "0#-###-###", "04#-###-##-##",
        "HETU", "######-###L"),
    Nat("NZ", "New Zealand",
        ["Jack", "Liam", "Nikau", "Tāne", "Hunter", "Mason", "Ari", "Ethan"],
        ["Charlotte", "Aroha", "Mia", "Harper", "Isla", "Ruby", "Ngaio", "Ella"],
        ["Smith", "Wilson", "Williams", "Brown", "Taylor", "Anderson",
         "Thompson", "Walker", "Ngata", "Te Rangi"],
        [("Auckland", "Auckland"), ("Wellington", "Wellington"),
         ("Christchurch", "Canterbury"), ("Hamilton", "Waikato"),
         ("Taupō", "Waikato"), ("Whangārei", "Northland")],
        ["Queen Street", "Ponsonby Road", "Cuba Street", "Colombo Street",
         "Lambton Quay", "Victoria Street"],
        _pc_int(1000, 9000), "(###)-###-####", "(02#)-###-####",
        "", None),
    Nat("TR", "Turkey",
        ["Mehmet", "Mustafa", "Ahmet", "Ali", "Hüseyin", "Hasan", "İbrahim",
         "Çağlar", "Ömer", "Gökhan"],
        ["Ayşe", "Fatma", "Emine", "Hatice", "Zeynep", "Gülsüm", "Şule",
         "Özlem", "Büşra", "Elif"],
        ["Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Öztürk",
         "Aydın", "Özdemir", "Arslan", "Doğan", "Kılıç"],
        [("İstanbul", "İstanbul"), ("Ankara", "Ankara"), ("İzmir", "İzmir"),
         ("Eskişehir", "Eskişehir"), ("Muğla", "Muğla"),
         ("Kırşehir", "Kırşehir")],
        ["Atatürk Cd", "Bağdat Cd", "Istiklal Cd", "Maçka Cd", "Fatih Sk",
         "Kushimoto Sk"],
        _pc_int(10000, 80000), "(###)-###-####", "(5##)-###-####",
        "", None),
    Nat("CA", "Canada",
        ["Liam", "Noah", "William", "Benjamin", "Félix", "Étienne", "Logan",
         "Jacob", "Nathan", "Samuel"],
        ["Olivia", "Emma", "Charlotte", "Léa", "Chloé", "Florence", "Alice",
         "Juliette", "Maëlle", "Zoe"],
        ["Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin",
         "Lavoie", "Fortin", "Gagné", "Ouellet", "O'Reilly"],
        [("Montréal", "Québec"), ("Toronto", "Ontario"),
         ("Vancouver", "British Columbia"), ("Québec", "Québec"),
         ("Calgary", "Alberta"), ("Trois-Rivières", "Québec"),
         ("St. John's", "Newfoundland and Labrador")],
        ["Rue Principale", "King St", "Parliament St", "Rue Sainte-Catherine",
         "Dundas Rd", "Bay Ave"],
        _pc_pattern("L#L #L#"), "###-###-####", "###-###-####",
        "SIN", "### ### ###"),
]
_NNAT = len(_NATS)


def _quirk(code, gender, first=None, last=None, city=None):
    ni = [n.code for n in _NATS].index(code)
    nat = _NATS[ni]
    pool = nat.female if gender else nat.male
    return (ni, gender,
            None if first is None else [p[0] for p in pool].index(first),
            None if last is None else [p[0] for p in nat.last].index(last),
            None if city is None else [c[0] for c in nat.cities].index(city))


# Users whose index modulo 50 is a key here always carry these quirks, in
# every data set: a double-quoted nickname and a comma in the city, an
# apostrophe in the last name, a line break in the city.
_QUIRKS = {
    11: _quirk("US", 0, first='Robert "Bobby"', city="Washington, D.C."),
    24: _quirk("IE", 1, last="O'Brien"),
    36: _quirk("GB", 0, city="Newcastle upon\nTyne"),
}

_TITLE_M = b"Mr"
_TITLES_F = (b"Ms", b"Mrs", b"Miss")

_TIMEZONES = [(_b(o), _jb(d)) for o, d in (
    ("-12:00", "Eniwetok, Kwajalein"), ("-11:00", "Midway Island, Samoa"),
    ("-10:00", "Hawaii"), ("-9:00", "Alaska"),
    ("-8:00", "Pacific Time (US & Canada)"),
    ("-7:00", "Mountain Time (US & Canada)"),
    ("-6:00", "Central Time (US & Canada), Mexico City"),
    ("-5:00", "Eastern Time (US & Canada), Bogota, Lima"),
    ("-4:00", "Atlantic Time (Canada), Caracas, La Paz"),
    ("-3:30", "Newfoundland"), ("-3:00", "Brazil, Buenos Aires, Georgetown"),
    ("-2:00", "Mid-Atlantic"), ("-1:00", "Azores, Cape Verde Islands"),
    ("0:00", "Western Europe Time, London, Lisbon, Casablanca"),
    ("+1:00", "Brussels, Copenhagen, Madrid, Paris"),
    ("+2:00", "Kaliningrad, South Africa"),
    ("+3:00", "Baghdad, Riyadh, Moscow, St. Petersburg"),
    ("+3:30", "Tehran"), ("+4:00", "Abu Dhabi, Muscat, Baku, Tbilisi"),
    ("+4:30", "Kabul"), ("+5:00", "Ekaterinburg, Islamabad, Karachi, Tashkent"),
    ("+5:30", "Bombay, Calcutta, Madras, New Delhi"), ("+5:45", "Kathmandu"),
    ("+6:00", "Almaty, Dhaka, Colombo"), ("+7:00", "Bangkok, Hanoi, Jakarta"),
    ("+8:00", "Beijing, Perth, Singapore, Hong Kong"),
    ("+9:00", "Tokyo, Seoul, Osaka, Sapporo, Yakutsk"),
    ("+9:30", "Adelaide, Darwin"),
    ("+10:00", "Eastern Australia, Guam, Vladivostok"),
    ("+11:00", "Magadan, Solomon Islands, New Caledonia"),
    ("+12:00", "Auckland, Wellington, Fiji, Kamchatka"),
)]

_ADJECTIVES = tuple(_b(w) for w in (
    "happy", "silver", "tiny", "lazy", "brave", "crazy", "yellow", "orange",
    "purple", "heavy", "golden", "black", "red", "blue", "white", "green",
    "ticklish", "beautiful", "angry", "sad", "organic", "smart", "big", "small",
    "quiet", "wild", "sleepy", "jolly", "fancy", "lucky", "shy", "swift"))
_ANIMALS = tuple(_b(w) for w in (
    "bird", "cat", "dog", "fish", "frog", "goose", "koala", "lion", "leopard",
    "monkey", "mouse", "panda", "peacock", "rabbit", "snake", "swan", "tiger",
    "wolf", "zebra", "bear", "butterfly", "duck", "elephant", "gorilla",
    "ladybug", "meerkat", "ostrich", "owl", "penguin", "sheep", "tortoise",
    "whale"))
_PASSWORDS = tuple(_b(w) for w in (
    "hotdog", "dragon", "soccer", "sunshine", "shadow", "monkey", "letmein",
    "freedom", "whatever", "qwerty", "trustno1", "baseball", "master",
    "michael", "football", "jordan", "harley", "ranger", "buster", "thomas",
    "tigger", "robert", "access", "love", "pepper", "daniel", "hockey",
    "silver", "george", "summer", "batman", "andrew"))

_ALNUM_TABLE = bytes(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[i % 62]
    for i in range(256))
_VARIANT = b"89ab"

# Ages are computed against a fixed reference date so data never drift.
_REF_Y, _REF_M, _REF_D = 2025, 6, 1
_DOB_START = calendar.timegm((1945, 1, 1, 0, 0, 0))
_DOB_SPAN = calendar.timegm((2004, 1, 1, 0, 0, 0)) - _DOB_START
_REG_START = calendar.timegm((2002, 1, 1, 0, 0, 0))
_REG_SPAN = calendar.timegm((2023, 1, 1, 0, 0, 0)) - _REG_START

_USER_TMPL = _b(
    '{"gender":"%s","name":{"title":"%s","first":%s,"last":%s},'
    '"location":{"street":{"number":%d,"name":%s},"city":%s,"state":%s,'
    '"country":%s,"postcode":%s,"coordinates":{"latitude":"%.4f",'
    '"longitude":"%.4f"},"timezone":{"offset":"%s","description":%s}},'
    '"email":"%s.%s@example.com","login":{"uuid":"%s","username":"%s%s%d",'
    '"password":"%s","salt":"%s","md5":"%s","sha1":"%s","sha256":"%s"},'
    '"dob":{"date":"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ","age":%d},'
    '"registered":{"date":"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ","age":%d},'
    '"phone":"%s","cell":"%s","id":{"name":"%s","value":%s},'
    '"picture":%s,"nat":"%s"}')
_GENDERS = (b"male", b"female")
_PICTURES = [[_b(
    '{"large":"https://randomuser.me/api/portraits/%s/%d.jpg",'
    '"medium":"https://randomuser.me/api/portraits/med/%s/%d.jpg",'
    '"thumbnail":"https://randomuser.me/api/portraits/thumb/%s/%d.jpg"}'
    % (kind, i, kind, i, kind, i)) for i in range(100)]
    for kind in ("men", "women")]
_REF_MD = (_REF_M, _REF_D)
_words = struct.Struct("<7Q").unpack_from
_hex = binascii.hexlify

_shake = hashlib.shake_256
_md5 = hashlib.md5
_sha1 = hashlib.sha1
_sha256 = hashlib.sha256
_gmtime = time.gmtime


def gen_user(seedb, gi, want_row=False):
    """User number gi (0-based) of the data set named by seedb (bytes).

    Returns (json_bytes, csv_row or None).  Depends only on (seed, gi): every
    paging style and page size sees the same users.  The last group of
    login.uuid is gi in hex, so uuids are unique within a seed.
    """
    d = _shake(b"%s:%d" % (seedb, gi)).digest(74)
    h = _hex(d[:9])
    uuid = b"%s-%s-4%s-%c%s-%012x" % (h[:8], h[8:12], h[12:15],
                                      _VARIANT[d[9] & 3], h[15:18], gi)
    salt = d[10:18].translate(_ALNUM_TABLE)
    w, w1, w2, w3, w4, w5, w6 = _words(d, 18)
    w, g = divmod(w, 2)
    w, k = divmod(w, _NNAT)
    quirk = _QUIRKS.get(gi % 50)
    if quirk is not None:
        k, g = quirk[0], quirk[1]
    nat = _NATS[k]
    if g:
        pool = nat.female
        w, k = divmod(w, 3)
        title = _TITLES_F[k]
    else:
        pool = nat.male
        title = _TITLE_M
    w, k = divmod(w, len(pool))
    first = pool[k]
    lasts = nat.last
    w, k = divmod(w, len(lasts))
    last = lasts[k]
    w, number = divmod(w, 9999)
    w, k = divmod(w, len(nat.streets))
    street = nat.streets[k]
    w, k = divmod(w, len(nat.cities))
    city = nat.cities[k]
    if quirk is not None:
        if quirk[2] is not None:
            first = pool[quirk[2]]
        if quirk[3] is not None:
            last = lasts[quirk[3]]
        if quirk[4] is not None:
            city = nat.cities[quirk[4]]
    w, k = divmod(w, 31)
    tz = _TIMEZONES[k]
    w, a = divmod(w, 32)
    w, b = divmod(w, 32)
    w, c = divmod(w, 900)
    password = _PASSWORDS[w % 32]
    w1, k = divmod(w1, 10 ** 12)
    pc_raw, pc_json = nat.postcode(k)
    lat = w1 % 1800001
    w2, lon = divmod(w2, 3600001)
    w2, k = divmod(w2, _DOB_SPAN)
    dob = _gmtime(_DOB_START + k)
    dob_ms = w2 % 1000
    w3, k = divmod(w3, _REG_SPAN)
    reg = _gmtime(_REG_START + k)
    w3, reg_ms = divmod(w3, 1000)
    phone = _fill(nat.phone, w4)
    cell = _fill(nat.cell, w5)
    if nat.id_pattern is not None:
        id_json = b'"' + _fill(nat.id_pattern, w6) + b'"'
    else:
        id_json = b"null"
    pw = password + salt
    js = _USER_TMPL % (
        _GENDERS[g], title, first[1], last[1],
        number + 1, street, city[1], city[2], nat.country[1], pc_json,
        (lat - 900000) / 10000.0, (lon - 1800000) / 10000.0, tz[0], tz[1],
        first[2], last[2], uuid, _ADJECTIVES[a], _ANIMALS[b], c + 100,
        password, salt, _hex(_md5(pw).digest()), _hex(_sha1(pw).digest()),
        _hex(_sha256(pw).digest()),
        dob[0], dob[1], dob[2], dob[3], dob[4], dob[5], dob_ms,
        _REF_Y - dob[0] - ((dob[1], dob[2]) > _REF_MD),
        reg[0], reg[1], reg[2], reg[3], reg[4], reg[5], reg_ms,
        _REF_Y - reg[0] - ((reg[1], reg[2]) > _REF_MD),
        phone, cell, nat.id_name, id_json, _PICTURES[g][w3 % 100], nat.codeb)
    if not want_row:
        return js, None
    row = (uuid.decode("ascii"), _GENDERS[g].decode("ascii"),
           title.decode("ascii"), first[0], last[0],
           "%s.%s@example.com" % (first[3], last[3]), city[0], nat.country[0],
           str(pc_raw),
           "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
               dob[0], dob[1], dob[2], dob[3], dob[4], dob[5], dob_ms),
           phone.decode("ascii"), nat.code)
    return js, row


def users(seedb, start, end, fmt="json"):
    """Users start..end-1 as (json, csv row); rows only for fmt csv."""
    rows = fmt == "csv"
    return [gen_user(seedb, gi, rows) for gi in range(start, end)]


def csv_text(rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    w.writerows(rows)
    return buf.getvalue()


def records_body(recs, fmt):
    """Records without an envelope: (body bytes, content type)."""
    if fmt == "ndjson":
        if not recs:
            return b"", NDJSON_TYPE
        return b"\n".join(r[0] for r in recs) + b"\n", NDJSON_TYPE
    if fmt == "csv":
        return csv_text([r[1] for r in recs]).encode("utf-8"), CSV_TYPE
    return b"[" + b",".join(r[0] for r in recs) + b"]", JSON_TYPE


# ---------------------------------------------------------------------------
# Orders (stateful, for incremental loads)
# ---------------------------------------------------------------------------

ORDER_STATUSES = ("placed", "shipped", "delivered", "cancelled")
_YEAR_START = calendar.timegm((2024, 1, 1, 0, 0, 0))
_YEAR_END = calendar.timegm((2025, 1, 1, 0, 0, 0))
_CLOCK_START = calendar.timegm((2025, 1, 1, 0, 0, 0))


def iso_s(t):
    tm = _gmtime(t)
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % tm[:6]


_TS_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(?:([Zz])|([+\- ])(\d{2})(?::?(\d{2}))?)?$")


def parse_timestamp(text):
    """ISO 8601 / PostgreSQL timestamptz text to microseconds since the epoch.

    Accepts '2024-01-01T00:00:00Z', '2024-01-01 00:00:00+00',
    '2024-01-01 00:00:00.5+02:00', a bare date, a bare epoch number, and a
    '+' that arrived as a space because it was not URL-encoded.  A value
    without a zone is UTC.  Returns None when unparseable.
    """
    s = text.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", s) and len(s) < 20:
        return int(round(float(s) * 1000000))
    m = _TS_RE.match(s)
    if not m:
        return None
    y, mo, d, hh, mi, ss, frac, z, sign, oh, om = m.groups()
    try:
        datetime.datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0),
                          int(ss or 0))
    except ValueError:
        return None
    secs = calendar.timegm((int(y), int(mo), int(d), int(hh or 0),
                            int(mi or 0), int(ss or 0)))
    us = secs * 1000000
    if frac:
        us += int((frac + "000000")[:6])
    if sign:
        off = (int(oh) * 3600 + int(om or 0) * 60) * 1000000
        us += -off if sign in "+ " else off
    return us


class Order:
    __slots__ = ("id", "customer", "status", "cents", "ordered", "updated",
                 "items", "_json")

    def __init__(self, oid, customer, status, cents, ordered, updated, items):
        self.id = oid
        self.customer = customer
        self.status = status
        self.cents = cents
        self.ordered = ordered
        self.updated = updated
        self.items = items
        self._json = None

    def json(self):
        if self._json is None:
            self._json = (
                '{"order_id":%d,"customer_uuid":"%s","status":"%s",'
                '"amount":%d.%02d,"currency":"EUR","ordered_at":"%s",'
                '"updated_at":"%s","items":%s}' % (
                    self.id, self.customer, self.status, self.cents // 100,
                    self.cents % 100, iso_s(self.ordered), iso_s(self.updated),
                    jdump([{"sku": s, "qty": q} for s, q in self.items])))
        return self._json


def _order_customer(oid):
    return _customer_uuids[(oid * 37) % DEFAULT_TOTAL]


_customer_uuids = [json.loads(gen_user(DEFAULT_SEED.encode(), i)[0])
                   ["login"]["uuid"] for i in range(DEFAULT_TOTAL)]


def _order_basics(oid):
    r = random.Random("order:%d" % oid)
    cents = r.randrange(500, 50000)
    items = [("SKU-%04d" % r.randrange(1, 500), r.randrange(1, 6))
             for _ in range(r.randrange(1, 4))]
    return r, cents, items


class Orders:
    """The orders feed.  All access under self.lock."""

    def __init__(self, initial):
        self.lock = threading.Lock()
        self.initial = max(0, initial)
        self.reset()

    def reset(self):
        with self.lock:
            n = self.initial
            by_id = {}
            span = _YEAR_END - _YEAR_START
            for oid in range(1, n + 1):
                r, cents, items = _order_basics(oid)
                ordered = _YEAR_START + ((oid - 1) * span) // max(n, 1) \
                    + r.randrange(0, 3600)
                updated = ordered + r.randrange(
                    0, max(1, min(14 * 86400, _YEAR_END - ordered)))
                status = ORDER_STATUSES[r.randrange(0, 4)]
                by_id[oid] = Order(oid, _order_customer(oid), status, cents,
                                   ordered, updated, items)
            # Every 50th order shares its updated_at with the one before,
            # so that ties on updated_at exist and order_id breaks them.
            for oid in range(50, n + 1, 50):
                prev, cur = by_id[oid - 1], by_id[oid]
                prev.updated = max(cur.updated, prev.ordered)
                cur.updated = prev.updated
                prev._json = None
                cur._json = None
            self.by_id = by_id
            self.advances = 0
            self.next_id = n + 1
            self._resort()

    def _resort(self):
        self.keys = sorted((o.updated, o.id) for o in self.by_id.values())

    def advance(self, n_updated, n_new):
        with self.lock:
            clock = _CLOCK_START + self.advances * 86400
            r = random.Random("advance:%d" % self.advances)
            ids = sorted(self.by_id)
            picked = r.sample(ids, min(n_updated, len(ids)))
            for j, oid in enumerate(picked):
                o = self.by_id[oid]
                o.status = ORDER_STATUSES[
                    (ORDER_STATUSES.index(o.status) + 1) % 4]
                o.updated = clock + j
                o._json = None
            for j in range(n_new):
                oid = self.next_id
                self.next_id += 1
                _, cents, items = _order_basics(oid)
                t = clock + len(picked) + j
                self.by_id[oid] = Order(oid, _order_customer(oid), "placed",
                                        cents, t, t, items)
            self.advances += 1
            self._resort()
            return {"orders": len(self.by_id), "updated": len(picked),
                    "new": n_new, "advances": self.advances,
                    "clock": iso_s(clock), "max_order_id": self.next_id - 1}

    def counts(self):
        with self.lock:
            return {"orders": len(self.by_id), "advances": self.advances,
                    "max_order_id": self.next_id - 1}

    def _start(self, since_us, after):
        i = 0
        if since_us is not None:
            thr = since_us // 1000000   # updated > since  <=>  updated > floor(since)
            i = bisect.bisect_right(self.keys, (thr, float("inf")))
        if after is not None:
            i = max(i, bisect.bisect_right(self.keys, tuple(after)))
        return i

    def after(self, since_us, after, limit):
        """Up to limit orders past the filter; (json list, last key, more)."""
        with self.lock:
            i = self._start(since_us, after)
            sel = self.keys[i:i + limit]
            more = i + limit < len(self.keys)
            return ([self.by_id[k[1]].json() for k in sel],
                    list(sel[-1]) if sel else None, more)

    def page(self, since_us, page, per_page):
        with self.lock:
            i = self._start(since_us, None)
            total = len(self.keys) - i
            lo = i + (page - 1) * per_page
            sel = self.keys[lo:min(lo + per_page, len(self.keys))] \
                if lo < len(self.keys) else []
            return [self.by_id[k[1]].json() for k in sel], total


# ---------------------------------------------------------------------------
# Member changes (a change feed of a large set, for extract -> dimension)
# ---------------------------------------------------------------------------

MEMBER_CITIES = ("Oslo", "Rome", "Lima", "Paris", "Nice", "Kyoto", "Accra",
                 "Quito")
MEMBER_TIERS = ("basic", "silver", "gold", "platinum")
MAX_MEMBERS = 50000000
MAX_MEMBER_CHANGES = 100000000
_MEMBER_V0_START = calendar.timegm((2024, 1, 1, 0, 0, 0))
_MEMBER_CHANGE_START = calendar.timegm((2025, 1, 1, 0, 0, 0))


def member_stride(members):
    """The step between the members of consecutive changes: a prime that
    does not divide `members`, so that any `members` consecutive changes
    touch every member once."""
    return 7919 if members % 7919 else 7927


def member_json(member_id, version, seq):
    """Version `version` of member `member_id` (1-based), as the feed
    serves it; version 0 (seq 0) is the state before the feed's first
    change, which the feed never serves."""
    if version == 0:
        ts = _MEMBER_V0_START + member_id
    else:
        ts = _MEMBER_CHANGE_START + seq
    return ('{"seq":%d,"member_id":%d,"version":%d,"name":"member %d",'
            '"email":"member%d@example.com","city":"%s","tier":"%s",'
            '"updated_at":"%s","deleted":false}') % (
        seq, member_id, version, member_id, member_id,
        MEMBER_CITIES[(member_id + version) % len(MEMBER_CITIES)],
        MEMBER_TIERS[(member_id // 7 + version) % len(MEMBER_TIERS)],
        iso_s(ts))


class Members:
    """The member change feed: `changes` changes published so far (moved by
    advance()); change seq (1-based) is version (seq-1) // members + 1 of
    member ((seq-1) * stride) mod members + 1."""

    def __init__(self):
        self.lock = threading.Lock()
        self.changes = 0

    def reset(self):
        with self.lock:
            self.changes = 0
            return {"changes": 0}

    def advance(self, k):
        with self.lock:
            self.changes = min(self.changes + k, MAX_MEMBER_CHANGES)
            return {"changes": self.changes}

    def counts(self):
        with self.lock:
            return {"changes": self.changes}

    def after(self, members, after, limit):
        """The published changes with seq > after, at most limit of them:
        (records, last seq served, whether more follow)."""
        with self.lock:
            head = self.changes
        stride = member_stride(members)
        end = min(head, after + limit)
        recs = []
        for seq in range(after + 1, end + 1):
            recs.append(member_json(((seq - 1) * stride) % members + 1,
                                    (seq - 1) // members + 1, seq))
        return recs, end, end < head
