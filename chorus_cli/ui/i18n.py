"""Every sentence the CLI says, in French (default) and English.

Keys are stable; domain errors carry a key and parameters, never a sentence.
"""

from __future__ import annotations

from typing import Any

LANGS = ("fr", "en")
_current = {"lang": "fr"}


def set_lang(lang: str | None) -> None:
    if lang in LANGS:
        _current["lang"] = lang


def current() -> str:
    return _current["lang"]


FIELDS = {
    "login_email": ("adresse de connexion", "login address"),
    "contact_email": ("adresse de contact", "contact address"),
    "first_name": ("prénom", "first name"),
    "last_name": ("nom", "last name"),
    "phone": ("téléphone", "phone"),
    "workplace_address": ("adresse du lieu de travail", "workplace address"),
    "biography": ("biographie", "biography"),
}

PASSWORD_RULES = {
    "too_short": ("moins de 12 caractères", "fewer than 12 characters"),
    "too_long": ("plus de 128 caractères", "more than 128 characters"),
    "no_lower": ("aucune minuscule", "no lowercase letter"),
    "no_upper": ("aucune majuscule", "no uppercase letter"),
    "no_digit": ("aucun chiffre", "no digit"),
    "no_special": ("aucun caractère spécial", "no special character"),
    "personal": (
        "contient votre identifiant, votre prénom ou votre nom",
        "contains your login, first name or last name",
    ),
    "common": ("mot de passe trop courant", "too common a password"),
    "reused": ("identique à l'un de vos 5 derniers mots de passe", "one of your last 5 passwords"),
}

MESSAGES: dict[str, tuple[str, str]] = {
    # errors
    "acc1.email_invalid": (
        "Adresse e-mail invalide pour le champ {field} (ACC-1) : {value}.",
        "Invalid e-mail address for {field} (ACC-1): {value}.",
    ),
    "acc1.phone_invalid": (
        "Numéro de téléphone invalide (ACC-1) : {value} ; formats acceptés : 01 23 45 67 89 ou"
        " +33 1 23 45 67 89.",
        "Invalid phone number (ACC-1): {value}; accepted: 01 23 45 67 89 or +33 1 23 45 67 89.",
    ),
    "acc1.missing": (
        "Le champ {field} est obligatoire (ACC-1).",
        "The {field} field is mandatory (ACC-1).",
    ),
    "field.too_long": (
        "Le champ {field} dépasse {max} caractères.",
        "The {field} field is longer than {max} characters.",
    ),
    "acc2.exists": (
        "Un compte existe déjà pour {email} (ACC-2) : ne créez pas de second compte, utilisez"
        " « chorus account forgot-password {email} ».",
        "An account already exists for {email} (ACC-2): do not create a second one, use"
        " `chorus account forgot-password {email}`.",
    ),
    "acc5.weak_password": (
        "Mot de passe refusé (ACC-5) : {rules}.",
        "Password refused (ACC-5): {rules}.",
    ),
    "acc7.rate_limited": (
        "Trop de demandes pour cette adresse (ACC-7) : au plus {limit} e-mails par {minutes}"
        " minutes, réessayez plus tard.",
        "Too many requests for this address (ACC-7): at most {limit} e-mails per {minutes}"
        " minutes, try again later.",
    ),
    "acc.deactivated": (
        "Ce compte est désactivé (SET-4) : il doit d'abord être réactivé.",
        "This account is deactivated (SET-4): it must be reactivated first.",
    ),
    "link.malformed": (
        "Lien non reconnu : collez le lien reçu par e-mail ou le jeton qu'il contient.",
        "Link not recognised: paste the link from the e-mail or the token it contains.",
    ),
    "link.unknown": (
        "Ce lien n'est pas valide (ACC-3) : utilisez le dernier lien reçu, ou la procédure"
        " « chorus account forgot-password ».",
        "This link is not valid (ACC-3): use the latest link you received, or"
        " `chorus account forgot-password`.",
    ),
    "link.used": (
        "Ce lien a déjà été utilisé (ACC-3) : demandez-en un nouveau avec"
        " « chorus account forgot-password ».",
        "This link has already been used (ACC-3): ask for a new one with"
        " `chorus account forgot-password`.",
    ),
    "link.expired": (
        "Ce lien a expiré (ACC-4 : valable 60 minutes) : relancez la procédure"
        " « chorus account forgot-password » pour en recevoir un nouveau.",
        "This link has expired (ACC-4: valid 60 minutes): run"
        " `chorus account forgot-password` to receive a new one.",
    ),
    "account.not_found": ("Aucun compte {email}.", "No account {email}."),
    "account.not_editable": (
        "Le champ {field} ne se modifie pas ici (SET-1).",
        "The {field} field cannot be changed here (SET-1).",
    ),
    "account.nothing_to_update": (
        "Rien à modifier : indiquez au moins une option (--first-name, --phone, ...).",
        "Nothing to update: give at least one option (--first-name, --phone, ...).",
    ),
    "mfa1.current_wrong": (
        "Mot de passe actuel incorrect (MFA-1).",
        "The current password is wrong (MFA-1).",
    ),
    "password.mismatch": (
        "Les deux saisies du mot de passe diffèrent (ACC-4).",
        "The two passwords typed differ (ACC-4).",
    ),
    "role.required": (
        "Action réservée au rôle {roles} (HAB-6).",
        "This action needs the {roles} role (HAB-6).",
    ),
    "role.unknown": (
        "Rôle inconnu {role} (PUB-1) : choisissez parmi {roles}.",
        "Unknown role {role} (PUB-1): choose among {roles}.",
    ),
    "role.department_invalid": (
        "Département invalide {department} (PUB-1) : 01 à 95, 2A, 2B ou 971 à 976.",
        "Invalid department {department} (PUB-1): 01 to 95, 2A, 2B or 971 to 976.",
    ),
    "role.department_required": (
        "Un correspondant est rattaché à un département (PUB-1) : ajoutez --department.",
        "A correspondent is scoped to a department (PUB-1): add --department.",
    ),
    "role.department_only_correspondent": (
        "--department ne s'applique qu'au rôle correspondent (PUB-1).",
        "--department only applies to the correspondent role (PUB-1).",
    ),
    "admin.exists": (
        "Le magasin a déjà un administrateur : « admin bootstrap » ne sert qu'une fois ;"
        " utilisez « chorus admin grant-role ».",
        "The store already has an admin: `admin bootstrap` works once; use"
        " `chorus admin grant-role`.",
    ),
    "auth1.method_unknown": (
        "Méthode inconnue {method} (AUTH-1) : choisissez parmi {methods}.",
        "Unknown method {method} (AUTH-1): choose among {methods}.",
    ),
    "auth1.method_unavailable": (
        "Ce compte n'a pas de facteur « {method} » (AUTH-1) : utilisez --method email.",
        "This account has no “{method}” factor (AUTH-1): use --method email.",
    ),
    "auth1.no_challenge": (
        "Aucune connexion en attente de code (AUTH-1) : relancez « chorus login ».",
        "No login is waiting for a code (AUTH-1): run `chorus login` again.",
    ),
    "auth1.code_used": (
        "Ce code a déjà servi (AUTH-1) : relancez « chorus login ».",
        "This code has already been used (AUTH-1): run `chorus login` again.",
    ),
    "auth1.code_expired": (
        "Le code a expiré (AUTH-1 : valable 10 minutes) : relancez « chorus login ».",
        "The code has expired (AUTH-1: valid 10 minutes): run `chorus login` again.",
    ),
    "auth1.no_tries_left": (
        "Trop d'essais pour ce code (AUTH-1 : 5 au plus) : relancez « chorus login ».",
        "Too many tries for this code (AUTH-1: 5 at most): run `chorus login` again.",
    ),
    "auth1.code_wrong": (
        "Code incorrect (AUTH-1) : {left} essai(s) restant(s).",
        "Wrong code (AUTH-1): {left} try(ies) left.",
    ),
    "auth1.code_required": (
        "Le code n'a pas été saisi (AUTH-1).",
        "No code was entered (AUTH-1).",
    ),
    "auth2.refused": (
        "Connexion refusée (AUTH-2) : adresse ou mot de passe incorrect, ou compte non activé,"
        " verrouillé ou désactivé.",
        "Login refused (AUTH-2): wrong address or password, or the account is not activated,"
        " locked or deactivated.",
    ),
    "auth3.no_session": (
        "Vous n'êtes pas connecté (AUTH-3) : « chorus login EMAIL ».",
        "You are not logged in (AUTH-3): `chorus login EMAIL`.",
    ),
    "auth3.expired": (
        "Votre session a expiré (AUTH-3 : 30 minutes d'inactivité, 10 heures au plus) :"
        " « chorus login EMAIL ».",
        "Your session has expired (AUTH-3: 30 minutes idle, 10 hours at most):"
        " `chorus login EMAIL`.",
    ),
    "audit.since_invalid": (
        "Date invalide pour --since : {value} (format ISO 8601, ex. 2026-11-25T08:00).",
        "Invalid --since date: {value} (ISO 8601, e.g. 2026-11-25T08:00).",
    ),
    "mail.smtp_url_invalid": (
        "CHORUS_SMTP_URL invalide : {url} (attendu smtp://hôte:port ou smtps://...).",
        "Invalid CHORUS_SMTP_URL: {url} (expected smtp://host:port or smtps://...).",
    ),
    "input.missing_answer": (
        "Réponse manquante sur l'entrée standard pour : {prompt}.",
        "Missing answer on standard input for: {prompt}.",
    ),
    "store.unreachable": (
        "Magasin inaccessible ({url}) : {reason}.",
        "Cannot open the store ({url}): {reason}.",
    ),
    "store.bad_url": (
        "URL de magasin invalide (--db ou CHORUS_DATABASE_URL) : {reason}.",
        "Invalid store URL (--db or CHORUS_DATABASE_URL): {reason}.",
    ),
    "backup.sqlite_only": (
        "« db backup » ne sauvegarde qu'un magasin SQLite ; pour PostgreSQL, utilisez pg_dump.",
        "`db backup` only backs up a SQLite store; for PostgreSQL use pg_dump.",
    ),
    "internal.error": (
        "Erreur interne inattendue ({error}) : rien n'a été enregistré pour cette étape ;"
        " relancez avec CHORUS_DEBUG=1 pour le détail et signalez-la.",
        "Unexpected internal error ({error}): nothing was saved for this step; run again"
        " with CHORUS_DEBUG=1 for details and report it.",
    ),
    "backup.no_file": (
        "Ce magasin SQLite est en mémoire : il n'y a pas de fichier à sauvegarder.",
        "This SQLite store is in memory: there is no file to back up.",
    ),
    "backup.dir_missing": (
        "Le dossier {path} n'existe pas : créez-le ou choisissez un autre fichier.",
        "The folder {path} does not exist: create it or choose another file.",
    ),
    "backup.failed": (
        "Sauvegarde impossible dans {path} : {reason}.",
        "Cannot write the backup to {path}: {reason}.",
    ),
    "backup.exists": (
        "{path} existe déjà : choisissez un autre fichier.",
        "{path} already exists: choose another file.",
    ),
    # prompts
    "prompt.password": ("Mot de passe", "Password"),
    "prompt.new_password": ("Nouveau mot de passe", "New password"),
    "prompt.confirm_password": ("Confirmez le mot de passe", "Confirm the password"),
    "prompt.current_password": ("Mot de passe actuel", "Current password"),
    "prompt.code": ("Code reçu par e-mail", "Code received by e-mail"),
    # notices on stderr
    "keyring.fallback": (
        "Attention : aucun trousseau système n'est disponible ; la session est gardée dans"
        " {path} (lisible par vous seul). Ce message ne s'affiche qu'une fois.",
        "Warning: no system keyring is available; the session is kept in {path} (readable"
        " by you only). This message is shown once.",
    ),
    "done.account_created": (
        "Compte {email} créé, en attente d'activation : le lien (valable 60 minutes) a été"
        " envoyé à {email}.",
        "Account {email} created, pending activation: the link (valid 60 minutes) was sent"
        " to {email}.",
    ),
    "done.activated": (
        "Compte {email} activé : connectez-vous avec « chorus login {email} ».",
        "Account {email} activated: log in with `chorus login {email}`.",
    ),
    "done.forgot": (
        "Si un compte existe pour {email}, un lien de réinitialisation valable 60 minutes"
        " vient d'y être envoyé.",
        "If an account exists for {email}, a reset link valid 60 minutes has been sent to it.",
    ),
    "done.reset": (
        "Mot de passe de {email} réinitialisé ; vos facteurs d'authentification sont conservés.",
        "Password of {email} reset; your authentication factors are kept.",
    ),
    "done.code_sent": (
        "Un code à 6 chiffres (valable 10 minutes) a été envoyé à {email}.",
        "A 6-digit code (valid 10 minutes) was sent to {email}.",
    ),
    "done.code_pending": (
        "Terminez la connexion avec « chorus login {email} --code CODE » (10 minutes).",
        "Finish logging in with `chorus login {email} --code CODE` (10 minutes).",
    ),
    "done.logged_in": ("Connecté en tant que {email}.", "Logged in as {email}."),
    "done.logged_out": ("Déconnecté ({email}).", "Logged out ({email})."),
    "done.not_logged_in": ("Aucune session ouverte.", "No open session."),
    "done.updated": ("Compte {email} mis à jour.", "Account {email} updated."),
    "done.password_changed": (
        "Mot de passe modifié ; un avis a été envoyé à {email}.",
        "Password changed; a notice was sent to {email}.",
    ),
    "done.unlocked": ("Compte {email} déverrouillé.", "Account {email} unlocked."),
    "done.bootstrap": (
        "Administrateur {email} créé : activez le compte avec le lien envoyé à {email}.",
        "Admin {email} created: activate the account with the link sent to {email}.",
    ),
    "done.bootstrap_existing": (
        "Le compte {email} est désormais administrateur.",
        "The account {email} is now an admin.",
    ),
    "done.role_granted": ("Rôle {role} accordé à {email}.", "Role {role} granted to {email}."),
    "done.migrated": ("Magasin à jour (révision {rev}).", "Store up to date (revision {rev})."),
    "done.backup": ("Sauvegarde écrite dans {path}.", "Backup written to {path}."),
    "done.mail_sent": (
        "{sent} e-mail(s) envoyé(s), {failed} en échec.",
        "{sent} e-mail(s) sent, {failed} failed.",
    ),
    "done.smtp_failed": (
        "Attention : {failed} e-mail(s) non remis par SMTP ; ils restent dans la boîte d'envoi"
        " (« chorus mail send-pending » pour réessayer).",
        "Warning: {failed} e-mail(s) not delivered by SMTP; they stay in the outbox"
        " (`chorus mail send-pending` to retry).",
    ),
    "done.no_smtp": (
        "CHORUS_SMTP_URL n'est pas défini : les e-mails restent dans la boîte d'envoi locale.",
        "CHORUS_SMTP_URL is not set: mails stay in the local outbox.",
    ),
    "hint.no_structure": (
        "Votre compte n'est rattaché à aucune structure (AUTH-5) : créez-en une"
        " (« chorus structure create ») ou demandez un rattachement (« chorus attach request »).",
        "Your account is attached to no structure (AUTH-5): create one"
        " (`chorus structure create`) or request an attachment (`chorus attach request`).",
    ),
}


def message(key: str, lang: str | None = None, **params: Any) -> str:
    """The sentence for ``key`` in ``lang`` (default: the current language)."""
    index = 1 if (lang or current()) == "en" else 0
    if "field" in params and params["field"] in FIELDS:
        params["field"] = FIELDS[params["field"]][index]
    if "rules" in params and isinstance(params["rules"], list):
        params["rules"] = ", ".join(PASSWORD_RULES[r][index] for r in params["rules"])
    template = MESSAGES.get(key, (key, key))[index]
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template
