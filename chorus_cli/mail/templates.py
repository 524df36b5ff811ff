"""Mail templates in French (default) and English, from the ``messages`` catalogue.

A mail ``KIND`` has two entries there, ``mail.KIND.subject`` and ``mail.KIND.body``
(README, "Messages and languages"). A template names the parameters that are secrets
(links, codes): the outbox stores a second body with those blanked, which replaces the
real one once SMTP delivered it.
"""

from __future__ import annotations

from functools import cache

from chorus_cli.i18n import known, sentence

# The kinds of mail whose parameters hold a secret (a link, a code); every other kind,
# ``mail.KIND.*`` in the catalogue, has none.
SECRETS: dict[str, tuple[str, ...]] = {
    "activation": ("link",),
    "reset": ("link",),
    "login_code": ("code",),
    "login_address_link": ("link",),
}


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "fr"


@cache
def _texts(kind: str, lang: str) -> tuple[str, str, str]:
    """(subject, body with the signature, the blank for secrets): a flow renders 100,000
    mails of a few kinds, looked up once each."""
    if not known(f"mail.{kind}.body", "fr"):  # the catalogue is the list of kinds
        raise KeyError(f"no mail template {kind!r}")
    body = sentence(f"mail.{kind}.body", lang) + sentence("mail.signature", lang)
    return sentence(f"mail.{kind}.subject", lang), body, sentence("mail.redacted", lang)


def render(kind: str, lang: str, **params: str | list[str]) -> tuple[str, str, str]:
    """Return (subject, body, body with the secrets blanked). ``services`` is the list
    of the service codes a notice is about: the template gets the phrase that names
    them in ``lang`` (``services_phrase``); the domain passes data, never words."""
    secret_names = SECRETS.get(kind, ())
    subject, body, redacted = _texts(kind, _lang(lang))
    codes = params.get("services")
    if isinstance(codes, list):
        params = {**params, "services": services_phrase(lang, codes)}
    text = body.format(**params)
    secrets = [str(params[name]) for name in secret_names]
    if all(len(secret) >= 20 for secret in secrets):
        # A link or token is long and random: it stands nowhere else in the text, so it
        # is blanked where it stands (a flow renders 100,000 of these).
        blanked = text
        for secret in secrets:
            blanked = blanked.replace(secret, redacted)
        return subject, text, blanked
    hidden = {**params, **{name: redacted for name in secret_names}}
    return subject, text, body.format(**hidden)


def services_phrase(lang: str, codes: list[str]) -> str:
    """`` (service ACHATS)``, `` (services : ACHATS, RH)`` in a notice; empty for none."""
    if not codes:
        return ""
    lang = _lang(lang)
    if len(codes) == 1:
        return sentence("mail.service_one", lang).format(code=codes[0])
    return sentence("mail.services_many", lang).format(codes=", ".join(codes))


# SET-2: one line per movement of the weekly summary, by audit action
# (``weekly.ACTION`` in the catalogue).
MOVEMENTS = (
    "attachment.approve", "attachment.reject", "attachment.provision", "attachment.detach",
    "habilitation.grant", "habilitation.revoke", "service.add", "service.update",
    "service.deactivate", "structure.transfer_primary", "structure.remove_member",
)  # fmt: skip


def weekly_movements(lang: str, structures: dict[str, dict]) -> str:
    """The body of a weekly summary: each structure, then its movements, oldest first."""
    from chorus_cli.domain import catalogue

    lang = _lang(lang)
    blocks = []
    for identifier, structure in structures.items():
        lines = [f"{structure['raison_sociale']} ({identifier})"]
        for movement in structure["movements"]:
            details = movement["details"]
            service = details.get("service")
            services = details.get("services") or []
            params = {
                "actor": movement["actor"],
                "target": movement["target"],
                "code": details.get("code", ""),
                "new": details.get("new", ""),
                "profile": catalogue.profile_label(
                    details.get("application", ""), details.get("level", "")
                ),
                "service": services_phrase(lang, [service]) if service else "",
                "services": services_phrase(lang, services)
                if services
                else sentence("weekly.from_structure", lang),
            }
            phrase = sentence(f"weekly.{movement['action']}", lang).format(**params)
            at = movement["at"].strftime("%Y-%m-%d %H:%M")
            lines.append(sentence("weekly.line", lang).format(at=at, phrase=phrase))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
