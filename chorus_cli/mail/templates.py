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
    # MFA-5, SET-3: a factor added or removed. No secret in them: name and type only.
    "totp_added": Template(
        subject={
            "fr": "Chorus Pro : une application d'authentification a été ajoutée",
            "en": "Chorus Pro: an authenticator app was added",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\nL'application d'authentification"
            " « {name} » a été ajoutée à votre compte Chorus Pro ({login_email}) : elle vous"
            " sera demandée à chaque connexion. Si vous n'êtes pas à l'origine de cet ajout,"
            " changez votre mot de passe et contactez le support.",
            "en": "Hello {first_name} {last_name},\n\nThe authenticator app “{name}” was"
            " added to your Chorus Pro account ({login_email}): it will be asked at every"
            " login. If this was not you, change your password and contact support.",
        },
    ),
    "totp_removed": Template(
        subject={
            "fr": "Chorus Pro : une application d'authentification a été retirée",
            "en": "Chorus Pro: an authenticator app was removed",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\nL'application d'authentification"
            " « {name} » a été retirée de votre compte Chorus Pro ({login_email}). Si vous"
            " n'êtes pas à l'origine de ce retrait, changez votre mot de passe et contactez"
            " le support.",
            "en": "Hello {first_name} {last_name},\n\nThe authenticator app “{name}” was"
            " removed from your Chorus Pro account ({login_email}). If this was not you,"
            " change your password and contact support.",
        },
    ),
    "key_added": Template(
        subject={
            "fr": "Chorus Pro : une clé de sécurité a été ajoutée",
            "en": "Chorus Pro: a security key was added",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\nLa clé de sécurité « {name} » a été"
            " ajoutée à votre compte Chorus Pro ({login_email}). Si vous n'êtes pas à"
            " l'origine de cet ajout, changez votre mot de passe et contactez le support.",
            "en": "Hello {first_name} {last_name},\n\nThe security key “{name}” was added"
            " to your Chorus Pro account ({login_email}). If this was not you, change your"
            " password and contact support.",
        },
    ),
    "key_removed": Template(
        subject={
            "fr": "Chorus Pro : une clé de sécurité a été retirée",
            "en": "Chorus Pro: a security key was removed",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\nLa clé de sécurité « {name} » a été"
            " retirée de votre compte Chorus Pro ({login_email}). Si vous n'êtes pas à"
            " l'origine de ce retrait, changez votre mot de passe et contactez le support.",
            "en": "Hello {first_name} {last_name},\n\nThe security key “{name}” was removed"
            " from your Chorus Pro account ({login_email}). If this was not you, change your"
            " password and contact support.",
        },
    ),
    # structures (STR-6, STR-8)
    "structure_pending": Template(
        subject={
            "fr": "Chorus Pro : votre structure attend l'approbation du support",
            "en": "Chorus Pro: your structure awaits support's approval",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\nVous avez demandé la création de la "
            "structure publique {raison_sociale} ({identifier}). Comme elle n'est pas gérée "
            "dans Hélios, le support de Chorus Pro doit l'approuver ; vous recevrez un "
            "e-mail dès sa décision.",
            "en": "Hello {first_name} {last_name},\n\nYou asked to create the public "
            "structure {raison_sociale} ({identifier}). As it is not managed in Hélios, "
            "Chorus Pro support must approve it; you will receive an e-mail once it decides.",
        },
    ),
    "structure_approved": Template(
        subject={
            "fr": "Chorus Pro : votre structure est approuvée",
            "en": "Chorus Pro: your structure is approved",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\nLe support a approuvé la structure "
            "{raison_sociale} ({identifier}). Vous en êtes le gestionnaire principal et "
            "pouvez agir pour son compte.",
            "en": "Hello {first_name} {last_name},\n\nSupport approved the structure "
            "{raison_sociale} ({identifier}). You are its primary manager and can act on "
            "its behalf.",
        },
    ),
    "structure_refused": Template(
        subject={
            "fr": "Chorus Pro : votre structure a été refusée",
            "en": "Chorus Pro: your structure was refused",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\nLe support a refusé la création de la "
            "structure {raison_sociale} ({identifier}) pour le motif suivant :\n\n"
            "{reason}\n\nVous n'y êtes plus rattaché.",
            "en": "Hello {first_name} {last_name},\n\nSupport refused to create the "
            "structure {raison_sociale} ({identifier}) for this reason:\n\n{reason}\n\n"
            "You are no longer attached to it.",
        },
    ),
    "primary_transferred_to": Template(
        subject={
            "fr": "Chorus Pro : vous êtes gestionnaire principal d'une structure",
            "en": "Chorus Pro: you are the primary manager of a structure",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\nVous êtes désormais le gestionnaire "
            "principal de la structure {raison_sociale} ({identifier}), avec le profil "
            "« Organisation modification » (rôle transmis par {by}).",
            "en": "Hello {first_name} {last_name},\n\nYou are now the primary manager of "
            "the structure {raison_sociale} ({identifier}), with the “Organisation "
            "modification” profile (role handed over by {by}).",
        },
    ),
    "primary_transferred_from": Template(
        subject={
            "fr": "Chorus Pro : vous n'êtes plus gestionnaire principal d'une structure",
            "en": "Chorus Pro: you are no longer the primary manager of a structure",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\nLe rôle de gestionnaire principal de "
            "la structure {raison_sociale} ({identifier}) a été transmis à {new} par {by}. "
            "Vos habilitations sur la structure sont conservées.",
            "en": "Hello {first_name} {last_name},\n\nThe primary manager role of the "
            "structure {raison_sociale} ({identifier}) was handed over to {new} by {by}. "
            "Your habilitations on the structure are kept.",
        },
    ),
    # attachments and habilitations (ATT-1, ATT-2, HAB-5, SET-3)
    "attachment_requested": Template(
        subject={
            "fr": "Chorus Pro : une demande de rattachement attend votre décision",
            "en": "Chorus Pro: an attachment request awaits your decision",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\n{requester} demande à être rattaché à "
            "la structure {raison_sociale} ({identifier}){services}, avec ce commentaire :\n\n"
            "{comment}\n\nUn gestionnaire de la structure l'approuve ou la refuse : "
            "« chorus attach approve {request} » ou « chorus attach reject {request} "
            "--reason ... ».",
            "en": "Hello {first_name} {last_name},\n\n{requester} asks to be attached to the "
            "structure {raison_sociale} ({identifier}){services}, with this comment:\n\n"
            "{comment}\n\nA manager of the structure approves or refuses it: "
            "`chorus attach approve {request}` or `chorus attach reject {request} "
            "--reason ...`.",
        },
    ),
    "attachment_approved": Template(
        subject={
            "fr": "Chorus Pro : votre demande de rattachement est approuvée",
            "en": "Chorus Pro: your attachment request is approved",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\n{by} a approuvé votre demande de "
            "rattachement à la structure {raison_sociale} ({identifier}){services}. Vous "
            "pouvez agir pour son compte avec les profils par défaut : modification sur "
            "chaque application, « Organisation » en consultation (« chorus habil list »).",
            "en": "Hello {first_name} {last_name},\n\n{by} approved your request to be "
            "attached to the structure {raison_sociale} ({identifier}){services}. You can act "
            "on its behalf with the default profiles: modification on every application, "
            "“Organisation” in consultation (`chorus habil list`).",
        },
    ),
    "attachment_refused": Template(
        subject={
            "fr": "Chorus Pro : votre demande de rattachement est refusée",
            "en": "Chorus Pro: your attachment request was refused",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\n{by} a refusé votre demande de "
            "rattachement à la structure {raison_sociale} ({identifier}){services} pour le "
            "motif suivant :\n\n{reason}",
            "en": "Hello {first_name} {last_name},\n\n{by} refused your request to be "
            "attached to the structure {raison_sociale} ({identifier}){services} for this "
            "reason:\n\n{reason}",
        },
    ),
    "attachment_lapsed": Template(
        subject={
            "fr": "Chorus Pro : votre demande de rattachement est caduque",
            "en": "Chorus Pro: your attachment request has lapsed",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\nLe service {service} de la structure "
            "{raison_sociale} ({identifier}) a été désactivé : votre demande de rattachement "
            "qui le nommait est caduque. Vous pouvez en faire une nouvelle "
            "(« chorus attach request »).",
            "en": "Hello {first_name} {last_name},\n\nThe service {service} of the structure "
            "{raison_sociale} ({identifier}) was deactivated: your attachment request naming "
            "it has lapsed. You may make a new one (`chorus attach request`).",
        },
    ),
    "habilitation_granted": Template(
        subject={
            "fr": "Chorus Pro : vos habilitations ont changé",
            "en": "Chorus Pro: your habilitations changed",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\n{by} vous a attribué le profil "
            "« {profile} » sur la structure {raison_sociale} ({identifier}){services}.",
            "en": "Hello {first_name} {last_name},\n\n{by} gave you the “{profile}” profile "
            "on the structure {raison_sociale} ({identifier}){services}.",
        },
    ),
    "habilitation_revoked": Template(
        subject={
            "fr": "Chorus Pro : un profil vous a été retiré",
            "en": "Chorus Pro: a profile was removed from you",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\n{by} a retiré le profil « {profile} » "
            "qui vous était attribué sur la structure {raison_sociale} ({identifier})"
            "{services}.",
            "en": "Hello {first_name} {last_name},\n\n{by} removed the “{profile}” profile "
            "you held on the structure {raison_sociale} ({identifier}){services}.",
        },
    ),
    "role_revoked": Template(
        subject={
            "fr": "Chorus Pro : un rôle vous a été retiré",
            "en": "Chorus Pro: a role was taken back from you",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\nLe rôle « {role} » vous a été retiré "
            "sur Chorus Pro{scope}.",
            "en": "Hello {first_name} {last_name},\n\nThe role “{role}” was taken back from "
            "you on Chorus Pro{scope}.",
        },
    ),
    # PUB-1: a correspondent (or an admin) deleted the account.
    "account_deleted": Template(
        subject={
            "fr": "Chorus Pro : votre compte a été supprimé",
            "en": "Chorus Pro: your account was deleted",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\nVotre compte Chorus Pro "
            "({login_email}) a été supprimé par {by}. Pour toute question, adressez-vous à "
            "votre comptable public ou au correspondant dématérialisation de votre DDFiP.",
            "en": "Hello {first_name} {last_name},\n\nYour Chorus Pro account "
            "({login_email}) was deleted by {by}. For any question, ask your public "
            "accountant or the dematerialisation correspondent of your DDFiP.",
        },
    ),
    # LA-1: the confirmation link, to the new address; the notice, to the old one.
    "login_address_link": Template(
        subject={
            "fr": "Chorus Pro : confirmez votre nouvelle adresse de connexion",
            "en": "Chorus Pro: confirm your new login address",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\n"
            "Le changement de l'adresse de connexion du compte Chorus Pro {login_email} "
            "vers {new_email} a été demandé. Pour le valider, ouvrez ce lien dans les "
            "24 heures :\n\n{link}\n\nSans action de votre part, la demande sera annulée.",
            "en": "Hello {first_name} {last_name},\n\n"
            "A change of the login address of the Chorus Pro account {login_email} to "
            "{new_email} was requested. To confirm it, open this link within 24 hours:"
            "\n\n{link}\n\nWithout action on your part, the request lapses.",
        },
        secrets=("link",),
    ),
    "login_address_changed": Template(
        subject={
            "fr": "Chorus Pro : votre adresse de connexion a été modifiée",
            "en": "Chorus Pro: your login address was changed",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\nL'adresse de connexion de votre "
            "compte Chorus Pro est passée de {old} à {new}. Si vous n'êtes pas à l'origine "
            "de ce changement, contactez le support Chorus Pro.",
            "en": "Hello {first_name} {last_name},\n\nThe login address of your Chorus "
            "Pro account changed from {old} to {new}. If this was not you, contact Chorus "
            "Pro support.",
        },
    ),
    # SET-4: deactivation and reactivation of one's own account.
    "deactivated": Template(
        subject={
            "fr": "Chorus Pro : votre compte est désactivé",
            "en": "Chorus Pro: your account is deactivated",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\nVotre compte Chorus Pro "
            "({login_email}) est désactivé ; vos sessions ont été fermées. Vous pouvez le "
            "réactiver avec votre mot de passe et votre second facteur.",
            "en": "Hello {first_name} {last_name},\n\nYour Chorus Pro account "
            "({login_email}) is deactivated; your sessions were closed. You can reactivate "
            "it with your password and your second factor.",
        },
    ),
    "reactivated": Template(
        subject={
            "fr": "Chorus Pro : votre compte est réactivé",
            "en": "Chorus Pro: your account is reactivated",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\nVotre compte Chorus Pro "
            "({login_email}) est réactivé. Si vous n'êtes pas à l'origine de cette "
            "réactivation, changez votre mot de passe et contactez le support.",
            "en": "Hello {first_name} {last_name},\n\nYour Chorus Pro account "
            "({login_email}) is reactivated. If this was not you, change your password "
            "and contact support.",
        },
    ),
    # SET-2: the weekly summary of the movements on a subscriber's structures.
    "weekly_summary": Template(
        subject={
            "fr": "Chorus Pro : récapitulatif hebdomadaire de vos structures",
            "en": "Chorus Pro: weekly summary of your structures",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\nVoici les mouvements du {since} au "
            "{until} sur les structures de votre compte {login_email} :\n\n{movements}\n\n"
            "Vous recevez ce récapitulatif parce que vous l'avez demandé ; pour ne plus le "
            "recevoir : « chorus account notifications --no-weekly ».",
            "en": "Hello {first_name} {last_name},\n\nHere are the movements from {since} "
            "to {until} on the structures of your account {login_email}:\n\n{movements}"
            "\n\nYou receive this summary because you asked for it; to stop it: "
            "`chorus account notifications --no-weekly`.",
        },
    ),
    # OPS-1: an attachment loaded by a flow (`chorus bulk import --kind attachments`).
    "attached_by_flow": Template(
        subject={
            "fr": "Chorus Pro : vous êtes rattaché à une structure",
            "en": "Chorus Pro: you are attached to a structure",
        },
        body={
            "fr": "Bonjour {first_name} {last_name},\n\n{by} vous a rattaché à la structure "
            "{raison_sociale} ({identifier}){services}, avec les habilitations par défaut.",
            "en": "Hello {first_name} {last_name},\n\n{by} attached you to the structure "
            "{raison_sociale} ({identifier}){services}, with the default habilitations.",
        },
    ),
}


def render(kind: str, lang: str, **params: str) -> tuple[str, str, str]:
    """Return (subject, body, body with the secrets blanked)."""
    template = TEMPLATES[kind]
    lang = lang if lang in template.body else "fr"
    body = template.body[lang] + _SIGN[lang]
    text = body.format(**params)
    secrets = [str(params[name]) for name in template.secrets]
    if all(len(secret) >= 20 for secret in secrets):
        # A link or token is long and random: it stands nowhere else in the text, so it
        # is blanked where it stands (a flow renders 100,000 of these).
        blanked = text
        for secret in secrets:
            blanked = blanked.replace(secret, REDACTED[lang])
        return template.subject[lang], text, blanked
    hidden = {**params, **{name: REDACTED[lang] for name in template.secrets}}
    return template.subject[lang], text, body.format(**hidden)


def services_phrase(lang: str, codes: list[str]) -> str:
    """`` (service ACHATS)``, `` (services : ACHATS, RH)`` in a notice; empty for none."""
    if not codes:
        return ""
    colon = " :" if lang == "fr" else ":"
    if len(codes) == 1:
        return f" (service {codes[0]})"
    return f" (services{colon} {', '.join(codes)})"


# SET-2: one line per movement of the weekly summary, by audit action.
MOVEMENT_PHRASES: dict[str, dict[str, str]] = {
    "attachment.approve": {
        "fr": "rattachement de {target} approuvé par {actor}",
        "en": "attachment of {target} approved by {actor}",
    },
    "attachment.reject": {
        "fr": "demande de rattachement de {target} refusée par {actor}",
        "en": "attachment request of {target} refused by {actor}",
    },
    "attachment.provision": {
        "fr": "{target} rattaché par {actor}",
        "en": "{target} attached by {actor}",
    },
    "attachment.detach": {
        "fr": "{actor} s'est détaché{services}",
        "en": "{actor} detached{services}",
    },
    "habilitation.grant": {
        "fr": "habilitation « {profile} » donnée à {target}{service} par {actor}",
        "en": "habilitation “{profile}” granted to {target}{service} by {actor}",
    },
    "habilitation.revoke": {
        "fr": "habilitation « {profile} » retirée à {target}{service} par {actor}",
        "en": "habilitation “{profile}” revoked from {target}{service} by {actor}",
    },
    "service.add": {
        "fr": "service {code} ajouté par {actor}",
        "en": "service {code} added by {actor}",
    },
    "service.update": {
        "fr": "service {code} modifié par {actor}",
        "en": "service {code} updated by {actor}",
    },
    "service.deactivate": {
        "fr": "service {code} désactivé par {actor}",
        "en": "service {code} deactivated by {actor}",
    },
    "structure.transfer_primary": {
        "fr": "gestionnaire principal transféré à {new} par {actor}",
        "en": "primary manager role transferred to {new} by {actor}",
    },
}


def weekly_movements(lang: str, structures: dict[str, dict]) -> str:
    """The body of a weekly summary: each structure, then its movements, oldest first."""
    from chorus_cli.domain import catalogue

    lang = "en" if lang == "en" else "fr"
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
                "service": f" ({'service' if lang == 'fr' else 'service'} {service})"
                if service
                else "",
                "services": services_phrase(lang, services)
                if services
                else (" de la structure" if lang == "fr" else " from the structure"),
            }
            phrase = MOVEMENT_PHRASES[movement["action"]][lang].format(**params)
            at = movement["at"].strftime("%Y-%m-%d %H:%M")
            lines.append(f"  - {at} UTC : {phrase}" if lang == "fr" else f"  - {at} UTC: {phrase}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
