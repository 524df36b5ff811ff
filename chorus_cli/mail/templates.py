"""Mail templates in French (default) and English.

A template names the parameters that are secrets (links, codes): the outbox stores a
second body with those blanked, which replaces the real one once SMTP delivered it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Template:
    subject: dict[str, str]
    body: dict[str, str]
    secrets: tuple[str, ...] = ()


REDACTED = {"fr": "[masqué après envoi]", "en": "[removed after delivery]"}

_SIGN = {
    "fr": "\n\nCet e-mail est envoyé automatiquement, merci de ne pas y répondre.\nChorus Pro",
    "en": "\n\nThis e-mail is sent automatically, please do not reply.\nChorus Pro",
}

TEMPLATES: dict[str, Template] = {
    "activation": Template(
        subject={
            "fr": "Chorus Pro : activez votre compte",
            "en": "Chorus Pro: activate your account",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\n"
            "Votre compte Chorus Pro ({login_email}) a été créé. Pour l'activer et choisir "
            "votre mot de passe, ouvrez ce lien dans les 60 minutes :\n\n{link}\n\n"
            "Passé ce délai, utilisez la procédure « Mot de passe oublié ».",
            "en": "Hello {first_name} {last_name},\n\n"
            "Your Chorus Pro account ({login_email}) has been created. To activate it and "
            "choose your password, open this link within 60 minutes:\n\n{link}\n\n"
            "After that, use the forgotten-password procedure.",
        },
        secrets=("link",),
    ),
    "reset": Template(
        subject={
            "fr": "Chorus Pro : réinitialisation de votre mot de passe",
            "en": "Chorus Pro: reset your password",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\n"
            "Une réinitialisation du mot de passe de votre compte Chorus Pro a été "
            "demandée. Ouvrez ce lien dans les 60 minutes pour choisir un nouveau mot de "
            "passe :\n\n{link}\n\nSi vous n'êtes pas à l'origine de cette demande, ignorez "
            "cet e-mail.",
            "en": "Hello {first_name} {last_name},\n\n"
            "A password reset was requested for your Chorus Pro account. Open this link "
            "within 60 minutes to choose a new password:\n\n{link}\n\n"
            "If you did not ask for it, ignore this e-mail.",
        },
        secrets=("link",),
    ),
    "login_code": Template(
        subject={
            "fr": "Chorus Pro : votre code d'authentification",
            "en": "Chorus Pro: your authentication code",
        },
        body={
            "fr": "Bonjour,\n\nVotre code d'authentification Chorus Pro est : {code}\n\n"
            "Il est valable 10 minutes et ne peut servir qu'une fois.",
            "en": "Hello,\n\nYour Chorus Pro authentication code is: {code}\n\n"
            "It is valid for 10 minutes and can be used once.",
        },
        secrets=("code",),
    ),
    "activated": Template(
        subject={
            "fr": "Chorus Pro : votre compte est activé",
            "en": "Chorus Pro: your account is active",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\nVotre compte Chorus Pro "
            "({login_email}) est activé. Vous pouvez vous connecter.",
            "en": "Hello {first_name} {last_name},\n\nYour Chorus Pro account "
            "({login_email}) is active. You can now log in.",
        },
    ),
    "password_changed": Template(
        subject={
            "fr": "Chorus Pro : votre mot de passe a été modifié",
            "en": "Chorus Pro: your password was changed",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\nLe mot de passe de votre compte "
            "Chorus Pro ({login_email}) a été modifié. Si vous n'êtes pas à l'origine de "
            "ce changement, utilisez la procédure « Mot de passe oublié » et contactez le "
            "support.",
            "en": "Hello {first_name} {last_name},\n\nThe password of your Chorus Pro "
            "account ({login_email}) was changed. If this was not you, use the "
            "forgotten-password procedure and contact support.",
        },
    ),
    "role_granted": Template(
        subject={
            "fr": "Chorus Pro : un rôle vous a été attribué",
            "en": "Chorus Pro: a role was granted to you",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\nLe rôle « {role} » vous a été "
            "attribué sur Chorus Pro{scope}.",
            "en": "Hello {first_name} {last_name},\n\nThe role “{role}” was granted to "
            "you on Chorus Pro{scope}.",
        },
    ),
}


def render(kind: str, lang: str, **params: str) -> tuple[str, str, str]:
    """Return (subject, body, body with the secrets blanked)."""
    template = TEMPLATES[kind]
    lang = lang if lang in template.body else "fr"
    body = template.body[lang] + _SIGN[lang]
    blanked = {**params, **{name: REDACTED[lang] for name in template.secrets}}
    return template.subject[lang], body.format(**params), body.format(**blanked)
