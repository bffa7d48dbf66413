#!/usr/bin/env python3
"""Mock HTTP API for pg_elt's tests, demo and benchmarks.

Serves deterministic, randomuser-like user data under every pagination style
the extension supports, a stateful orders feed for incremental loads,
authenticated variants of the user listing, utility endpoints (echo, status,
redirects, compression, huge streamed bodies, a hanging endpoint) and fault
injection on every endpoint.  README.md next to this file is the contract.

Python 3 standard library only.  Listens on loopback only.
"""

import argparse
import base64
import binascii
import bisect
import calendar
import collections
import csv
import datetime
import email.utils
import gzip
import hashlib
import http
import io
import ipaddress
import json
import math
import os
import random
import re
import secrets
import select
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import traceback
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

VERSION = "1.0"

DEFAULT_SEED = "pgelt"
DEFAULT_TOTAL = 100
DEFAULT_PAGE_SIZE = 10
MAX_RESULTS = 5000              # /api results per request unless nolimit=1
MAX_PAGE_SIZE = 100000          # per_page / limit on the paged endpoints
MAX_RESULTS_NOLIMIT = 1000000
MAX_REQUEST_BODY = 64 << 20
MAX_DELAY_MS = 300000
HANG_LIMIT_S = 300

# Fixed credentials (documented in README.md).
BEARER_TOKEN = "test-token"
API_KEY = "test-key"
BASIC_USER = "alice"
BASIC_PASSWORD = "s3cret"
OAUTH_CLIENT_ID = "client"
OAUTH_CLIENT_SECRET = "client-secret"
OAUTH_DEFAULT_EXPIRES = 3600
REALM = "pg_elt-mock"

JSON_TYPE = "application/json"
NDJSON_TYPE = "application/x-ndjson"
CSV_TYPE = "text/csv; charset=utf-8"

CSV_COLUMNS = ("uuid", "gender", "title", "first", "last", "email", "city",
               "country", "postcode", "dob", "phone", "nat")

# Parameters that control faults rather than data.  They may also be given
# as X-Mock-<Name> headers (dashes or underscores), which win over the query.
FAULT_PARAMS = frozenset((
    "delay", "delay_body", "fail", "retry_after", "retry_after_date",
    "fail_times", "fail_key", "fail_page", "drop", "drop_page", "malformed",
    "malformed_page", "rate_limit", "rate_key", "content_type", "compress",
))

# Bytes inserted by malformed=: invalid JSON at any position, inside or
# outside a string (the control character is never valid JSON text).
MALFORMED_GARBAGE = b'{"oops": \x01'


class HTTPError(Exception):
    """An error answer raised by a handler: status, JSON body, headers."""

    def __init__(self, status, error, headers=None, **extra):
        super().__init__(error)
        self.status = status
        self.doc = {"error": error}
        self.doc.update(extra)
        self.headers = headers or []


class InjectedFailure(Exception):
    """Raised by the fault gate when the request must fail."""

    def __init__(self, resp):
        super().__init__("injected failure")
        self.resp = resp


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
# Caching
# ---------------------------------------------------------------------------

class LRU:
    """Byte-bounded LRU of immutable values with a .size."""

    def __init__(self, max_bytes):
        self.max = max_bytes
        self.used = 0
        self.d = collections.OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            v = self.d.get(key)
            if v is not None:
                self.d.move_to_end(key)
            return v

    def put(self, key, value, size):
        if size > self.max // 4:
            return
        with self.lock:
            old = self.d.pop(key, None)
            if old is not None:
                self.used -= old[1]
            self.d[key] = (value, size)
            self.used += size
            while self.used > self.max and self.d:
                _, (_, s) = self.d.popitem(last=False)
                self.used -= s

    def clear(self):
        with self.lock:
            self.d.clear()
            self.used = 0


class Resp:
    __slots__ = ("status", "body", "ctype", "headers", "stream", "hang",
                 "cache_key", "encode", "after")

    def __init__(self, status=200, body=b"", ctype=JSON_TYPE, headers=None):
        self.status = status
        self.body = body
        self.ctype = ctype
        self.headers = headers or []
        self.stream = None          # iterator of bytes: chunked body
        self.hang = None            # seconds to hang instead of answering
        self.cache_key = None
        self.encode = None          # "gzip"/"deflate" wanted by the route
        self.after = None           # callable run after the answer is sent


def json_resp(obj, status=200, headers=None):
    return Resp(status, jbytes(obj), JSON_TYPE, headers)


# ---------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------

_TRUE = ("1", "true", "yes", "on")


class Req:
    __slots__ = ("app", "method", "target", "path", "npath", "control", "qs",
                 "query", "params",
                 "headers", "body", "host", "client", "faults", "gated",
                 "do_drop", "do_malformed", "conn_port", "conn_requests")

    def int(self, name, default, lo=None, hi=None):
        v = self.params.get(name)
        if v is None or v == "":
            return default
        try:
            n = int(v)
        except ValueError:
            raise HTTPError(400, "invalid %s" % name, value=v)
        if (lo is not None and n < lo) or (hi is not None and n > hi):
            raise HTTPError(400, "%s out of range" % name, value=n,
                            min=lo, max=hi)
        return n

    def fmt(self, allowed=("json", "ndjson", "csv")):
        f = self.params.get("format") or "json"
        if f not in allowed:
            raise HTTPError(400, "unsupported format", value=f,
                            allowed=list(allowed))
        return f

    def flag(self, name):
        return (self.params.get(name) or "").lower() in _TRUE

    def dataset(self):
        seed = self.params.get("seed") or DEFAULT_SEED
        total = self.int("total", DEFAULT_TOTAL, 0, 10 ** 9)
        return seed, seed.encode("utf-8"), total

    def url(self, updates=None, path=None):
        """Absolute URL of this request with some parameters replaced."""
        updates = dict(updates or {})
        pairs = []
        for k, v in self.query:
            if k in updates:
                if updates[k] is not None:
                    pairs.append((k, str(updates[k])))
                updates[k] = None
            else:
                pairs.append((k, v))
        for k, v in updates.items():
            if v is not None:
                pairs.append((k, str(v)))
        q = urlencode(pairs)
        return "http://%s%s%s" % (self.host, path or self.path,
                                  "?" + q if q else "")

    def gate(self, page):
        self.app.gate(self, page)


# ---------------------------------------------------------------------------
# The application
# ---------------------------------------------------------------------------

def _reason(code):
    try:
        return http.HTTPStatus(code).phrase
    except ValueError:
        return "Status %d" % code


class App:
    def __init__(self, orders=200, cache_mb=256, verbose=False):
        self.verbose = verbose
        self.cache = LRU(cache_mb << 20)
        self.stats_lock = threading.Lock()
        self.requests = collections.Counter()
        self.responses = collections.Counter()
        self.total = 0
        self.fail_lock = threading.Lock()
        self.fail_counts = {}
        self.buckets = {}
        self.token_lock = threading.Lock()
        self.tokens = {}
        self.tokens_issued = 0
        self.orders = Orders(orders)
        self.huge_lock = threading.Lock()
        self.huge_blocks = {}
        self.server = None
        self.small = self._small(0)
        self.routes = {
            "/": (self.h_index, ("GET", "HEAD"), False),
            "/api": (self.h_api, ("GET", "HEAD"), True),
            "/users/page": (self.h_users_page, ("GET", "HEAD"), True),
            "/users/offset": (self.h_users_offset, ("GET", "HEAD"), True),
            "/users/cursor": (self.h_users_cursor, ("GET", "HEAD"), True),
            "/users/next": (self.h_users_next, ("GET", "HEAD"), True),
            "/users/link": (self.h_users_link, ("GET", "HEAD"), True),
            "/users/endless": (self.h_endless, ("GET", "HEAD"), True),
            "/users/endless_link": (self.h_endless_link, ("GET", "HEAD"), True),
            "/orders": (self.h_orders, ("GET", "HEAD"), True),
            "/orders/page": (self.h_orders_page, ("GET", "HEAD"), True),
            "/auth/bearer/users": (self.h_auth_bearer, ("GET", "HEAD"), True),
            "/auth/api_key/users": (self.h_auth_api_key, ("GET", "HEAD"), True),
            "/auth/basic/users": (self.h_auth_basic, ("GET", "HEAD"), True),
            "/auth/oauth/users": (self.h_auth_oauth, ("GET", "HEAD"), True),
            "/oauth/token": (self.h_oauth_token, ("POST",), False),
            "/echo": (self.h_echo, None, False),
            "/small": (self.h_small, ("GET", "HEAD"), False),
            "/redirect": (self.h_redirect, None, False),
            "/redirect/chain": (self.h_redirect_chain, None, False),
            "/gzip": (self.h_gzip, ("GET", "HEAD"), True),
            "/deflate": (self.h_deflate, ("GET", "HEAD"), True),
            "/huge": (self.h_huge, ("GET", "HEAD"), False),
            "/hang": (self.h_hang, None, False),
            "/_control/stats": (self.c_stats, ("GET", "POST"), False),
            "/_control/reset": (self.c_reset, ("GET", "POST"), False),
            "/_control/health": (self.c_health, ("GET", "HEAD", "POST"), False),
            "/_control/orders/advance": (self.c_orders_advance, ("GET", "POST"), False),
            "/_control/orders/reset": (self.c_orders_reset, ("GET", "POST"), False),
            "/_control/orders": (self.c_orders, ("GET",), False),
            "/_control/oauth": (self.c_oauth, ("GET",), False),
            "/_control/oauth/revoke": (self.c_oauth_revoke, ("GET", "POST"), False),
            "/_control/shutdown": (self.c_shutdown, ("POST",), False),
        }

    # -- bookkeeping ---------------------------------------------------------

    def count_request(self, path):
        with self.stats_lock:
            self.requests[path] += 1
            self.total += 1

    def count_response(self, status):
        with self.stats_lock:
            self.responses[status] += 1

    def cached(self, req, build):
        """Answer from the body cache, building (and storing) on a miss."""
        key = (req.npath, req.host, req.qs)
        hit = self.cache.get(key)
        if hit is not None:
            resp = hit[0]
        else:
            resp = build()
            resp.cache_key = key
            self.cache.put(key, resp, len(resp.body) + 200)
        out = Resp(resp.status, resp.body, resp.ctype, list(resp.headers))
        out.cache_key = key
        out.encode = resp.encode
        return out

    # -- faults --------------------------------------------------------------

    def parse_faults(self, req):
        raw = {}
        for k in FAULT_PARAMS:
            if k in req.params:
                raw[k] = req.params[k]
        for name, value in req.headers.items():
            if name.startswith("x-mock-"):
                k = name[7:].replace("-", "_")
                if k in FAULT_PARAMS:
                    raw[k] = value
        f = {}
        try:
            for k, v in raw.items():
                v = v.strip()
                if k in ("delay", "delay_body"):
                    f[k] = min(max(float(v), 0.0), MAX_DELAY_MS) / 1000.0
                elif k == "fail":
                    f[k] = int(v)
                    if not 200 <= f[k] <= 599:
                        raise ValueError(k)
                elif k in ("retry_after", "fail_times", "drop", "malformed"):
                    f[k] = int(v)
                    if f[k] < 0:
                        raise ValueError(k)
                elif k in ("fail_page", "drop_page", "malformed_page"):
                    f[k] = int(v)
                elif k == "rate_limit":
                    f[k] = float(v)
                    if not f[k] > 0:
                        raise ValueError(k)
                elif k == "retry_after_date":
                    f[k] = v.lower() in _TRUE
                elif k == "compress":
                    if v not in ("gzip", "deflate"):
                        raise ValueError(k)
                    f[k] = v
                else:
                    f[k] = v
        except ValueError:
            raise HTTPError(400, "invalid fault parameter", parameter=k,
                            value=raw.get(k))
        return f

    def fail_response(self, req, code):
        f = req.faults
        headers = []
        if code in (429, 503) or "retry_after" in f:
            ra = f.get("retry_after", 1)
            if f.get("retry_after_date"):
                headers.append(("Retry-After", email.utils.formatdate(
                    math.ceil(time.time()) + ra, usegmt=True)))
            else:
                headers.append(("Retry-After", str(ra)))
        return json_resp({"error": "injected failure", "status": code},
                         code, headers)

    def gate(self, req, page):
        """Decide the injected faults for this request, serving page `page`.

        Raises InjectedFailure when the request must fail with `fail`.
        """
        if req.gated:
            return
        req.gated = True
        f = req.faults
        if not f:
            return
        want_fail = "fail" in f or (
            ("fail_times" in f or "fail_page" in f)
            and "drop" not in f and "malformed" not in f)

        def on(sel):
            return sel is None or sel == page

        fail = want_fail and on(f.get("fail_page"))
        drop = "drop" in f and on(f.get("drop_page", f.get("fail_page")))
        mal = "malformed" in f and on(
            f.get("malformed_page", f.get("fail_page")))
        if not (fail or drop or mal):
            return
        if "fail_times" in f:
            key = f.get("fail_key")
            if key is None:
                q = urlencode(sorted((k, v) for k, v in req.query
                                     if k not in FAULT_PARAMS))
                key = req.path + ("?" + q if q else "")
            with self.fail_lock:
                n = self.fail_counts.get(key, 0) + 1
                self.fail_counts[key] = n
            if n > f["fail_times"]:
                return
        req.do_drop = f["drop"] if drop else None
        req.do_malformed = f["malformed"] if mal else None
        if fail:
            raise InjectedFailure(self.fail_response(req, f.get("fail", 500)))

    def rate_check(self, req):
        """Token bucket per (client address, rate, rate_key); seconds to wait."""
        rps = req.faults["rate_limit"]
        key = (req.client, rps, req.faults.get("rate_key"))
        cap = max(1.0, rps)
        now = time.monotonic()
        with self.fail_lock:
            tokens, last = self.buckets.get(key, (cap, now))
            tokens = min(cap, tokens + (now - last) * rps)
            if tokens >= 1.0:
                self.buckets[key] = (tokens - 1.0, now)
                return 0.0
            self.buckets[key] = (tokens, now)
            return (1.0 - tokens) / rps

    # -- dispatch ------------------------------------------------------------

    def route(self, npath):
        r = self.routes.get(npath)
        if r is not None:
            return r
        if npath.startswith("/small/"):
            return (self.h_small, ("GET", "HEAD"), False)
        if npath.startswith("/status/"):
            return (self.h_status, None, False)
        return None

    def handle(self, req):
        """Run one request; returns a Resp (possibly streaming or hanging)."""
        control = req.control
        if not control:
            self.count_request(req.path)
        try:
            req.faults = {} if control else self.parse_faults(req)
            f = req.faults
            if "rate_limit" in f:
                wait = self.rate_check(req)
                if wait > 0:
                    return json_resp({"error": "rate limit exceeded"}, 429,
                                     [("Retry-After",
                                       str(max(1, math.ceil(wait))))])
            if "delay" in f:
                time.sleep(f["delay"])
            r = self.route(req.npath)
            if r is None:
                raise HTTPError(404, "not found", path=req.path)
            fn, methods, paged = r
            if methods is not None and req.method not in methods:
                raise HTTPError(405, "method not allowed",
                                headers=[("Allow", ", ".join(methods))])
            if not paged:
                self.gate(req, 1)
            resp = fn(req)
            if not req.gated:
                self.gate(req, 1)
            if "compress" in f:
                resp.encode = f["compress"]
            return resp
        except InjectedFailure as e:
            return e.resp
        except HTTPError as e:
            return json_resp(e.doc, e.status, e.headers)

    # -- users under every pagination style ----------------------------------

    def h_index(self, req):
        return json_resp({"service": "pg_elt mock API", "version": VERSION,
                          "endpoints": sorted(self.routes)})

    def h_api(self, req):
        n = req.int("results", 1, 0, MAX_RESULTS_NOLIMIT)
        if n > MAX_RESULTS and not req.flag("nolimit"):
            n = MAX_RESULTS
        page = req.int("page", 1, 1, 10 ** 9)
        seed = req.params.get("seed") or DEFAULT_SEED
        fmt = req.fmt()
        req.gate(page)

        def build():
            recs = users(seed.encode("utf-8"), (page - 1) * n, page * n, fmt)
            if fmt != "json":
                return Resp(200, *records_body(recs, fmt))
            body = b'{"results":[%s],"info":%s}' % (
                b",".join(r[0] for r in recs),
                jbytes({"seed": seed, "results": n, "page": page,
                        "version": "1.4"}))
            return Resp(200, body)
        return self.cached(req, build)

    def _page_body(self, req):
        seed, seedb, total = req.dataset()
        page = req.int("page", 1, 1, 10 ** 9)
        per = req.int("per_page", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        fmt = req.fmt()
        req.gate(page)

        def build():
            start = (page - 1) * per
            recs = users(seedb, start, min(start + per, total), fmt) \
                if start < total else []
            if fmt != "json":
                return Resp(200, *records_body(recs, fmt))
            body = b'{"data":[%s],"page":%d,"per_page":%d,"total":%d,' \
                   b'"total_pages":%d}' % (
                       b",".join(r[0] for r in recs), page, per,
                       total, (total + per - 1) // per)
            return Resp(200, body)
        return self.cached(req, build)

    def h_users_page(self, req):
        return self._page_body(req)

    def h_users_offset(self, req):
        seed, seedb, total = req.dataset()
        offset = req.int("offset", 0, 0, 10 ** 12)
        limit = req.int("limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        fmt = req.fmt()
        req.gate(offset // limit + 1)

        def build():
            recs = users(seedb, offset, min(offset + limit, total), fmt) \
                if offset < total else []
            if fmt != "json":
                return Resp(200, *records_body(recs, fmt))
            body = b'{"items":[%s],"offset":%d,"limit":%d,"total":%d}' % (
                b",".join(r[0] for r in recs), offset, limit, total)
            return Resp(200, body)
        return self.cached(req, build)

    def h_users_cursor(self, req):
        seed, seedb, total = req.dataset()
        limit = req.int("limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        cur = req.params.get("cursor")
        offset = 0
        if cur:
            c = un_b64_cursor(cur)
            if c is None or c.get("k") != "users" or not isinstance(
                    c.get("o"), int) or c["o"] < 0:
                raise HTTPError(400, "invalid cursor", cursor=cur)
            offset = c["o"]
        req.gate(offset // limit + 1)

        def build():
            end = min(offset + limit, total)
            recs = users(seedb, offset, end) if offset < total else []
            nxt = None
            if end < total:
                nxt = b64_cursor({"v": 1, "k": "users", "o": end,
                                  "q": carried_params(req)})
            body = b'{"records":[%s],"next_cursor":%s}' % (
                b",".join(r[0] for r in recs), jbytes(nxt))
            return Resp(200, body)
        return self.cached(req, build)

    def h_users_next(self, req):
        seed, seedb, total = req.dataset()
        start = req.int("start", 0, 0, 10 ** 12)
        limit = req.int("limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        req.gate(start // limit + 1)

        def build():
            end = min(start + limit, total)
            recs = users(seedb, start, end) if start < total else []
            nxt = req.url({"start": end, "limit": limit}) \
                if end < total else None
            body = b'{"results":[%s],"next":%s}' % (
                b",".join(r[0] for r in recs), jbytes(nxt))
            return Resp(200, body)
        return self.cached(req, build)

    def h_users_link(self, req):
        seed, seedb, total = req.dataset()
        page = req.int("page", 1, 1, 10 ** 9)
        per = req.int("per_page", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        fmt = req.fmt()
        req.gate(page)

        def build():
            start = (page - 1) * per
            recs = users(seedb, start, min(start + per, total), fmt) \
                if start < total else []
            body, ctype = records_body(recs, fmt)
            pages = (total + per - 1) // per
            links = [("first", 1)]
            if 1 < page <= pages:
                links.append(("prev", page - 1))
            if page < pages:
                links.append(("next", page + 1))
            links.append(("last", max(pages, 1)))
            rot = page % len(links)
            links = links[rot:] + links[:rot]
            value = ", ".join(
                '<%s>; rel="%s"' % (req.url({"page": p, "per_page": per}), rel)
                for rel, p in links)
            return Resp(200, body, ctype, [("Link", value)])
        return self.cached(req, build)

    def h_endless(self, req):
        seed, seedb, total = req.dataset()
        page = req.int("page", 1, 1, 10 ** 9)
        req.gate(page)
        cur = req.params.get("cursor") or "endless"
        rec = gen_user(seedb, (page - 1) % max(total, 1))[0]
        body = b'{"results":[%s],"next":%s,"next_cursor":%s}' % (
            rec, jbytes(self_url(req)), jbytes(cur))
        return Resp(200, body)

    def h_endless_link(self, req):
        seed, seedb, total = req.dataset()
        page = req.int("page", 1, 1, 10 ** 9)
        req.gate(page)
        rec = gen_user(seedb, (page - 1) % max(total, 1))[0]
        return Resp(200, b"[" + rec + b"]", JSON_TYPE,
                    [("Link", '<%s>; rel="next"' % self_url(req))])

    # -- orders --------------------------------------------------------------

    def _since(self, req):
        v = req.params.get("updated_since")
        if v is None or v == "":
            return None
        us = parse_timestamp(v)
        if us is None:
            raise HTTPError(400, "invalid updated_since", value=v)
        return us

    def h_orders(self, req):
        since = self._since(req)
        limit = req.int("limit", 100, 1, MAX_PAGE_SIZE)
        cur = req.params.get("cursor")
        after = None
        page = 1
        if cur:
            c = un_b64_cursor(cur)
            if c is None or c.get("k") != "orders" or not isinstance(
                    c.get("a"), list) or len(c["a"]) != 2 or not all(
                    isinstance(x, int) for x in c["a"] + [c.get("p", 1)]):
                raise HTTPError(400, "invalid cursor", cursor=cur)
            after = c["a"]
            page = c.get("p", 1)
        req.gate(page)
        recs, last, more = self.orders.after(since, after, limit)
        nxt = None
        if more and last is not None:
            nxt = b64_cursor({"v": 1, "k": "orders", "a": last, "p": page + 1,
                              "q": carried_params(req)})
        body = '{"orders":[%s],"next_cursor":%s}' % (",".join(recs), jdump(nxt))
        return Resp(200, body.encode("utf-8"))

    def h_orders_page(self, req):
        since = self._since(req)
        page = req.int("page", 1, 1, 10 ** 9)
        per = req.int("per_page", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        req.gate(page)
        recs, total = self.orders.page(since, page, per)
        body = '{"orders":[%s],"page":%d,"per_page":%d,"total":%d,' \
               '"total_pages":%d}' % (",".join(recs), page, per, total,
                                      (total + per - 1) // per)
        return Resp(200, body.encode("utf-8"))

    # -- auth ----------------------------------------------------------------

    def _unauthorized(self, scheme, error="unauthorized", extra=""):
        return HTTPError(401, error, headers=[(
            "WWW-Authenticate", '%s realm="%s"%s' % (scheme, REALM, extra))])

    @staticmethod
    def _bearer(req):
        a = req.headers.get("authorization", "")
        parts = a.split(None, 1)
        if len(parts) == 2 and parts[0].lower() == "bearer":
            return parts[1].strip()
        return None

    @staticmethod
    def _basic(req):
        a = req.headers.get("authorization", "")
        parts = a.split(None, 1)
        if len(parts) != 2 or parts[0].lower() != "basic":
            return None
        try:
            raw = base64.b64decode(parts[1].strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        if ":" not in raw:
            return None
        return tuple(raw.split(":", 1))

    def h_auth_bearer(self, req):
        req.gate(req.int("page", 1, 1, 10 ** 9))   # faults before auth
        if self._bearer(req) != BEARER_TOKEN:
            raise self._unauthorized("Bearer")
        return self._page_body(req)

    def h_auth_api_key(self, req):
        req.gate(req.int("page", 1, 1, 10 ** 9))   # faults before auth
        if req.headers.get("x-api-key") != API_KEY and \
                req.params.get("api_key") != API_KEY:
            raise self._unauthorized("ApiKey")
        return self._page_body(req)

    def h_auth_basic(self, req):
        req.gate(req.int("page", 1, 1, 10 ** 9))   # faults before auth
        if self._basic(req) != (BASIC_USER, BASIC_PASSWORD):
            raise self._unauthorized("Basic")
        return self._page_body(req)

    def h_auth_oauth(self, req):
        req.gate(req.int("page", 1, 1, 10 ** 9))   # faults before auth
        tok = self._bearer(req)
        with self.token_lock:
            exp = self.tokens.get(tok) if tok else None
        if exp is None or exp <= time.time():
            raise self._unauthorized("Bearer", "invalid_token",
                                     ', error="invalid_token"')
        return self._page_body(req)

    def h_oauth_token(self, req):
        ctype = req.headers.get("content-type", "")
        text = req.body.decode("utf-8", "replace")
        form = {}
        if "json" in ctype:
            try:
                doc = json.loads(text or "{}")
                if isinstance(doc, dict):
                    form = {k: str(v) for k, v in doc.items()}
            except ValueError:
                raise HTTPError(400, "invalid_request")
        else:
            form = dict(parse_qsl(text, keep_blank_values=True))
        cid = form.get("client_id")
        secret = form.get("client_secret")
        basic = self._basic(req)
        if basic is not None:
            cid, secret = unquote(basic[0].replace("+", " ")), \
                unquote(basic[1].replace("+", " "))
        if (cid, secret) != (OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET):
            raise self._unauthorized("Basic", "invalid_client")
        gt = form.get("grant_type")
        if not gt:
            raise HTTPError(400, "invalid_request",
                            error_description="grant_type is required")
        if gt != "client_credentials":
            raise HTTPError(400, "unsupported_grant_type")
        expires = req.int("expires_in", OAUTH_DEFAULT_EXPIRES, 0, 10 ** 9)
        tok = secrets.token_urlsafe(24)
        with self.token_lock:
            now = time.time()
            self.tokens = {t: e for t, e in self.tokens.items() if e > now}
            self.tokens[tok] = now + expires
            self.tokens_issued += 1
        doc = {"access_token": tok, "token_type": "Bearer",
               "expires_in": expires}
        if form.get("scope"):
            doc["scope"] = form["scope"]
        return json_resp(doc, 200, [("Cache-Control", "no-store"),
                                    ("Pragma", "no-cache")])

    # -- utilities -----------------------------------------------------------

    def h_echo(self, req):
        q = {}
        for k, v in req.query:
            if k in q:
                if not isinstance(q[k], list):
                    q[k] = [q[k]]
                q[k].append(v)
            else:
                q[k] = v
        return json_resp({"method": req.method, "path": req.path, "query": q,
                          "headers": req.headers,
                          "body": req.body.decode("utf-8", "replace"),
                          "connection": {"client_port": req.conn_port,
                                         "request": req.conn_requests}})

    def h_status(self, req):
        try:
            code = int(req.npath[len("/status/"):])
        except ValueError:
            raise HTTPError(404, "not found", path=req.path)
        if not 200 <= code <= 599:
            raise HTTPError(400, "status out of range", value=code)
        return json_resp({"status": code}, code)

    @staticmethod
    def _small(n):
        return jbytes({
            "n": n, "name": "small", "ok": True, "version": VERSION,
            "values": [1, 2, 3, 4, 5], "tags": ["pg_elt", "mock", "bench"],
            "created_at": "2024-01-01T00:00:00Z",
            "description": "A small fixed JSON document for request-rate "
                           "benchmarks."})

    def h_small(self, req):
        if req.npath == "/small":
            return Resp(200, self.small)
        tail = req.npath[len("/small/"):]
        if not tail.isdigit() or len(tail) > 18:
            raise HTTPError(404, "not found", path=req.path)
        return Resp(200, self._small(int(tail)))

    def h_redirect(self, req):
        to = req.params.get("to")
        if not to:
            raise HTTPError(400, "missing to")
        code = req.int("code", 302)
        if code not in (301, 302, 303, 307, 308):
            raise HTTPError(400, "unsupported redirect code", value=code)
        return json_resp({"redirect": to, "status": code}, code,
                         [("Location", to)])

    def h_redirect_chain(self, req):
        n = req.int("n", 1, 0, 1000)
        code = req.int("code", 302)
        if code not in (301, 302, 303, 307, 308):
            raise HTTPError(400, "unsupported redirect code", value=code)
        if n == 0:
            return Resp(200, self.small)
        if n == 1:
            to = "http://%s/small" % req.host
        else:
            to = req.url({"n": n - 1})
        return json_resp({"redirect": to, "status": code, "remaining": n},
                         code, [("Location", to)])

    def _compressed_api(self, req, enc):
        resp = self.h_api(req)
        resp.encode = enc
        return resp

    def h_gzip(self, req):
        return self._compressed_api(req, "gzip")

    def h_deflate(self, req):
        return self._compressed_api(req, "deflate")

    def h_hang(self, req):
        resp = Resp(200)
        resp.hang = float(req.int("max", HANG_LIMIT_S, 0, HANG_LIMIT_S))
        return resp

    # -- /huge ----------------------------------------------------------------

    HUGE_BLOCK = 1000

    def huge_block(self, seed, fmt):
        """Pre-encoded records with a %012x slot for the uuid's last group."""
        key = (seed, fmt)
        with self.huge_lock:
            blk = self.huge_blocks.get(key)
            if blk is not None:
                return blk
        recs = []
        for gi in range(self.HUGE_BLOCK):
            js = gen_user(seed.encode("utf-8"), gi)[0]
            i = js.index(b'"uuid":"') + 8 + 24
            recs.append(js[:i].replace(b"%", b"%%") + b"%012x"
                        + js[i + 12:].replace(b"%", b"%%"))
        if fmt == "ndjson":
            singles = [r + b"\n" for r in recs]
            first = b"".join(singles)
            rest = first
        else:
            singles = recs
            first = b",".join(recs)
            rest = b"," + first
        sizes = [len(r % 0) for r in singles]
        blk = (first, rest, singles, sizes, len(first % tuple(range(len(recs)))))
        with self.huge_lock:
            self.huge_blocks[key] = blk
        return blk

    def h_huge(self, req):
        seed = req.params.get("seed") or DEFAULT_SEED
        fmt = req.fmt(("json", "ndjson"))
        nrec = req.int("records", None, 0, 10 ** 12)
        nbytes = req.int("bytes", None, 0, 1 << 50)
        if nrec is not None and nbytes is not None:
            raise HTTPError(400, "give records or bytes, not both")
        if nrec is None and nbytes is None:
            nrec = 1000
        first, rest, singles, sizes, block_size = self.huge_block(seed, fmt)
        K = self.HUGE_BLOCK
        if fmt == "json":
            head = ('{"info":%s,"results":[' % jdump({
                "seed": seed, "records": nrec, "bytes": nbytes,
                "version": "1.4"})).encode("utf-8")
            tail = b"]}"
            sep = 1
        else:
            head = b""
            tail = b""
            sep = 0

        def gen():
            yield head
            sent = len(head)
            n = 0
            while True:
                if nrec is not None:
                    left = nrec - n
                    if left <= 0:
                        break
                    if left >= K:
                        yield (first if n == 0 else rest) % tuple(range(n, n + K))
                        n += K
                        continue
                    take = left
                else:
                    bsz = block_size + (sep if n else 0)
                    if sent + bsz + len(tail) < nbytes:
                        yield (first if n == 0 else rest) % tuple(range(n, n + K))
                        sent += bsz
                        n += K
                        continue
                    take = 0
                    acc = sent
                    while acc + len(tail) < nbytes and take < K:
                        acc += sizes[take] + (sep if n + take else 0)
                        take += 1
                    if take == 0:
                        break
                parts = []
                for j in range(take):
                    if sep and n + j:
                        parts.append(b",")
                    parts.append(singles[j] % (n + j))
                chunk = b"".join(parts)
                sent += len(chunk)
                n += take
                yield chunk
                if nrec is None:
                    break
            if tail:
                yield tail

        resp = Resp(200, b"", NDJSON_TYPE if fmt == "ndjson" else JSON_TYPE)
        resp.stream = gen()
        return resp

    # -- control -------------------------------------------------------------

    def c_stats(self, req):
        with self.stats_lock:
            doc = {"requests": dict(self.requests), "total": self.total,
                   "responses": {str(k): v for k, v in self.responses.items()}}
        with self.token_lock:
            doc["tokens_issued"] = self.tokens_issued
        return json_resp(doc)

    def c_reset(self, req):
        with self.stats_lock:
            self.requests.clear()
            self.responses.clear()
            self.total = 0
        with self.fail_lock:
            self.fail_counts.clear()
            self.buckets.clear()
        with self.token_lock:
            self.tokens_issued = 0
        return json_resp({"ok": True})

    def c_health(self, req):
        return json_resp({"ok": True})

    def c_orders_advance(self, req):
        u = req.int("updated", 0, 0, 1000000)
        k = req.int("new", 0, 0, 1000000)
        return json_resp(self.orders.advance(u, k))

    def c_orders_reset(self, req):
        self.orders.reset()
        return json_resp(self.orders.counts())

    def c_orders(self, req):
        return json_resp(self.orders.counts())

    def c_oauth(self, req):
        with self.token_lock:
            now = time.time()
            return json_resp({"tokens_issued": self.tokens_issued,
                              "active": sum(1 for e in self.tokens.values()
                                            if e > now)})

    def c_oauth_revoke(self, req):
        with self.token_lock:
            n = len(self.tokens)
            self.tokens.clear()
        return json_resp({"revoked": n})

    def c_shutdown(self, req):
        resp = json_resp({"ok": True})
        server = self.server

        def stop():
            if server is not None:
                threading.Thread(target=server.shutdown, daemon=True).start()
        resp.after = stop
        return resp


def self_url(req):
    """The absolute URL of this request, exactly as the client asked for it."""
    t = req.target
    if "://" in t:
        return t
    return "http://%s%s" % (req.host, t)


def carried_params(req):
    """Query parameters a cursor carries to the next page (all but cursor)."""
    return [[k, v] for k, v in req.params.items() if k != "cursor"]


# ---------------------------------------------------------------------------
# HTTP plumbing
# ---------------------------------------------------------------------------

_date_cache = [0, b""]


def http_date():
    t = int(time.time())
    if t != _date_cache[0]:
        _date_cache[1] = email.utils.formatdate(t, usegmt=True).encode("ascii")
        _date_cache[0] = t
    return _date_cache[1]


def accepts(header, enc):
    """Whether an Accept-Encoding value allows enc."""
    star = False
    for part in header.split(","):
        bits = part.strip().split(";")
        name = bits[0].strip().lower()
        q = 1.0
        for b in bits[1:]:
            b = b.strip()
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        if name == enc or (enc == "gzip" and name == "x-gzip"):
            return q > 0
        if name == "*":
            star = q > 0
    return star


def _header_value(v):
    try:
        return v.encode("latin-1")
    except UnicodeEncodeError:
        return quote(v, safe="!#$&'()*+,/:;=?@[]~%<>\" ").encode("latin-1")


def _sendv(sock, bufs):
    """Send all of bufs, in one system call when the socket takes it all."""
    bufs = [b for b in bufs if b]
    if not bufs:
        return
    n = sock.sendmsg(bufs)
    for b in bufs:
        if n >= len(b):
            n -= len(b)
            continue
        sock.sendall(memoryview(b)[n:] if n else b)
        n = 0


def _insert_garbage(body, off):
    off = max(0, min(off, len(body)))
    while off < len(body) and (body[off] & 0xC0) == 0x80:
        off += 1                      # keep UTF-8 characters whole
    return body[:off] + MALFORMED_GARBAGE + body[off:]


def _compress(body, enc):
    if enc == "gzip":
        return gzip.compress(body, 6, mtime=0)
    return zlib.compress(body, 6)


class Headers:
    """Request headers: case-insensitive get(), items() as received."""

    __slots__ = ("pairs", "map")

    def __init__(self):
        self.pairs = []
        self.map = {}

    def add(self, name, value):
        self.pairs.append((name, value))
        k = name.lower()
        m = self.map
        m[k] = m[k] + ", " + value if k in m else value

    def get(self, name, default=None):
        return self.map.get(name.lower(), default)

    def __getitem__(self, name):
        return self.map.get(name.lower())

    def __contains__(self, name):
        return name.lower() in self.map

    def items(self):
        return list(self.pairs)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pg_elt-mock/" + VERSION
    sys_version = ""
    timeout = 300          # idle keep-alive connections are closed after this

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, fmt, *args):
        if self.server.app.verbose:
            sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % args))

    def parse_request(self):
        """A lean version of BaseHTTPRequestHandler.parse_request.

        The standard one parses headers with the email package, which costs
        more than everything else a small request does.
        """
        self.command = None
        self.request_version = self.default_request_version
        self.close_connection = True
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.requestline = requestline
        words = requestline.split()
        if len(words) != 3 or not words[2].startswith("HTTP/"):
            self.send_error(400, "Bad request line")
            return False
        try:
            major, minor = words[2][5:].split(".")
            major, minor = int(major), int(minor)
        except ValueError:
            self.send_error(400, "Bad request version")
            return False
        if major != 1:
            self.send_error(505, "HTTP version not supported")
            return False
        self.command, self.path, self.request_version = words
        if minor >= 1:
            self.close_connection = False
        headers = Headers()
        last = None
        for _ in range(201):
            line = self.rfile.readline(65537)
            if len(line) > 65536:
                self.send_error(431, "Header line too long")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            text = line.decode("iso-8859-1").rstrip("\r\n")
            if text[:1] in (" ", "\t") and last is not None:
                name, value = last
                headers.pairs.pop()
                del headers.map[name.lower()]
                headers.add(name, value + " " + text.strip())
                last = headers.pairs[-1]
                continue
            name, sep, value = text.partition(":")
            if not sep or not name or name != name.strip():
                self.send_error(400, "Bad header line")
                return False
            headers.add(name, value.strip())
            last = headers.pairs[-1]
        else:
            self.send_error(431, "Too many headers")
            return False
        self.headers = headers
        conn = headers.get("Connection", "").lower()
        if "close" in conn:
            self.close_connection = True
        elif "keep-alive" in conn:
            self.close_connection = False
        if minor >= 1 and headers.get("Expect", "").lower() == "100-continue":
            if not self.handle_expect_100():
                return False
        return True

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, socket.timeout, TimeoutError):
            self.close_connection = True

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = []
            size = 0
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("eof in chunked body")
                n = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if n == 0:
                    while True:          # trailers
                        t = self.rfile.readline(65537)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    break
                size += n
                if size > MAX_REQUEST_BODY:
                    raise HTTPError(413, "request body too large")
                out.append(self.rfile.read(n))
                self.rfile.readline(3)
            return b"".join(out)
        cl = self.headers.get("Content-Length")
        if cl:
            n = int(cl)
            if n > MAX_REQUEST_BODY:
                raise HTTPError(413, "request body too large")
            return self.rfile.read(n) if n > 0 else b""
        return b""

    def _dispatch(self):
        app = self.server.app
        try:
            body = self._read_body()
        except HTTPError as e:
            self.close_connection = True
            self._send(app, None, json_resp(e.doc, e.status))
            return
        except ValueError:
            self.close_connection = True
            self._send(app, None, json_resp({"error": "bad request body"}, 400))
            return
        req = Req()
        req.app = app
        self.conn_requests = getattr(self, "conn_requests", 0) + 1
        req.conn_port = self.client_address[1]
        req.conn_requests = self.conn_requests
        req.method = self.command
        req.target = self.path
        parts = urlsplit(self.path)
        req.path = parts.path or "/"
        req.npath = req.path.rstrip("/") or "/"
        req.control = req.npath.startswith("/_control/")
        req.qs = parts.query
        req.query = parse_qsl(parts.query, keep_blank_values=True)
        params = dict(req.query)
        cur = params.get("cursor")
        if cur:
            c = un_b64_cursor(cur)
            if c is not None and isinstance(c.get("q"), list):
                for kv in c["q"]:
                    if isinstance(kv, list) and len(kv) == 2 and kv[0] not in params:
                        params[str(kv[0])] = str(kv[1])
        req.params = params
        hdrs = self.headers.map
        req.headers = hdrs
        req.body = body
        req.host = hdrs.get("host") or "%s:%d" % self.server.server_address[:2]
        req.client = self.client_address[0]
        req.faults = {}
        req.gated = False
        req.do_drop = None
        req.do_malformed = None
        try:
            resp = app.handle(req)
        except Exception:
            traceback.print_exc()
            resp = json_resp({"error": "internal error"}, 500)
        self._send(app, req, resp)
        if resp.after is not None:
            resp.after()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = \
        do_OPTIONS = _dispatch

    def _send(self, app, req, resp):
        status = resp.status
        if resp.hang is not None:
            if app.verbose:
                self.log_message('"%s" hangs', self.requestline)
            self._hang(resp.hang)
            return
        if req is None or not req.control:
            app.count_response(status)
        if app.verbose:
            self.log_message('"%s" %d', self.requestline, status)
        head = self.command == "HEAD"
        faults = req.faults if req is not None else {}
        body = resp.body
        headers = resp.headers
        ctype = faults.get("content_type", resp.ctype)
        malformed = req.do_malformed if req is not None else None
        drop = req.do_drop if req is not None else None
        if resp.stream is None and malformed is not None and body:
            body = _insert_garbage(body, malformed)
        enc = resp.encode
        if enc and resp.stream is None and body and status not in (204, 304):
            if accepts(self.headers.get("Accept-Encoding", ""), enc):
                key = (resp.cache_key, enc) if (
                    resp.cache_key is not None and malformed is None) else None
                hit = app.cache.get(key) if key else None
                if hit is not None:
                    body = hit[0]
                else:
                    body = _compress(body, enc)
                    if key:
                        app.cache.put(key, body, len(body) + 100)
                headers = headers + [("Content-Encoding", enc)]
            headers = headers + [("Vary", "Accept-Encoding")]
        out = [b"HTTP/1.1 %d %s\r\nServer: %s\r\nDate: %s\r\n" % (
            status, _reason(status).encode("latin-1"),
            self.server_version.encode("latin-1"), http_date())]
        no_body = status in (204, 304) or 100 <= status < 200
        if not no_body:
            out.append(b"Content-Type: %s\r\n" % _header_value(ctype))
            if resp.stream is not None:
                out.append(b"Transfer-Encoding: chunked\r\n")
            else:
                out.append(b"Content-Length: %d\r\n" % len(body))
        for k, v in headers:
            out.append(b"%s: %s\r\n" % (k.encode("latin-1"), _header_value(v)))
        if self.close_connection:
            out.append(b"Connection: close\r\n")
        elif self.request_version == "HTTP/1.0":
            out.append(b"Connection: keep-alive\r\n")
        out.append(b"\r\n")
        hdr = b"".join(out)
        sock = self.connection
        if head or no_body:
            _sendv(sock, [hdr])
            return
        delay_body = faults.get("delay_body")
        if resp.stream is not None:
            self._send_stream(sock, hdr, resp.stream, delay_body, drop, malformed)
            return
        if delay_body:
            _sendv(sock, [hdr])
            time.sleep(delay_body)
            hdr = b""
        if drop is not None:
            _sendv(sock, [hdr, body[:drop]])
            self._abort()
            return
        _sendv(sock, [hdr, body])

    def _abort(self):
        """End the connection now, mid-body."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send_stream(self, sock, hdr, stream, delay_body, drop, malformed):
        _sendv(sock, [hdr])
        if delay_body:
            time.sleep(delay_body)
        sent = 0
        for chunk in stream:
            if not chunk:
                continue
            if malformed is not None and malformed < sent + len(chunk):
                chunk = _insert_garbage(chunk, malformed - sent)
                malformed = None
            if drop is not None and sent + len(chunk) >= drop:
                part = chunk[:drop - sent]
                if part:
                    _sendv(sock, [b"%x\r\n" % len(part), part, b"\r\n"])
                self._abort()
                return
            _sendv(sock, [b"%x\r\n" % len(chunk), chunk, b"\r\n"])
            sent += len(chunk)
        if malformed is not None:         # offset past the end: append
            _sendv(sock, [b"%x\r\n" % len(MALFORMED_GARBAGE),
                          MALFORMED_GARBAGE, b"\r\n"])
        _sendv(sock, [b"0\r\n\r\n"])
        if drop is not None:
            self._abort()

    def _hang(self, limit):
        """Never answer: wait until the client goes away or limit passes."""
        self.close_connection = True
        sock = self.connection
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                r, _, _ = select.select([sock], [], [], 0.1)
                if r and not sock.recv(1, socket.MSG_PEEK):
                    return
                if r:
                    time.sleep(0.1)
            except (OSError, ValueError):
                return


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 1024

    def server_bind(self):
        # Skip HTTPServer's reverse lookup of the address.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, socket.timeout, TimeoutError)):
            return
        super().handle_error(request, client_address)


def _is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _write_atomic(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="pg_elt mock HTTP API (see README.md next to this file)")
    ap.add_argument("--host", default="127.0.0.1",
                    help="loopback address to listen on (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=0,
                    help="port to listen on; 0 picks a free one (default 0)")
    ap.add_argument("--port-file", help="write the bound port here once listening")
    ap.add_argument("--pid-file", help="write the process id here")
    ap.add_argument("--orders", type=int, default=200,
                    help="initial number of orders (default 200)")
    ap.add_argument("--cache-mb", type=int, default=256,
                    help="size of the response body cache in MB (default 256)")
    ap.add_argument("--verbose", action="store_true",
                    help="log every request to stderr")
    args = ap.parse_args(argv)

    if not _is_loopback(args.host):
        ap.error("--host must be a loopback address")
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    Server.address_family = family
    app = App(orders=args.orders, cache_mb=args.cache_mb, verbose=args.verbose)
    server = Server((args.host, args.port), Handler)
    server.app = app
    app.server = server
    port = server.server_address[1]

    def on_term(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    if args.pid_file:
        _write_atomic(args.pid_file, "%d\n" % os.getpid())
    if args.port_file:
        _write_atomic(args.port_file, "%d\n" % port)
    sys.stdout.write("pg_elt mock API listening on http://%s:%d\n" % (
        "[%s]" % args.host if family == socket.AF_INET6 else args.host, port))
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.5)
    except SystemExit:
        pass
    finally:
        server.server_close()
        for p in (args.port_file, args.pid_file):
            if p:
                try:
                    os.unlink(p)
                except OSError:
                    pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
