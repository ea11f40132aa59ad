"""Estate details, rebuilt on demand from the estate's own seed and its current summary."""

from __future__ import annotations

import random

from vitec_simulator import vocabulary as words
from vitec_simulator.clock import render
from vitec_simulator.generator import DAY, ENERGY_LETTERS, JsonDict, new_guid


def detail_seed(seed: int, installation: str, estate_id: str) -> str:
    """The RNG seed of one estate's detail."""
    return f"{seed}:{installation}:{estate_id}"


def heading(rng: random.Random, base_type: int) -> str:
    """A listing heading such as `Solrik enebolig med hage`."""
    noun = rng.choice(words.PROPERTY_WORDS.get(base_type, words.PROPERTY_WORDS[0]))
    return f"{rng.choice(words.ADJECTIVES)} {noun} {rng.choice(words.FEATURES)}"


def description(rng: random.Random, title: str) -> str:
    """An HTML description with entities, a list and a line break."""
    sentences = rng.sample(words.SENTENCES, 4)
    items = "".join(f"<li>{sentence.replace('&', '&amp;')}</li>" for sentence in sentences[2:])
    lead = sentences[0].replace("&", "&amp;")
    return f"<p><strong>{title}</strong></p><p>{lead}<br>{sentences[1].replace('&', '&amp;')}&nbsp;</p><ul>{items}</ul>"


def price(rng: random.Random, assignment_group: int, ownership: int) -> JsonDict:
    """Asking price, shared debt (co-operatives and stock), common costs and the total."""
    if assignment_group == 2:
        rent = rng.randrange(8_000, 30_000, 500)
        return {"askingPrice": rent, "totalPrice": rent, "sharedDebt": None, "commonCosts": None}
    asking = rng.randrange(1_500_000, 15_000_000, 10_000)
    shared_debt = rng.randrange(0, 2_500_000, 1_000) if ownership in (1, 2) else None
    costs = rng.choice((None, rng.randrange(1_500, 9_000, 50)))
    total = asking + (shared_debt or 0) + round(asking * 0.025)
    return {"askingPrice": asking, "totalPrice": total, "sharedDebt": shared_debt, "commonCosts": costs}


def area(rng: random.Random, base_type: int, ownership: int) -> JsonDict:
    """Primary room, usable area (sometimes fractional) and plot size (none for flats)."""
    plot = rng.randrange(300, 3_000) if base_type in (2, 5) or ownership == 0 else None
    if base_type == 5:
        return {"primaryRoom": None, "usableArea": None, "plotSize": plot}
    primary = rng.randint(25, 260)
    usable: float = primary + rng.randint(0, 30) + rng.choice((0, 0, 0.5))
    return {"primaryRoom": primary, "usableArea": usable, "plotSize": plot}


def images(rng: random.Random, changed: int) -> list[JsonDict]:
    """Zero to six image records, in sequence order."""
    categories = rng.sample(words.IMAGE_CATEGORIES, rng.randint(0, 6))
    return [
        {
            "imageId": new_guid(rng),
            "imageSequence": sequence,
            "imageDescription": rng.choice((None, "", f"{category} sett fra {rng.choice(('sør', 'nord', 'vest'))}")),
            "imageCategoryName": category,
            "changedDate": render(changed - rng.randrange(0, 60 * DAY), rng.random() < 0.5),
        }
        for sequence, category in enumerate(categories, start=1)
    ]


def documents(rng: random.Random, changed: int) -> list[JsonDict]:
    """Zero to three document records; most are PDFs."""
    chosen = rng.sample(words.DOCUMENT_TYPES, rng.randint(0, 3))
    return [
        {
            "documentId": new_guid(rng),
            "docType": doc_type,
            "head": head,
            "extension": rng.choice(("pdf", "pdf", "pdf", "txt")),
            "changedDate": render(changed - rng.randrange(0, 90 * DAY), rng.random() < 0.5),
        }
        for doc_type, head in chosen
    ]


def make_detail(rng: random.Random, summary: JsonDict, changed: int) -> JsonDict:
    """The full estate: the summary's fields, the nested address, and the listing content."""
    base_type, ownership = summary["estateBaseType"], summary["ownership"]
    title = heading(rng, base_type)
    plot_only = base_type == 5
    rooms = None if plot_only else rng.randint(1, 8)
    return {
        **summary,
        "address": {"streetAdress": summary["streetAdress"], "zipCode": summary["zipCode"], "city": summary["city"]},
        "heading": title,
        "description": description(rng, title),
        "price": price(rng, summary["assignmentTypeGroup"], ownership),
        "area": area(rng, base_type, ownership),
        "rooms": rooms,
        "bedrooms": None if rooms is None else max(0, rooms - rng.randint(1, 2)),
        "constructionYear": None if plot_only else rng.choice((None, rng.randint(1890, 2026))),
        "energyLetter": None if plot_only else rng.choice(ENERGY_LETTERS),
        "images": images(rng, changed),
        "documents": documents(rng, changed),
        "partnerTags": rng.sample(words.PARTNER_TAGS, rng.randint(0, 2)),
        "internalNote": rng.choice((None, "Nøkler hos megler.", "Ikke publiser før fotografering.")),
        "showings": [],
    }
