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
    "name": ("nom", "name"),
    "new_login_email": ("nouvelle adresse de connexion", "new login address"),
    "label": ("libellé", "label"),
    "email": ("adresse e-mail", "e-mail address"),
    "raison_sociale": ("raison sociale", "raison sociale"),
    "reason": ("motif", "reason"),
    "comment": ("commentaire", "comment"),
}

PASSWORD_RULES = {
    "control": ("un caractère de contrôle (NUL, tabulation…)", "a control character (NUL, tab…)"),
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
    # second factors: TOTP app, security keys (MFA-2..5, AUTH-1)
    "mfa2.totp_exists": (
        "Ce compte a déjà une application d'authentification (MFA-2 : une seule par compte) :"
        " retirez-la d'abord avec « chorus mfa totp remove ».",
        "This account already has an authenticator app (MFA-2: one per account): remove it"
        " first with `chorus mfa totp remove`.",
    ),
    "mfa2.no_enrolment": (
        "Aucun ajout d'application en attente, ou il a expiré (MFA-2 : 10 minutes) :"
        " relancez « chorus mfa totp add ».",
        "No authenticator app is waiting to be confirmed, or it expired (MFA-2: 10 minutes):"
        " run `chorus mfa totp add` again.",
    ),
    "mfa2.code_wrong": (
        "Code incorrect (MFA-2) : l'application n'est pas enregistrée ; vérifiez l'heure du"
        " téléphone, puis « chorus mfa totp confirm CODE » avec le code affiché (10 minutes).",
        "Wrong code (MFA-2): the app is not saved; check the phone's clock, then"
        " `chorus mfa totp confirm CODE` with the code it shows (10 minutes).",
    ),
    "mfa2.no_totp": (
        "Ce compte n'a pas d'application d'authentification (MFA-2).",
        "This account has no authenticator app (MFA-2).",
    ),
    "mfa2.name_invalid": (
        "Nom d'appareil invalide (MFA-2) : de 1 à {max} caractères.",
        "Invalid device name (MFA-2): 1 to {max} characters.",
    ),
    "mfa3.code_wrong": (
        "Code incorrect ou déjà utilisé (MFA-3) : attendez le code suivant de votre application ;"
        " {left} essai(s) restant(s).",
        "Wrong or already used code (MFA-3): wait for the next code of your app; {left}"
        " try(ies) left.",
    ),
    "mfa4.no_device": (
        "Aucune clé de sécurité FIDO2 détectée (MFA-4) : branchez-la et relancez la commande.",
        "No FIDO2 security key found (MFA-4): plug it in and run the command again.",
    ),
    "mfa4.no_device_login": (
        "Aucune clé de sécurité FIDO2 détectée (MFA-4) : branchez-la et relancez, ou"
        " connectez-vous autrement avec --method totp ou --method email.",
        "No FIDO2 security key found (MFA-4): plug it in and try again, or log in another way"
        " with --method totp or --method email.",
    ),
    "mfa4.key_error": (
        "La clé de sécurité n'a pas répondu à la demande (MFA-4) : {reason}.",
        "The security key did not answer the request (MFA-4): {reason}.",
    ),
    "mfa4.registration_refused": (
        "Clé de sécurité non enregistrée (MFA-4) : sa réponse n'a pas été validée ({reason}).",
        "Security key not registered (MFA-4): its answer was not valid ({reason}).",
    ),
    "mfa4.key_exists": (
        "Cette clé de sécurité est déjà enregistrée (MFA-4).",
        "This security key is already registered (MFA-4).",
    ),
    "mfa4.key_not_found": (
        "Aucune clé de sécurité n° {id} sur ce compte (MFA-4) : voyez « chorus mfa key list ».",
        "No security key number {id} on this account (MFA-4): see `chorus mfa key list`.",
    ),
    "mfa4.expired": (
        "La demande à la clé de sécurité a expiré ou a déjà servi (MFA-4) : relancez la commande.",
        "The security key request has expired or was already used (MFA-4): run the command again.",
    ),
    "mfa4.key_refused": (
        "Clé de sécurité refusée (MFA-4) : {left} essai(s) restant(s).",
        "Security key refused (MFA-4): {left} try(ies) left.",
    ),
    "mfa4.code_not_for_key": (
        "Une clé de sécurité ne prend pas de code (MFA-4) : retirez --code, ou choisissez"
        " --method totp ou --method email.",
        "A security key takes no code (MFA-4): drop --code, or choose --method totp or"
        " --method email.",
    ),
    "mfa5.password_wrong": (
        "Mot de passe incorrect (MFA-5) : il est demandé avant de retirer un facteur"
        " d'authentification.",
        "Wrong password (MFA-5): it is asked before removing an authentication factor.",
    ),
    "prompt.totp_code": (
        "Code à 6 chiffres de votre application d'authentification",
        "6-digit code from your authenticator app",
    ),
    "prompt.key_pin": ("Code PIN de la clé de sécurité", "Security key PIN"),
    "done.totp_scan": (
        "Scannez ce code QR avec votre application d'authentification (FreeOTP, Google"
        " Authenticator, Microsoft Authenticator…). Texte clair sur fond sombre ? Relancez avec"
        " --invert.",
        "Scan this QR code with your authenticator app (FreeOTP, Google Authenticator,"
        " Microsoft Authenticator…). Light text on a dark background? Run again with --invert.",
    ),
    "done.totp_manual": (
        "Ou saisissez cette clé à la main dans l'application (TOTP, SHA-1, 6 chiffres, 30 s) :",
        "Or type this key into the app by hand (TOTP, SHA-1, 6 digits, 30 s):",
    ),
    "done.totp_uri": (
        "Contenu du code QR (à copier dans l'application) :",
        "The QR code's content (to paste into the app):",
    ),
    "warn.qr_too_wide": (
        "Attention : le terminal ({columns} colonnes) est plus étroit que le code QR ({width}"
        " colonnes) : élargissez-le, ou saisissez la clé à la main.",
        "Warning: the terminal ({columns} columns) is narrower than the QR code ({width}"
        " columns): widen it, or type the key by hand.",
    ),
    "done.totp_pending": (
        "Terminez l'ajout avec « chorus mfa totp confirm CODE » dans les 10 minutes (MFA-2).",
        "Finish with `chorus mfa totp confirm CODE` within 10 minutes (MFA-2).",
    ),
    "done.totp_added": (
        "Application « {name} » enregistrée : elle sera demandée à chaque connexion (AUTH-1) ;"
        " un avis a été envoyé à {email}.",
        "App “{name}” saved: it will be asked at every login (AUTH-1); a notice was sent to"
        " {email}.",
    ),
    "done.totp_removed": (
        "Application « {name} » retirée ; un avis a été envoyé à {email}.",
        "App “{name}” removed; a notice was sent to {email}.",
    ),
    "done.key_touch": (
        "Touchez votre clé de sécurité (MFA-4)…",
        "Touch your security key (MFA-4)…",
    ),
    "done.key_added": (
        "Clé de sécurité « {name} » enregistrée (n° {id}) ; un avis a été envoyé à {email}.",
        "Security key “{name}” registered (number {id}); a notice was sent to {email}.",
    ),
    "done.key_removed": (
        "Clé de sécurité « {name} » retirée ; un avis a été envoyé à {email}.",
        "Security key “{name}” removed; a notice was sent to {email}.",
    ),
    "hint.no_factor": (
        "Aucune application d'authentification ni clé de sécurité : la connexion utilise le"
        " code envoyé par e-mail. Ajoutez-en une avec « chorus mfa totp add » (AUTH-1).",
        "No authenticator app or security key: login uses the code sent by e-mail. Add one"
        " with `chorus mfa totp add` (AUTH-1).",
    ),
    # SIRENE register (STR-1..3)
    "str1.siret_length": (
        "SIRET invalide (STR-1) : {value} : 14 chiffres attendus.",
        "Invalid SIRET (STR-1): {value}: 14 digits expected.",
    ),
    "str1.siret_format": (
        "SIRET invalide (STR-1) : {value} : seuls des chiffres sont admis.",
        "Invalid SIRET (STR-1): {value}: digits only.",
    ),
    "str1.siret_checksum": (
        "SIRET invalide (STR-1) : {value} : la clé de contrôle (Luhn, ou règle de La Poste)"
        " est fausse.",
        "Invalid SIRET (STR-1): {value}: the check digit (Luhn, or La Poste's rule) is wrong.",
    ),
    "str2.not_found": (
        "SIRET {siret} absent de l'index SIRENE (STR-2) : importez un fichier stock plus récent"
        " (« chorus sirene import ») ou configurez l'API de l'INSEE (« chorus sirene"
        " configure-api »).",
        "SIRET {siret} is not in the SIRENE index (STR-2): import a newer stock file"
        " (`chorus sirene import`) or configure the INSEE API (`chorus sirene configure-api`).",
    ),
    "str2.not_found_api": (
        "SIRET {siret} inconnu de l'index SIRENE et de l'API de l'INSEE (STR-2).",
        "SIRET {siret} is known neither to the SIRENE index nor to the INSEE API (STR-2).",
    ),
    "str2.index_empty": (
        "L'index SIRENE est vide et aucune clé d'API n'est configurée (STR-2) : importez les"
        " fichiers stock de l'INSEE (« chorus sirene import »).",
        "The SIRENE index is empty and no API key is configured (STR-2): import INSEE's stock"
        " files (`chorus sirene import`).",
    ),
    "str2.file_missing": (
        "Fichier introuvable (STR-2) : {path}.",
        "File not found (STR-2): {path}.",
    ),
    "str2.file_unreadable": (
        "Lecture impossible de {path} (STR-2) : {reason} ; l'index SIRENE n'a pas changé.",
        "Cannot read {path} (STR-2): {reason}; the SIRENE index is unchanged.",
    ),
    "str2.bad_zip": (
        "Archive zip illisible {path} (STR-2) : {reason} ; l'index SIRENE n'a pas changé.",
        "Unreadable zip archive {path} (STR-2): {reason}; the SIRENE index is unchanged.",
    ),
    "str2.zip_members": (
        "L'archive {path} doit contenir exactement un fichier CSV (STR-2) ; elle en contient"
        " {count}.",
        "The archive {path} must hold exactly one CSV file (STR-2); it holds {count}.",
    ),
    "str2.empty_file": (
        "Fichier {file} vide (STR-2) : la ligne d'en-tête manque.",
        "File {file} is empty (STR-2): the header line is missing.",
    ),
    "str2.not_utf8": (
        "Fichier {file} refusé (STR-2) : ce n'est pas de l'UTF-8 (ligne {line}) ; l'index"
        " SIRENE n'a pas changé.",
        "File {file} refused (STR-2): it is not UTF-8 (line {line}); the SIRENE index is"
        " unchanged.",
    ),
    "str2.missing_columns": (
        "Fichier {file} refusé (STR-2) : colonne(s) obligatoire(s) absente(s) de l'en-tête :"
        " {columns} ; l'index SIRENE n'a pas changé.",
        "File {file} refused (STR-2): required column(s) missing from the header: {columns};"
        " the SIRENE index is unchanged.",
    ),
    "str2.import_running": (
        "Un import SIRENE est déjà en cours sur ce magasin (STR-2) : attendez sa fin.",
        "A SIRENE import is already running on this store (STR-2): wait for it to finish.",
    ),
    "str2.search_empty": (
        "Recherche vide (STR-2) : donnez au moins un mot du nom, ou un SIREN.",
        "Empty search (STR-2): give at least one word of the name, or a SIREN.",
    ),
    "str2.api_url_invalid": (
        "{variable} invalide : {url} (attendu https://...).",
        "Invalid {variable}: {url} (expected https://...).",
    ),
    "str2.api_key_empty": (
        "Clé d'API vide ou mal formée (STR-2) : rien n'a été enregistré.",
        "Empty or malformed API key (STR-2): nothing was saved.",
    ),
    "str2.api_key_refused": (
        "L'INSEE refuse la clé de l'API Sirene (STR-2, HTTP {status}) : vérifiez-la et"
        " remplacez-la avec « chorus sirene configure-api ».",
        "INSEE refuses the Sirene API key (STR-2, HTTP {status}): check it and replace it with"
        " `chorus sirene configure-api`.",
    ),
    "str2.api_forbidden": (
        "L'INSEE refuse l'accès à {siret} (STR-2, HTTP {status}) : la clé n'a pas de droit sur"
        " l'API Sirene, ou l'établissement n'est pas diffusible.",
        "INSEE refuses access to {siret} (STR-2, HTTP {status}): the key has no right on the"
        " Sirene API, or the establishment is not diffusible.",
    ),
    "str2.api_timeout": (
        "L'API Sirene de l'INSEE ne répond pas (STR-2) : délai de {seconds} s dépassé deux"
        " fois ; réessayez plus tard.",
        "The INSEE Sirene API does not answer (STR-2): {seconds} s timeout, twice; try again"
        " later.",
    ),
    "str2.api_unreachable": (
        "API Sirene de l'INSEE injoignable (STR-2) : {reason}.",
        "Cannot reach the INSEE Sirene API (STR-2): {reason}.",
    ),
    "str2.api_rate_limited": (
        "Quota de l'API Sirene atteint (STR-2 : 30 requêtes par minute) : réessayez dans une"
        " minute.",
        "Sirene API quota reached (STR-2: 30 requests a minute): try again in a minute.",
    ),
    "str2.api_unavailable": (
        "L'API Sirene de l'INSEE est indisponible (STR-2, HTTP {status}, deux fois) :"
        " réessayez plus tard.",
        "The INSEE Sirene API is unavailable (STR-2, HTTP {status}, twice): try again later.",
    ),
    "str2.api_bad_response": (
        "Réponse inattendue de l'API Sirene de l'INSEE (STR-2, HTTP {status}).",
        "Unexpected answer from the INSEE Sirene API (STR-2, HTTP {status}).",
    ),
    "done.sirene_imported": (
        "Index SIRENE remplacé (STR-2) : {establishments} établissement(s), {units} unité(s)"
        " légale(s), {skipped} ligne(s) ignorée(s), en {seconds} s.",
        "SIRENE index replaced (STR-2): {establishments} establishment(s), {units} legal"
        " unit(s), {skipped} line(s) skipped, in {seconds} s.",
    ),
    "done.sirene_units_kept": (
        "Sans --unites-legales, les unités légales de l'index précédent ont servi ({units}).",
        "Without --unites-legales, the previous index's legal units were used ({units}).",
    ),
    "done.sirene_duplicates": (
        "{count} identifiant(s) en double : la première ligne de chacun est gardée.",
        "{count} duplicate identifier(s): the first line of each is kept.",
    ),
    "done.sirene_skipped_line": (
        "  ligne ignorée : {file}, ligne {line} : {reason}",
        "  line skipped: {file}, line {line}: {reason}",
    ),
    "done.sirene_more_skipped": (
        "  ... et {count} autre(s) ligne(s) ignorée(s).",
        "  ... and {count} more line(s) skipped.",
    ),
    "sirene.reason.columns": (
        "{value} champ(s) au lieu du nombre de colonnes de l'en-tête",
        "{value} field(s) instead of the header's column count",
    ),
    "sirene.reason.siret": (
        "SIRET « {value} » : 14 chiffres attendus",
        "SIRET “{value}”: 14 digits expected",
    ),
    "sirene.reason.siren": (
        "SIREN « {value} » : 9 chiffres attendus",
        "SIREN “{value}”: 9 digits expected",
    ),
    "sirene.reason.state": (
        "état administratif « {value} » : A ou F attendu",
        "administrative state “{value}”: A or F expected",
    ),
    "sirene.reason.diffusion": (
        "statut de diffusion « {value} » : O, P ou N attendu",
        "diffusion status “{value}”: O, P or N expected",
    ),
    "sirene.reason.csv": ("ligne CSV illisible ({value})", "unreadable CSV line ({value})"),
    "sirene.search_truncated": (
        "Plus de {cap} noms correspondent : seuls les {cap} premiers (par SIRET) ont été"
        " classés ; ajoutez un mot pour préciser.",
        "More than {cap} names match: only the first {cap} (by SIRET) were ranked; add a word"
        " to narrow it.",
    ),
    "sirene.search_none": ("Aucun établissement ne correspond.", "No establishment matches."),
    "done.sirene_key_saved": (
        "Clé de l'API Sirene enregistrée dans le trousseau (service chorus-insee) : les SIRET"
        " absents de l'index seront demandés à l'INSEE.",
        "Sirene API key saved in the keyring (service chorus-insee): SIRETs missing from the"
        " index will be asked of INSEE.",
    ),
    "done.sirene_key_removed": (
        "Clé de l'API Sirene supprimée : les recherches restent hors ligne.",
        "Sirene API key removed: lookups stay offline.",
    ),
    "done.sirene_no_key": (
        "Aucune clé de l'API Sirene n'était configurée.",
        "No Sirene API key was configured.",
    ),
    "progress.sirene_units": ("Unités légales", "Legal units"),
    "progress.sirene_establishments": ("Établissements", "Establishments"),
    "progress.sirene_search": ("Index de recherche", "Search index"),
    "prompt.insee_key": ("Clé de l'API Sirene (INSEE)", "INSEE Sirene API key"),
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
    "done.code_pending_reactivate": (
        "Terminez la réactivation avec « chorus account reactivate {email} --code CODE »"
        " (10 minutes).",
        "Finish the reactivation with `chorus account reactivate {email} --code CODE`"
        " (10 minutes).",
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
    "done.staging_dropped": (
        "Tables d'un import SIRENE interrompu supprimées : {count}.",
        "Tables of an interrupted SIRENE import dropped: {count}.",
    ),
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
    # structures and services (STR-1..9, HAB-4, HAB-6)
    "hab6.profile_required": (
        "Il vous faut le profil « {profile} » sur la structure {structure} (HAB-4, HAB-6) :"
        " demandez-le à son gestionnaire principal.",
        "You need the “{profile}” profile on structure {structure} (HAB-4, HAB-6): ask its"
        " primary manager.",
    ),
    "str1.type_unknown": (
        "Type d'identifiant inconnu {id_type} (STR-1) : choisissez parmi {types}.",
        "Unknown identifier type {id_type} (STR-1): choose among {types}.",
    ),
    "str1.missing": (
        "L'identifiant de la structure est obligatoire (STR-1).",
        "The structure's identifier is mandatory (STR-1).",
    ),
    "str1.ue_hors_france": (
        "Numéro de TVA intracommunautaire invalide (STR-1) : {value} ; attendu : le préfixe"
        " du pays puis le numéro, ex. DE136695976.",
        "Invalid intra-EU VAT number (STR-1): {value}; expected the country prefix then the"
        " number, e.g. DE136695976.",
    ),
    "str1.own_type": (
        "Identifiant refusé (STR-1) : {value} ; une structure du pays {country} s'identifie"
        " avec le type {use}.",
        "Identifier refused (STR-1): {value}; a structure of country {country} is identified"
        " with the {use} type.",
    ),
    "str1.hors_ue": (
        "Identifiant HORS_UE invalide (STR-1) : {value} ; attendu : le code pays ISO à"
        " 2 lettres, un tiret, puis jusqu'à 16 caractères du nom, ex. US-ACME CORP.",
        "Invalid HORS_UE identifier (STR-1): {value}; expected the 2-letter ISO country code,"
        " a hyphen, then up to 16 characters of the name, e.g. US-ACME CORP.",
    ),
    "str1.country_unknown": (
        "Identifiant HORS_UE invalide (STR-1) : {value} ; {country} n'est pas un code pays"
        " ISO 3166.",
        "Invalid HORS_UE identifier (STR-1): {value}; {country} is not an ISO 3166 country code.",
    ),
    "str1.hors_ue_name_long": (
        "Identifiant HORS_UE invalide (STR-1) : {value} ; le nom y est limité à {max}"
        " caractères : gardez les {max} premiers.",
        "Invalid HORS_UE identifier (STR-1): {value}; the name part holds at most {max}"
        " characters: keep the first {max}.",
    ),
    "str1.ridet": (
        "RIDET invalide (STR-1) : {value} ; attendu : 10 chiffres (RID à 7 chiffres et rang"
        " d'établissement à 3 chiffres), ex. 1234567001 ou 123456.001.",
        "Invalid RIDET (STR-1): {value}; expected 10 digits (7-digit RID and 3-digit"
        " establishment rank), e.g. 1234567001 or 123456.001.",
    ),
    "str1.tahiti": (
        "Numéro TAHITI invalide (STR-1) : {value} ; attendu : une lettre ou un chiffre puis"
        " 5 chiffres, suivis ou non du rang d'établissement à 3 chiffres, ex. C12345 ou"
        " C12345001.",
        "Invalid TAHITI number (STR-1): {value}; expected a letter or digit then 5 digits,"
        " optionally followed by the 3-digit establishment rank, e.g. C12345 or C12345001.",
    ),
    "str1.reference": (
        "Identifiant {id_type} invalide (STR-1) : {value} ; attendu : 3 à 40 lettres,"
        " chiffres, « - », « . » ou « / ».",
        "Invalid {id_type} identifier (STR-1): {value}; expected 3 to 40 letters, digits,"
        " “-”, “.” or “/”.",
    ),
    "str.missing": (
        "Le champ {field} est obligatoire.",
        "The {field} field is mandatory.",
    ),
    "str.not_found": (
        "Aucune structure {id} : cherchez-la avec « chorus structure search ».",
        "No structure {id}: look for it with `chorus structure search`.",
    ),
    "str.ambiguous": (
        "Plusieurs structures ont l'identifiant {id} ({types}) : précisez --id-type.",
        "Several structures have the identifier {id} ({types}): add --id-type.",
    ),
    "str.not_editable": (
        "Le champ {field} ne se modifie pas ici : seuls le libellé, l'e-mail et le"
        " téléphone se modifient (STR-2).",
        "The {field} field cannot be changed here: only label, e-mail and phone can (STR-2).",
    ),
    "str.nothing_to_update": (
        "Rien à modifier : indiquez au moins une option (--label, --email, --phone).",
        "Nothing to update: give at least one option (--label, --email, --phone).",
    ),
    "str2.email_invalid": (
        "Adresse e-mail de la structure invalide (STR-2) : {value}.",
        "Invalid e-mail address for the structure (STR-2): {value}.",
    ),
    "str2.phone_invalid": (
        "Téléphone de la structure invalide (STR-2) : {value} ; formats acceptés :"
        " 01 23 45 67 89 ou +33 1 23 45 67 89.",
        "Invalid phone for the structure (STR-2): {value}; accepted: 01 23 45 67 89 or"
        " +33 1 23 45 67 89.",
    ),
    "str2.raison_sociale_from_sirene": (
        "Pour un SIRET, la raison sociale vient du répertoire SIRENE (STR-2) : retirez"
        " --raison-sociale (--label ajoute un libellé).",
        "For a SIRET the raison sociale comes from the SIRENE register (STR-2): remove"
        " --raison-sociale (--label adds a label).",
    ),
    "str3.name_withheld": (
        "L'INSEE ne diffuse pas le nom de l'unité du SIRET {siret} (STR-3) : indiquez-le"
        " avec --raison-sociale.",
        "INSEE does not publish the name of the unit of SIRET {siret} (STR-3): give it with"
        " --raison-sociale.",
    ),
    "str2.unknown": (
        "SIRET {siret} inconnu du répertoire SIRENE (STR-2) : vérifiez-le, ou importez le"
        " stock à jour (« chorus sirene import »).",
        "SIRET {siret} is unknown to the SIRENE register (STR-2): check it, or import the"
        " current stock file (`chorus sirene import`).",
    ),
    "str2.closed": (
        "L'établissement {siret} est fermé au répertoire SIRENE (STR-2) : seul un"
        " établissement actif devient une structure.",
        "Establishment {siret} is closed in the SIRENE register (STR-2): only an active"
        " establishment can become a structure.",
    ),
    "str5.exists": (
        "La structure {id} existe déjà (STR-5) : demandez plutôt un rattachement avec"
        " « chorus attach request --structure {id} --comment ... ».",
        "Structure {id} already exists (STR-5): request an attachment instead with"
        " `chorus attach request --structure {id} --comment ...`.",
    ),
    "str5.pending": (
        "La structure {id} a déjà été demandée et attend l'approbation du support (STR-5, STR-6).",
        "Structure {id} has already been requested and awaits support's approval (STR-5, STR-6).",
    ),
    "str6.public_from_sirene": (
        "Pour un SIRET, le caractère public vient du répertoire SIRENE (catégorie juridique"
        " 7…) (STR-6) : retirez --public.",
        "For a SIRET, being public comes from the SIRENE register (legal category 7…)"
        " (STR-6): remove --public.",
    ),
    "str6.public_type": (
        "Une structure {id_type} ne peut pas être publique (STR-6) : retirez --public.",
        "A {id_type} structure cannot be public (STR-6): remove --public.",
    ),
    "str6.helios_siret_only": (
        "Une structure gérée dans Hélios s'identifie par son SIRET (STR-6) : --helios"
        " demande --id-type SIRET.",
        "A structure managed in Hélios is identified by its SIRET (STR-6): --helios needs"
        " --id-type SIRET.",
    ),
    "str6.helios_not_public": (
        "Le SIRET {siret} n'est pas celui d'une entité publique au répertoire SIRENE"
        " (STR-6) : --helios ne s'applique pas.",
        "SIRET {siret} is not a public entity's in the SIRENE register (STR-6): --helios"
        " does not apply.",
    ),
    "str6.helios_reserved": (
        "Les structures Hélios arrivent par flux (PUB-2) ; en ligne de commande, seuls un"
        " administrateur ou un correspondant du département {department} en créent une"
        " (PUB-1, HAB-6).",
        "Hélios structures arrive through flows (PUB-2); from the command line only an admin"
        " or a correspondent of department {department} may create one (PUB-1, HAB-6).",
    ),
    "str6.own_request": (
        "Vous avez demandé la structure {structure} : un autre agent du support doit décider"
        " (STR-6, HAB-6).",
        "You requested structure {structure}: another support agent must decide (STR-6, HAB-6).",
    ),
    "str6.not_pending": (
        "La structure {id} n'attend aucune décision du support (STR-6).",
        "Structure {id} awaits no decision from support (STR-6).",
    ),
    "str6.awaiting": (
        "La structure {id} attend l'approbation du support (STR-6) : elle ne se modifie pas"
        " d'ici là.",
        "Structure {id} awaits support's approval (STR-6): it cannot be changed until then.",
    ),
    "str6.was_refused": (
        "La structure {id} a été refusée par le support (STR-6) : elle ne se modifie plus.",
        "Structure {id} was refused by support (STR-6): it can no longer be changed.",
    ),
    "str7.code_invalid": (
        "Code de service invalide (STR-7) : {code} ; 1 à 100 lettres, chiffres, « _ », « - »,"
        " « . » ou « / », sans espace.",
        "Invalid service code (STR-7): {code}; 1 to 100 letters, digits, “_”, “-”, “.” or"
        " “/”, no spaces.",
    ),
    "str7.code_exists": (
        "Le service {code} existe déjà dans la structure {id} (STR-7 : code unique par structure).",
        "Service {code} already exists in structure {id} (STR-7: one code per structure).",
    ),
    "str7.not_found": (
        "Aucun service {code} dans la structure {id} (STR-7).",
        "No service {code} in structure {id} (STR-7).",
    ),
    "str7.nothing_to_update": (
        "Rien à modifier : indiquez --label (STR-7).",
        "Nothing to update: give --label (STR-7).",
    ),
    "str7.already_inactive": (
        "Le service {code} de la structure {id} est déjà désactivé (STR-7).",
        "Service {code} of structure {id} is already inactive (STR-7).",
    ),
    "str8.already_primary": (
        "{email} est déjà le gestionnaire principal (STR-8).",
        "{email} is already the primary manager (STR-8).",
    ),
    "str8.not_attached": (
        "{email} n'est pas rattaché à la structure {id} (STR-8) : le rôle ne se transmet qu'à"
        " un compte rattaché.",
        "{email} is not attached to structure {id} (STR-8): the role only goes to an"
        " attached account.",
    ),
    "str8.not_active": (
        "Le compte {email} n'est pas actif (STR-8) : le rôle ne se transmet qu'à un compte actif.",
        "Account {email} is not active (STR-8): the role only goes to an active account.",
    ),
    "str9.empty": (
        "Indiquez un identifiant, une raison sociale ou un libellé à chercher (STR-9).",
        "Give an identifier, a raison sociale or a label to search for (STR-9).",
    ),
    "str9.limit": (
        "--limit va de 1 à {max} (STR-9).",
        "--limit goes from 1 to {max} (STR-9).",
    ),
    "done.structure_created": (
        "Structure {id} ({name}) créée : vous en êtes le gestionnaire principal (STR-4).",
        "Structure {id} ({name}) created: you are its primary manager (STR-4).",
    ),
    "done.structure_pending": (
        "Structure publique {id} ({name}) enregistrée : elle attend l'approbation du support"
        " (STR-6) ; vous serez prévenu par e-mail.",
        "Public structure {id} ({name}) recorded: it awaits support's approval (STR-6); you"
        " will be told by e-mail.",
    ),
    "done.structure_approved": (
        "Structure {id} approuvée ; le demandeur a été prévenu (STR-6).",
        "Structure {id} approved; the requester was told (STR-6).",
    ),
    "done.structure_refused": (
        "Structure {id} refusée ; le motif a été envoyé au demandeur (STR-6).",
        "Structure {id} refused; the reason was sent to the requester (STR-6).",
    ),
    "done.structure_updated": ("Structure {id} mise à jour.", "Structure {id} updated."),
    "done.primary_transferred": (
        "{email} est désormais gestionnaire principal de la structure {id} ; un avis a été"
        " envoyé aux deux gestionnaires (STR-8).",
        "{email} is now the primary manager of structure {id}; both managers were notified"
        " (STR-8).",
    ),
    "done.service_added": (
        "Service {code} ajouté à la structure {id}.",
        "Service {code} added to structure {id}.",
    ),
    "done.service_updated": (
        "Service {code} de la structure {id} mis à jour.",
        "Service {code} of structure {id} updated.",
    ),
    "done.service_deactivated": (
        "Service {code} de la structure {id} désactivé.",
        "Service {code} of structure {id} deactivated.",
    ),
    # attachments and habilitations (ATT-1..5, HAB-1..6)
    "hab6.profile_required_service": (
        "Il vous faut le profil « {profile} » sur la structure {structure} ou sur son service"
        " {service} (HAB-4, HAB-6) : demandez-le à son gestionnaire principal.",
        "You need the “{profile}” profile on structure {structure} or on its service {service}"
        " (HAB-4, HAB-6): ask its primary manager.",
    ),
    "hab1.unknown_application": (
        "Application inconnue {app} (HAB-1) : choisissez parmi {codes} (« chorus habil"
        " catalogue »).",
        "Unknown application {app} (HAB-1): choose among {codes} (`chorus habil catalogue`).",
    ),
    "hab2.unknown_level": (
        "Niveau inconnu {level} (HAB-2) : choisissez parmi {levels}.",
        "Unknown level {level} (HAB-2): choose among {levels}.",
    ),
    "hab5.profile_empty": (
        "Indiquez un mot du profil recherché : application, domaine ou niveau (HAB-5).",
        "Give a word of the profile you look for: application, domain or level (HAB-5).",
    ),
    "hab5.account_needs_structure": (
        "Les habilitations d'un autre compte se consultent structure par structure (HAB-4) :"
        " ajoutez --structure.",
        "Another account's habilitations are read one structure at a time (HAB-4): add"
        " --structure.",
    ),
    "hab5.last_manager": (
        "C'est le dernier profil « Organisation modification » de la structure {id} (HAB-5) :"
        " attribuez-le d'abord à un autre compte rattaché.",
        "This is the last “Organisation modification” profile of structure {id} (HAB-5): give"
        " it to another attached account first.",
    ),
    "hab5.primary_manager": (
        "{email} est le gestionnaire principal de la structure {id} et garde le profil"
        " « Organisation modification » (HAB-5, STR-8) : transmettez d'abord le rôle"
        " (« chorus structure transfer-primary »).",
        "{email} is the primary manager of structure {id} and keeps the “Organisation"
        " modification” profile (HAB-5, STR-8): hand the role over first (`chorus structure"
        " transfer-primary`).",
    ),
    "hab5.not_attached": (
        "{email} n'est pas rattaché à la structure {id} (HAB-2) : un profil ne s'attribue"
        " qu'à un compte rattaché (« chorus attach request »).",
        "{email} is not attached to structure {id} (HAB-2): profiles only go to attached"
        " accounts (`chorus attach request`).",
    ),
    "hab5.service_member": (
        "{email} n'est rattaché qu'aux services {codes} de la structure {id} (ATT-1, HAB-2) :"
        " précisez --service.",
        "{email} is attached to services {codes} of structure {id} only (ATT-1, HAB-2): add"
        " --service.",
    ),
    "hab5.not_attached_service": (
        "{email} n'est pas rattaché au service {code} de la structure {id} (ATT-1, HAB-2).",
        "{email} is not attached to service {code} of structure {id} (ATT-1, HAB-2).",
    ),
    "hab5.service_inactive": (
        "Le service {code} de la structure {id} est désactivé (STR-7) : aucun profil ne s'y"
        " attribue.",
        "Service {code} of structure {id} is inactive (STR-7): no profile can be given on it.",
    ),
    "hab5.not_held": (
        "{email} n'a pas de profil {profile} sur la structure {id} (HAB-5).",
        "{email} holds no {profile} profile on structure {id} (HAB-5).",
    ),
    "hab5.not_held_service": (
        "{email} n'a pas de profil {profile} sur le service {code} de la structure {id} (HAB-5).",
        "{email} holds no {profile} profile on service {code} of structure {id} (HAB-5).",
    ),
    "att1.structure_missing": (
        "Indiquez l'identifiant ou la raison sociale de la structure (ATT-1).",
        "Give the structure's identifier or raison sociale (ATT-1).",
    ),
    "att1.no_structure": (
        "Aucune structure active ne correspond à « {text} » (ATT-1) : cherchez-la avec"
        " « chorus structure search ».",
        "No active structure matches “{text}” (ATT-1): look for it with `chorus structure search`.",
    ),
    "att1.ambiguous": (
        "Plusieurs structures correspondent à « {text} » (ATT-1) : {candidates} ; précisez"
        " l'identifiant avec --structure.",
        "Several structures match “{text}” (ATT-1): {candidates}; give the identifier with"
        " --structure.",
    ),
    "att1.ambiguous_more": (
        "Plusieurs structures correspondent à « {text} » (ATT-1) : {candidates} et {more}"
        " autre(s) ; précisez l'identifiant avec --structure.",
        "Several structures match “{text}” (ATT-1): {candidates} and {more} more; give the"
        " identifier with --structure.",
    ),
    "att1.comment_required": (
        "Le commentaire qui motive la demande de rattachement est obligatoire (ATT-1).",
        "A comment explaining the attachment request is mandatory (ATT-1).",
    ),
    "att1.structure_not_active": (
        "La structure {id} n'est pas active (ATT-1, STR-6) : on ne s'y rattache pas.",
        "Structure {id} is not active (ATT-1, STR-6): no attachment to it can be requested.",
    ),
    "att1.service_inactive": (
        "Service(s) {codes} de la structure {id} désactivé(s) (ATT-1, STR-7).",
        "Service(s) {codes} of structure {id} inactive (ATT-1, STR-7).",
    ),
    "att1.already_attached": (
        "Vous êtes déjà rattaché à la structure {id} (ATT-1) : voyez « chorus attach list ».",
        "You are already attached to structure {id} (ATT-1): see `chorus attach list`.",
    ),
    "att1.already_attached_services": (
        "Vous êtes déjà rattaché au(x) service(s) {codes} de la structure {id} (ATT-1).",
        "You are already attached to service(s) {codes} of structure {id} (ATT-1).",
    ),
    "att1.pending_exists": (
        "Votre demande n° {request} de rattachement à la structure {id} attend déjà une"
        " décision (ATT-1 : une seule à la fois) ; voyez « chorus account history ».",
        "Your request {request} to be attached to structure {id} already awaits a decision"
        " (ATT-1: one at a time); see `chorus account history`.",
    ),
    "att2.no_request": (
        "Indiquez au moins un numéro de demande (ATT-2).",
        "Give at least one request number (ATT-2).",
    ),
    "att2.not_found": (
        "Aucune demande de rattachement n° {request} (ATT-2) : voyez « chorus attach pending ».",
        "No attachment request {request} (ATT-2): see `chorus attach pending`.",
    ),
    "att2.own_request": (
        "La demande n° {request} est la vôtre : un autre gestionnaire doit en décider (ATT-2,"
        " HAB-6).",
        "Request {request} is your own: another manager must decide on it (ATT-2, HAB-6).",
    ),
    "att2.not_allowed": (
        "Demande n° {request} : il vous faut le profil « {profile} » sur la structure"
        " {structure} (HAB-4, HAB-6) ; aucune demande n'a été traitée.",
        "Request {request}: you need the “{profile}” profile on structure {structure}"
        " (HAB-4, HAB-6); no request was handled.",
    ),
    "att2.not_pending": (
        "La demande n° {request} n'attend plus de décision (ATT-2 : statut {status}) : rien"
        " n'a été fait.",
        "Request {request} no longer awaits a decision (ATT-2: status {status}): nothing was done.",
    ),
    "att2.reason_required": (
        "Le motif du refus est obligatoire : il est envoyé au demandeur (ATT-2).",
        "A reason is mandatory: it is sent to the requester (ATT-2).",
    ),
    "att5.not_attached": (
        "Vous n'êtes pas rattaché à la structure {id} (ATT-5).",
        "You are not attached to structure {id} (ATT-5).",
    ),
    "att5.primary_manager": (
        "Vous êtes le gestionnaire principal de la structure {id} (ATT-5, STR-8) : transmettez"
        " d'abord le rôle (« chorus structure transfer-primary {id} --to EMAIL »).",
        "You are the primary manager of structure {id} (ATT-5, STR-8): hand the role over"
        " first (`chorus structure transfer-primary {id} --to EMAIL`).",
    ),
    "att5.whole_structure": (
        "Vous êtes rattaché à toute la structure {id}, pas à des services (ATT-5) : détachez-vous"
        " de la structure, sans --service.",
        "You are attached to the whole structure {id}, not to services (ATT-5): detach from"
        " the structure, without --service.",
    ),
    "att5.not_attached_service": (
        "Vous n'êtes pas rattaché au(x) service(s) {codes} de la structure {id} (ATT-5).",
        "You are not attached to service(s) {codes} of structure {id} (ATT-5).",
    ),
    "att5.last_service": (
        "Ce sont tous vos services de la structure {id} (ATT-5) : détachez-vous de la"
        " structure, sans --service.",
        "These are all your services of structure {id} (ATT-5): detach from the structure,"
        " without --service.",
    ),
    "str8.service_member": (
        "{email} n'est rattaché qu'à des services de la structure {id} (STR-8) : le rôle ne se"
        " transmet qu'à un compte rattaché à toute la structure.",
        "{email} is attached to some services of structure {id} only (STR-8): the role only"
        " goes to an account attached to the whole structure.",
    ),
    "done.attach_requested": (
        "Demande n° {request} de rattachement à la structure {id} enregistrée : un"
        " gestionnaire doit la valider (approbateur : {approver}) ; vous recevrez sa décision"
        " par e-mail.",
        "Request {request} to be attached to structure {id} recorded: a manager must approve"
        " it (approver: {approver}); you will receive the decision by e-mail.",
    ),
    "done.attach_approved": (
        "{count} demande(s) approuvée(s) ({ids}) ; chaque demandeur a été prévenu (ATT-2).",
        "{count} request(s) approved ({ids}); each requester was told (ATT-2).",
    ),
    "done.attach_rejected": (
        "{count} demande(s) refusée(s) ({ids}) ; le motif a été envoyé à chaque demandeur (ATT-2).",
        "{count} request(s) refused ({ids}); the reason was sent to each requester (ATT-2).",
    ),
    "done.detached": (
        "Vous n'êtes plus rattaché à la structure {id} ; vos profils y ont été retirés.",
        "You are no longer attached to structure {id}; your profiles there were removed.",
    ),
    "done.detached_services": (
        "Vous n'êtes plus rattaché au(x) service(s) {codes} de la structure {id}.",
        "You are no longer attached to service(s) {codes} of structure {id}.",
    ),
    "done.habil_granted": (
        "Profil « {profile} » attribué à {email} sur la structure {id} ; un avis lui a été envoyé.",
        "Profile “{profile}” given to {email} on structure {id}; a notice was sent.",
    ),
    "done.habil_unchanged": (
        "{email} a déjà le profil « {profile} » sur la structure {id} : rien n'a changé.",
        "{email} already holds the “{profile}” profile on structure {id}: nothing changed.",
    ),
    "done.habil_revoked": (
        "Profil « {profile} » retiré à {email} sur la structure {id} ; un avis lui a été envoyé.",
        "Profile “{profile}” removed from {email} on structure {id}; a notice was sent.",
    ),
    # --- public-entity provisioning (PUB-1..3) ---------------------------------------
    "pub1.role_required": (
        "Action réservée aux correspondants dématérialisation de la DGFiP et aux"
        " administrateurs (PUB-1, HAB-6).",
        "Only DGFiP dematerialisation correspondents and admins may do this (PUB-1, HAB-6).",
    ),
    "pub1.out_of_scope": (
        "La structure {structure} n'est pas une structure publique de vos départements"
        " (PUB-1, HAB-6) : seul un correspondant de son département, ou un administrateur, y crée"
        " des comptes.",
        "Structure {structure} is not a public structure of your departments (PUB-1, HAB-6): only a"
        " correspondent of its department, or an admin, creates accounts there.",
    ),
    "pub1.not_public": (
        "La structure {id} n'est pas une structure publique (PUB-1) : le compte d'une"
        " structure privée se crée sans --structure, puis demande un rattachement"
        " (« chorus attach request »).",
        "Structure {id} is not a public structure (PUB-1): an account of a private structure"
        " is created without --structure, then requests an attachment (`chorus attach"
        " request`).",
    ),
    "pub1.structure_not_active": (
        "La structure {id} n'est pas active (PUB-1, STR-6) : elle attend la décision du"
        " support, ou a été refusée.",
        "Structure {id} is not active (PUB-1, STR-6): it awaits support's decision, or was"
        " refused.",
    ),
    "pub1.id_type_without_structure": (
        "--id-type ne sert qu'avec --structure (PUB-1).",
        "--id-type only goes with --structure (PUB-1).",
    ),
    "pub1.delete_role_holder": (
        "{email} a un rôle de plateforme (PUB-1, HAB-6) : seul un administrateur peut supprimer ce"
        " compte.",
        "{email} holds a platform role (PUB-1, HAB-6): only an admin may delete this account.",
    ),
    "pub1.delete_out_of_scope": (
        "Le compte {email} n'est pas rattaché qu'à des structures publiques de vos"
        " départements (PUB-1, HAB-6 ; hors de votre périmètre : {structures}) : seul un"
        " administrateur peut le supprimer.",
        "Account {email} is not attached only to public structures of your departments"
        " (PUB-1, HAB-6; outside your scope: {structures}): only an admin may delete it.",
    ),
    "pub1.delete_self": (
        "Vous ne pouvez pas supprimer votre propre compte (PUB-1) : demandez-le à un autre"
        " administrateur ou correspondant.",
        "You cannot delete your own account (PUB-1): ask another admin or correspondent.",
    ),
    "pub1.delete_last_admin": (
        "{email} est le dernier administrateur (PUB-1) : donnez ce rôle à un autre compte"
        " avant de le supprimer.",
        "{email} is the last admin (PUB-1): grant the role to another account before deleting it.",
    ),
    "str8.delete_primary": (
        "{email} est le gestionnaire principal de {ids} (STR-8) : transférez d'abord le rôle"
        " (« chorus structure transfer-primary ID --to EMAIL »).",
        "{email} is the primary manager of {ids} (STR-8): transfer the role first"
        " (`chorus structure transfer-primary ID --to EMAIL`).",
    ),
    "prompt.delete_account": (
        "Supprimer définitivement le compte {email} (structures : {structures}) ?",
        "Delete the account {email} for good (structures: {structures})?",
    ),
    "done.delete_cancelled": (
        "Suppression annulée : le compte {email} est inchangé.",
        "Deletion cancelled: account {email} is unchanged.",
    ),
    "done.account_deleted": (
        "Compte {email} supprimé avec ses sessions, facteurs, rattachements ({structures}) et"
        " habilitations ; le journal d'audit garde son historique (PUB-1).",
        "Account {email} deleted with its sessions, factors, attachments ({structures}) and"
        " habilitations; the audit log keeps its history (PUB-1).",
    ),
    "done.account_provisioned": (
        "Compte {email} créé, en attente d'activation, rattaché à la structure publique {id}"
        " avec les habilitations par défaut ; le lien (valable 60 minutes) lui a été envoyé"
        " par {sender} (PUB-1, PUB-3).",
        "Account {email} created, pending activation, attached to the public structure {id}"
        " with the default habilitations; the link (valid 60 minutes) was sent to it from"
        " {sender} (PUB-1, PUB-3).",
    ),
    "done.provisioned_primary": (
        "{email} est le premier compte de la structure {id} : il en devient le gestionnaire"
        " principal (STR-8).",
        "{email} is the first account of structure {id}: it becomes its primary manager (STR-8).",
    ),
    "hint.to_complete": (
        "Votre compte a été initialisé à partir du référentiel MADRHAS (PUB-2) : vérifiez et"
        " complétez vos informations{fields} avec « chorus account update »"
        " (tout sauf l'adresse de connexion).",
        "Your account was initialised from MADRHAS data (PUB-2): check and complete your"
        " information{fields} with `chorus account update` (everything but the login).",
    ),
    # --- seed (OPS-3) ---------------------------------------------------------------------
    "ops3.accounts": (
        "--accounts va de 0 à {max} (OPS-3).",
        "--accounts goes from 0 to {max} (OPS-3).",
    ),
    "ops3.structures": (
        "--structures va de 0 à {max} (OPS-3).",
        "--structures goes from 0 to {max} (OPS-3).",
    ),
    "ops3.managers": (
        "{structures} structures pour {accounts} comptes (OPS-3) : chaque structure a son"
        " gestionnaire principal, il faut au moins autant de comptes que de structures.",
        "{structures} structures for {accounts} accounts (OPS-3): each structure has its"
        " primary manager, so at least as many accounts as structures are needed.",
    ),
    "ops3.no_structure": (
        "Des comptes sans structure (OPS-3) : chacun est rattaché à une structure,"
        " --structures vaut au moins 1.",
        "Accounts without a structure (OPS-3): each is attached to one, --structures is at"
        " least 1.",
    ),
    "ops3.not_empty": (
        "Ce magasin contient déjà des comptes ou des structures (OPS-3) : chorus seed ne"
        " remplit qu'un magasin vide (« --db sqlite:///autre.db »).",
        "This store already holds accounts or structures (OPS-3): chorus seed fills an"
        " empty store only (`--db sqlite:///other.db`).",
    ),
    "done.seeded": (
        "Magasin rempli (OPS-3, graine {seed}) : {accounts} comptes dont {pending} en"
        " attente d'activation, {structures} structures, {services} services, {requests}"
        " demandes de rattachement en attente.",
        "Store filled (OPS-3, seed {seed}): {accounts} accounts ({pending} pending"
        " activation), {structures} structures, {services} services, {requests} attachment"
        " requests pending.",
    ),
    "done.seed_password": (
        "Mot de passe des comptes actifs (affiché une seule fois) : {password}",
        "Password of the active accounts (shown once): {password}",
    ),
    # --- db copy (OPS-7) ------------------------------------------------------------------
    "ops7.same_store": (
        "La cible est le magasin lui-même (OPS-7) : donnez l'URL d'un autre magasin, vide.",
        "The target is the store itself (OPS-7): give the URL of another, empty store.",
    ),
    "ops7.no_folder": (
        "Le dossier {path} n'existe pas (OPS-7) : créez-le, ou corrigez l'URL de la cible.",
        "The folder {path} does not exist (OPS-7): create it, or correct the target's URL.",
    ),
    "ops7.unreachable": (
        "Magasin cible inaccessible ({url}) (OPS-7) : {reason}.",
        "Target store unreachable ({url}) (OPS-7): {reason}.",
    ),
    "ops7.not_empty": (
        "Le magasin cible contient déjà des données (table {table}) (OPS-7) : la copie se fait"
        " dans un magasin vide ; rien n'a été écrit.",
        "The target store already holds data (table {table}) (OPS-7): the copy goes into an"
        " empty store; nothing was written.",
    ),
    "ops7.count_mismatch": (
        "La table {table} compte {target} lignes dans la cible pour {source} dans la source"
        " (OPS-7) : la copie est annulée, rien n'a été écrit.",
        "Table {table} has {target} rows in the target for {source} in the source (OPS-7):"
        " the copy is rolled back, nothing was written.",
    ),
    "done.copied": (
        "Magasin copié dans {target} : {rows} lignes, {tables} tables, comptes vérifiés, en"
        " {seconds} s (OPS-7).",
        "Store copied into {target}: {rows} rows, {tables} tables, counts checked, in"
        " {seconds} s (OPS-7).",
    ),
    "done.copy_session": (
        "Votre session vaut aussi pour {target} : « chorus --db URL whoami ».",
        "Your session works on {target} too: `chorus --db URL whoami`.",
    ),
    "progress.copy_rows": ("Lignes copiées", "Rows copied"),
    # --- batch (OPS-6) --------------------------------------------------------------------
    "ops6.line_error": ("ligne {line} : {error}", "line {line}: {error}"),
    "ops6.split": (
        "cette ligne ne se découpe pas en mots (OPS-6) : {reason} ; rien n'a été exécuté"
        " après elle.",
        "this line does not split into words (OPS-6): {reason}; nothing ran after it.",
    ),
    "ops6.refused": (
        "« {command} » ne s'exécute pas dans un lot (OPS-6) : il attend une personne, ou"
        " n'est pas une commande de lot ; lancez-le seul.",
        "`{command}` does not run in a batch (OPS-6): it waits for a person, or is no"
        " batch command; run it alone.",
    ),
    "ops6.not_atomic": (
        "« {command} » ne s'exécute pas dans un lot --atomic (OPS-6) : il a ses propres"
        " transactions.",
        "`{command}` does not run in an --atomic batch (OPS-6): it has transactions of its own.",
    ),
    "ops6.db_option": (
        "--db ne s'emploie pas dans une ligne de lot (OPS-6) : tout le lot porte sur un"
        " magasin ; donnez-le à « chorus batch ».",
        "--db is no option of a batch line (OPS-6): the whole batch works on one store;"
        " give it to `chorus batch`.",
    ),
    "ops6.prompt": (
        "cette ligne attend une réponse au clavier (OPS-6) : un lot ne pose pas de question"
        " ; lancez-la seule.",
        "this line waits for an answer at the keyboard (OPS-6): a batch asks no question;"
        " run it alone.",
    ),
    "ops6.atomic_keep_going": (
        "--atomic et --keep-going s'excluent (OPS-6) : un lot atomique s'arrête et annule"
        " tout au premier échec.",
        "--atomic and --keep-going exclude each other (OPS-6): an atomic batch stops and"
        " rolls everything back at the first failure.",
    ),
    "ops6.rolled_back": (
        "Lot annulé à la ligne {line} (OPS-6, --atomic) : le magasin est tel qu'avant le lot,"
        " e-mails et journal compris.",
        "Batch rolled back at line {line} (OPS-6, --atomic): the store is as it was before"
        " the batch, mails and audit included.",
    ),
    "ops6.summary": (
        "{lines} ligne(s) exécutée(s), {failed} en échec (première : ligne {first}) (OPS-6).",
        "{lines} line(s) run, {failed} failed (first: line {first}) (OPS-6).",
    ),
    "ops6.file_missing": ("Fichier introuvable : {path} (OPS-6).", "No such file: {path} (OPS-6)."),
    "ops6.not_utf8": (
        "Le fichier {path} n'est pas en UTF-8 (OPS-6).",
        "The file {path} is not UTF-8 (OPS-6).",
    ),
    # --- listings ------------------------------------------------------------------------
    "list.limit": (
        "--limit va de 1 à {max}.",
        "--limit goes from 1 to {max}.",
    ),
    "list.offset": ("--offset ne peut pas être négatif.", "--offset cannot be negative."),
    "list.status": (
        "Statut inconnu « {status} » : choisissez parmi {statuses}.",
        "Unknown status “{status}”: choose among {statuses}.",
    ),
    "done.nothing_found": ("Aucun résultat.", "Nothing found."),
    "mail.not_found": (
        "Aucun e-mail n° {id} dans la boîte d'envoi.",
        "No mail {id} in the outbox.",
    ),
    "role.not_held": (
        "{email} n'a pas le rôle {role} (PUB-1).",
        "{email} does not hold the {role} role (PUB-1).",
    ),
    "role.last_admin": (
        "{email} est le dernier administrateur (PUB-1) : donnez ce rôle à un autre compte avant"
        " de le lui retirer.",
        "{email} is the last admin (PUB-1): grant the role to another account before taking"
        " it back.",
    ),
    "done.role_revoked": ("Rôle {role} retiré à {email}.", "Role {role} taken back from {email}."),
    # SET-1 photo, SET-5 preferences
    "set1.photo_usage": (
        "Donnez le fichier de la photo, ou --remove pour la retirer, pas les deux (SET-1).",
        "Give the photo's file, or --remove to remove it, not both (SET-1).",
    ),
    "set1.photo_missing": (
        "Photo refusée (SET-1) : le fichier {path} n'existe pas.",
        "Photo refused (SET-1): the file {path} does not exist.",
    ),
    "set1.photo_directory": (
        "Photo refusée (SET-1) : {path} est un dossier ; donnez un fichier PNG ou JPEG.",
        "Photo refused (SET-1): {path} is a folder; give a PNG or JPEG file.",
    ),
    "set1.photo_not_file": (
        "Photo refusée (SET-1) : {path} n'est pas un fichier ordinaire.",
        "Photo refused (SET-1): {path} is not a regular file.",
    ),
    "set1.photo_unreadable": (
        "Photo refusée (SET-1) : lecture impossible de {path} ({reason}).",
        "Photo refused (SET-1): cannot read {path} ({reason}).",
    ),
    "set1.photo_too_large": (
        "Photo refusée (SET-1) : {path} dépasse 1 Mo (1 000 000 octets).",
        "Photo refused (SET-1): {path} is larger than 1 MB (1,000,000 bytes).",
    ),
    "set1.photo_type": (
        "Photo refusée (SET-1) : {path} n'est ni une image PNG ni une image JPEG (le type est"
        " lu dans le contenu du fichier, pas dans son nom).",
        "Photo refused (SET-1): {path} is neither a PNG nor a JPEG image (the type is read"
        " from the file's content, not its name).",
    ),
    "set1.photo_invalid": (
        "Photo refusée (SET-1) : {path} n'est pas une image PNG ou JPEG lisible (fichier"
        " abîmé, tronqué ou aux dimensions démesurées).",
        "Photo refused (SET-1): {path} is not a readable PNG or JPEG image (damaged,"
        " truncated or of outsized dimensions).",
    ),
    "set1.photo_summary": ("{type}, {size}, {width}×{height}", "{type}, {size}, {width}×{height}"),
    "set1.bytes": ("{n} o", "{n} B"),
    "set1.kilobytes": ("{n} ko", "{n} kB"),
    "set1.megabytes": ("{n} Mo", "{n} MB"),
    "done.photo_set": (
        "Photo de {email} enregistrée : {summary}.",
        "Photo of {email} saved: {summary}.",
    ),
    "done.photo_removed": ("Photo de {email} retirée.", "Photo of {email} removed."),
    "done.photo_none": (
        "{email} n'a pas de photo : rien à retirer.",
        "{email} has no photo: nothing to remove.",
    ),
    "set5.switch": (
        "Valeur refusée pour {option} (SET-5) : « {value} » ; attendu : on ou off.",
        "Value refused for {option} (SET-5): “{value}”; expected: on or off.",
    ),
    "set5.language": (
        "Langue refusée (SET-5) : « {value} » ; langues proposées : {languages}.",
        "Language refused (SET-5): “{value}”; available: {languages}.",
    ),
    "done.preferences": (
        "Préférences de {email} enregistrées.",
        "Preferences of {email} saved.",
    ),
    # --- bulk flows (OPS-1, OPS-2) -------------------------------------------------------
    "ops1.role_required": (
        "Action réservée aux administrateurs, au support et aux correspondants"
        " dématérialisation de la DGFiP (PUB-1, HAB-6).",
        "Only admins, support and DGFiP dematerialisation correspondents may do this"
        " (PUB-1, HAB-6).",
    ),
    "ops1.kind_unknown": (
        "Type de flux inconnu « {kind} » (OPS-1) : choisissez parmi {kinds}.",
        "Unknown flow kind “{kind}” (OPS-1): choose among {kinds}.",
    ),
    "ops1.file_missing": ("Fichier introuvable : {path} (OPS-1).", "No such file: {path} (OPS-1)."),
    "ops1.file_unreadable": (
        "Impossible de lire {path} (OPS-1) : {reason}.",
        "Cannot read {path} (OPS-1): {reason}.",
    ),
    "ops1.empty": (
        "Le fichier {file} est vide (OPS-1) : il faut une ligne d'en-tête et des lignes.",
        "The file {file} is empty (OPS-1): a header line and rows are needed.",
    ),
    "ops1.no_rows": (
        "Le fichier {file} n'a aucune ligne de données (OPS-1) : rien à importer.",
        "The file {file} has no data row (OPS-1): nothing to import.",
    ),
    "ops1.binary": (
        "Le fichier {file} n'est ni un CSV ni du JSON Lines : contenu binaire à la ligne"
        " {line} (OPS-1).",
        "The file {file} is neither CSV nor JSON Lines: binary content at line {line} (OPS-1).",
    ),
    "ops1.utf16": (
        "Le fichier {file} est en UTF-16 (« Texte Unicode » d'Excel) (OPS-1) : enregistrez-le"
        " en « CSV UTF-8 » ou en « CSV (séparateur : point-virgule) ».",
        "The file {file} is UTF-16 (Excel's “Unicode Text”) (OPS-1): save it as “CSV UTF-8”"
        " or “CSV (semicolon delimited)”.",
    ),
    "ops1.not_utf8": (
        "Ligne {line} du fichier {file} : ce n'est pas de l'UTF-8, alors que les lignes"
        " précédentes le sont (OPS-1) ; enregistrez tout le fichier dans un seul encodage.",
        "Line {line} of {file} is not UTF-8 although the lines before it are (OPS-1); save"
        " the whole file in one encoding.",
    ),
    "ops1.not_text": (
        "Ligne {line} du fichier {file} : ni UTF-8 ni cp1252 (OPS-1) ; enregistrez le fichier"
        " en UTF-8.",
        "Line {line} of {file} is neither UTF-8 nor cp1252 (OPS-1); save the file as UTF-8.",
    ),
    "ops1.json_array": (
        "Le fichier {file} est un tableau JSON (OPS-1) : il faut du JSON Lines, un objet par"
        " ligne.",
        "The file {file} is a JSON array (OPS-1): JSON Lines is needed, one object a line.",
    ),
    "ops1.no_header": (
        "Le fichier {file} n'a pas de ligne d'en-tête lisible (OPS-1) : la première ligne"
        " nomme les colonnes.",
        "The file {file} has no readable header line (OPS-1): the first line names the columns.",
    ),
    "ops1.missing_column": (
        "Il manque au fichier {file} la ou les colonnes obligatoires {columns} d'un flux"
        " « {kind} » (OPS-1).",
        "The file {file} lacks the mandatory column(s) {columns} of a “{kind}” flow (OPS-1).",
    ),
    "ops1.duplicate_column": (
        "Les colonnes « {first} » et « {second} » du fichier {file} désignent le même champ"
        " (OPS-1) : gardez-en une.",
        "The columns “{first}” and “{second}” of {file} name the same field (OPS-1): keep one.",
    ),
    "ops1.duplicate_key": (
        "Deux clés désignent le champ {field} ({key}) (OPS-1).",
        "Two keys name the field {field} ({key}) (OPS-1).",
    ),
    "ops1.unknown_columns": (
        "Colonnes inconnues, ignorées (OPS-1) : {columns}.",
        "Unknown columns, ignored (OPS-1): {columns}.",
    ),
    "ops1.bad_json": (
        "JSON illisible (OPS-1) : {reason}.",
        "Unreadable JSON (OPS-1): {reason}.",
    ),
    "ops1.not_object": (
        "La ligne n'est pas un objet JSON mais un(e) {type} (OPS-1).",
        "The line is not a JSON object but a {type} (OPS-1).",
    ),
    "ops1.bad_csv": (
        "CSV illisible (OPS-1) : {reason} ; un guillemet n'est sans doute pas refermé.",
        "Unreadable CSV (OPS-1): {reason}; a quote is probably not closed.",
    ),
    "ops1.too_many_fields": (
        "{count} champs pour {expected} colonnes d'en-tête (OPS-1) : un séparateur de trop,"
        " ou une valeur à mettre entre guillemets.",
        "{count} fields for {expected} header columns (OPS-1): one separator too many, or a"
        " value to put in quotes.",
    ),
    "ops1.value_missing": (
        "valeur obligatoire manquante (OPS-1).",
        "mandatory value missing (OPS-1).",
    ),
    "ops1.value_not_text": (
        "valeur attendue : du texte (OPS-1).",
        "expected value: text (OPS-1).",
    ),
    "ops1.not_boolean": (
        "« {value} » n'est pas oui/non (OPS-1) : oui, non, true, false, 1 ou 0.",
        "“{value}” is not yes/no (OPS-1): yes, no, true, false, 1 or 0.",
    ),
    "ops1.language_invalid": (
        "Langue inconnue « {value} » (OPS-1) : {languages}.",
        "Unknown language “{value}” (OPS-1): {languages}.",
    ),
    "ops1.structure_invalid": (
        "« {value} » n'est l'identifiant d'aucun type de structure (STR-1).",
        "“{value}” is not an identifier of any structure type (STR-1).",
    ),
    "ops1.services_alone": (
        "des services sans structure (OPS-1) : renseignez la colonne de la structure.",
        "services without a structure (OPS-1): fill in the structure column.",
    ),
    "ops1.duplicate_login": (
        "l'adresse {email} figure déjà ligne {first} (OPS-1, ACC-1) : un compte par adresse.",
        "the address {email} is already on line {first} (OPS-1, ACC-1): one account an address.",
    ),
    "ops1.duplicate_attachment": (
        "le rattachement de {email} à {id} figure déjà ligne {first} (OPS-1).",
        "the attachment of {email} to {id} is already on line {first} (OPS-1).",
    ),
    "ops1.duplicate_structure": (
        "la structure {id} figure déjà ligne {first} (OPS-1, STR-1).",
        "the structure {id} is already on line {first} (OPS-1, STR-1).",
    ),
    "ops1.public_from_sirene": (
        "le caractère public du SIRET {siret} vient du répertoire SIRENE (STR-6) : il y est"
        " « {public} ».",
        "whether SIRET {siret} is public comes from the SIRENE register (STR-6): it says"
        " “{public}”.",
    ),
    "ops1.bad_row": (
        "Ligne {line}, colonne « {column} » : {error}",
        "Line {line}, column “{column}”: {error}",
    ),
    "ops1.bad_line": ("Ligne {line} : {error}", "Line {line}: {error}"),
    "ops1.refused": (
        "Import de {file} refusé : {failed} ligne(s) en échec, rien n'a été écrit (OPS-1,"
        " tout ou rien) ; sans elles : {created} création(s), {updated} mise(s) à jour,"
        " {unchanged} inchangé(s).",
        "Import of {file} refused: {failed} row(s) failed, nothing was written (OPS-1, all or"
        " nothing); without them: {created} created, {updated} updated, {unchanged}"
        " unchanged.",
    ),
    "pub1.structure_needed": (
        "un correspondant ne charge que des comptes de structures publiques de ses"
        " départements (PUB-1, HAB-6) : renseignez la structure.",
        "a correspondent only loads accounts of public structures of their departments"
        " (PUB-1, HAB-6): fill in the structure.",
    ),
    "done.bulk_imported": (
        "Import de {file} ({kind}) : {created} créé(s), {updated} mis à jour, {unchanged}"
        " inchangé(s), {failed} en échec, en {seconds} s (OPS-1).",
        "Import of {file} ({kind}): {created} created, {updated} updated, {unchanged}"
        " unchanged, {failed} failed, in {seconds} s (OPS-1).",
    ),
    "done.bulk_dry_run": (
        "Essai à blanc de {file} ({kind}) : {created} à créer, {updated} à mettre à jour,"
        " {unchanged} inchangé(s), {failed} en échec ; rien n'a été écrit (OPS-1).",
        "Dry run of {file} ({kind}): {created} to create, {updated} to update, {unchanged}"
        " unchanged, {failed} failed; nothing was written (OPS-1).",
    ),
    "done.bulk_exported": (
        "{count} ligne(s) exportée(s) ({kind}, OPS-2).",
        "{count} row(s) exported ({kind}, OPS-2).",
    ),
    "ops2.kind_unknown": (
        "Export inconnu « {kind} » (OPS-2) : choisissez parmi {kinds}.",
        "Unknown export “{kind}” (OPS-2): choose among {kinds}.",
    ),
    "ops2.format_unknown": (
        "Format d'export inconnu « {format} » (OPS-2) : {formats}.",
        "Unknown export format “{format}” (OPS-2): {formats}.",
    ),
    "progress.bulk_rows": ("Lignes du flux", "Flow rows"),
    # LA-1..4 login-address change, SET-4 deactivation and reactivation
    "sec5.password_wrong": (
        "Mot de passe incorrect (SEC-5) : il est demandé à nouveau avant de changer"
        " l'adresse de connexion.",
        "Wrong password (SEC-5): it is asked again before the login address changes.",
    ),
    "la1.mismatch": (
        "Les deux saisies de la nouvelle adresse de connexion diffèrent (LA-1) : rien n'a"
        " été changé.",
        "The two entries of the new login address differ (LA-1): nothing was changed.",
    ),
    "la1.same": (
        "{email} est déjà votre adresse de connexion (LA-1) : indiquez une autre adresse.",
        "{email} is already the login address (LA-1): give another address.",
    ),
    "la2.pending": (
        "Un changement d'adresse de connexion vers {new} est déjà en cours jusqu'au {until}"
        " (LA-2) : confirmez-le, ou annulez-le avec « chorus login-address cancel ».",
        "A login-address change to {new} is already under way until {until} (LA-2):"
        " confirm it, or drop it with `chorus login-address cancel`.",
    ),
    "la3.taken": (
        "L'adresse {email} est déjà l'adresse de connexion d'un compte (LA-3) : choisissez"
        " une autre adresse.",
        "{email} is already the login address of an account (LA-3): choose another address.",
    ),
    "prompt.confirm_login_address": (
        "Confirmez la nouvelle adresse de connexion",
        "Confirm the new login address",
    ),
    "done.login_address_requested": (
        "Un lien de confirmation, valable jusqu'au {until}, a été envoyé à {new} : l'adresse"
        " de connexion de {email} changera quand il sera ouvert (« chorus login-address"
        " confirm LIEN »).",
        "A confirmation link, valid until {until}, was sent to {new}: the login address of"
        " {email} changes once it is opened (`chorus login-address confirm LINK`).",
    ),
    "done.login_address_changed": (
        "Votre adresse de connexion est désormais {email} ; un avis a été envoyé à"
        " l'ancienne adresse.",
        "Your login address is now {email}; a notice was sent to the old address.",
    ),
    "done.login_address_none": (
        "Aucun changement d'adresse de connexion en cours pour {email}.",
        "No login-address change under way for {email}.",
    ),
    "done.login_address_cancelled": (
        "Changement d'adresse de connexion de {email} vers {new} annulé : le lien ne"
        " fonctionne plus.",
        "Login-address change of {email} to {new} dropped: the link no longer works.",
    ),
    "set4.primary_manager": (
        "{email} est le gestionnaire principal de {ids} (STR-8) : transférez d'abord le"
        " rôle (« chorus structure transfer-primary ID --to EMAIL ») avant de désactiver"
        " le compte (SET-4).",
        "{email} is the primary manager of {ids} (STR-8): transfer the role first"
        " (`chorus structure transfer-primary ID --to EMAIL`) before deactivating the"
        " account (SET-4).",
    ),
    "set4.last_admin": (
        "{email} est le dernier administrateur actif (SET-4) : donnez ce rôle à un autre"
        " compte avant de désactiver celui-ci.",
        "{email} is the last active admin (SET-4): grant the role to another account"
        " before deactivating this one.",
    ),
    "set4.not_active": (
        "Le compte {email} n'est pas actif (SET-4) : il ne peut pas être désactivé.",
        "Account {email} is not active (SET-4): it cannot be deactivated.",
    ),
    "set4.not_deactivated": (
        "Le compte {email} n'est pas désactivé (SET-4) : connectez-vous avec « chorus login ».",
        "Account {email} is not deactivated (SET-4): log in with `chorus login`.",
    ),
    "set4.yes_needed": (
        "La désactivation demande une confirmation (SET-4) : ajoutez --yes quand la"
        " commande ne vient pas d'un terminal ; rien n'a été fait.",
        "Deactivation needs a confirmation (SET-4): add --yes when the command does not"
        " come from a terminal; nothing was done.",
    ),
    "prompt.deactivate": (
        "Désactiver le compte {email} ? Vos sessions seront fermées",
        "Deactivate the account {email}? Your sessions will end",
    ),
    "done.deactivate_cancelled": (
        "Désactivation annulée : le compte {email} est inchangé.",
        "Deactivation cancelled: account {email} is unchanged.",
    ),
    "done.deactivated": (
        "Compte {email} désactivé ; un avis a été envoyé à {contact}. Pour le réactiver :"
        " « chorus account reactivate {email} ».",
        "Account {email} deactivated; a notice was sent to {contact}. To reactivate it:"
        " `chorus account reactivate {email}`.",
    ),
    "done.reactivated": (
        "Compte {email} réactivé.",
        "Account {email} reactivated.",
    ),
    # SET-2 notifications, weekly summary
    "set2.unknown_application": (
        "Application inconnue « {app} » (SET-2) : les applications qui notifient sont {names}.",
        "Unknown application “{app}” (SET-2): the applications that notify are {names}.",
    ),
    "set2.on_and_off": (
        "L'application {app} est à la fois dans --on et --off (SET-2) : choisissez.",
        "Application {app} is in both --on and --off (SET-2): choose one.",
    ),
    "set2.weekly_name": (
        "Récapitulatif hebdomadaire des mouvements sur vos structures",
        "Weekly summary of the movements on your structures",
    ),
    "done.notifications_saved": (
        "Notifications de {email} enregistrées.",
        "Notifications of {email} saved.",
    ),
    "done.weekly_sent": (
        "Récapitulatif hebdomadaire envoyé à {count} abonné(s) (SET-2).",
        "Weekly summary sent to {count} subscriber(s) (SET-2).",
    ),
    "done.weekly_dry_run": (
        "Simulation (--dry-run) : {count} abonné(s) recevraient un récapitulatif ; rien"
        " n'a été envoyé ni enregistré.",
        "Dry run: {count} subscriber(s) would get a summary; nothing was sent or recorded.",
    ),
    # SEC-2, SEC-3, SEC-6: the store's file, its URL, numbers
    "sec6.store_dir_missing": (
        "Le dossier {path} n'existe pas (SEC-6) : vérifiez le chemin du magasin (--db) ;"
        " chorus ne crée que le dossier du magasin par défaut.",
        "Folder {path} does not exist (SEC-6): check the store's path (--db); chorus only"
        " creates the default store's folder.",
    ),
    "sec2.store_readable": (
        "Attention (SEC-2) : le magasin {path} est lisible par d'autres utilisateurs"
        " (mode {mode}) ; il contient des liens, des codes et des empreintes : « chmod 600"
        " {path} ».",
        "Warning (SEC-2): store {path} can be read by other users (mode {mode}); it holds"
        " links, codes and hashes: `chmod 600 {path}`.",
    ),
    "sec3.driver_missing": (
        "Le pilote du magasin {url} n'est pas installé (SEC-3) : le module Python"
        " « {module} » manque ; installez-le (pip) ou utilisez SQLite ou PostgreSQL.",
        "The driver of store {url} is not installed (SEC-3): Python module “{module}” is"
        " missing; install it (pip) or use SQLite or PostgreSQL.",
    ),
    "sec3.number_too_large": (
        "Nombre trop grand (SEC-3) : un identifiant ou une limite dépasse ce que le magasin"
        " accepte.",
        "Number too large (SEC-3): an id or a limit exceeds what the store accepts.",
    ),
    "sec3.invalid_utf8_field": (
        "Le champ {field} n'est pas du texte UTF-8 valide (octet {byte}) (SEC-3) : rien n'a"
        " été enregistré.",
        "The {field} field is not valid UTF-8 text (byte {byte}) (SEC-3): nothing was saved.",
    ),
    "sec3.invalid_utf8_argument": (
        "L'argument « {argument} » n'est pas du texte UTF-8 valide (octet {byte}) (SEC-3) :"
        " vérifiez l'encodage du terminal ou du script ; rien n'a été fait.",
        "Argument “{argument}” is not valid UTF-8 text (byte {byte}) (SEC-3): check the"
        " terminal's or the script's encoding; nothing was done.",
    ),
    "sec3.invalid_utf8_input": (
        "La réponse lue pour « {prompt} » n'est pas du texte UTF-8 valide (octet {byte})"
        " (SEC-3) : rien n'a été vérifié ni compté.",
        "The answer read for “{prompt}” is not valid UTF-8 text (byte {byte}) (SEC-3):"
        " nothing was checked or counted.",
    ),
    "sec3.invalid_utf8": (
        "Une entrée n'est pas du texte UTF-8 valide (SEC-3) : {reason} ; rien n'a été enregistré.",
        "An input is not valid UTF-8 text (SEC-3): {reason}; nothing was saved.",
    ),
    "sec1.mixed_scripts": (
        "Adresse e-mail refusée pour le champ {field} (SEC-1) : « {part} » mêle deux"
        " écritures ({scripts}), comme un sosie d'adresse (а cyrillique pour a latin) ;"
        " saisissez-la dans une seule écriture.",
        "E-mail address refused for the {field} field (SEC-1): “{part}” mixes two scripts"
        " ({scripts}), as a look-alike address does (Cyrillic а for Latin a); type it in"
        " one script.",
    ),
    "acc1.local_part_too_long": (
        "Adresse e-mail invalide pour le champ {field} (ACC-1) : la partie avant le @"
        " dépasse {max} octets.",
        "Invalid e-mail address for the {field} field (ACC-1): the part before the @ is"
        " longer than {max} bytes.",
    ),
    "sec6.sirene_empty": (
        "{file} ne contient aucun établissement utilisable (SEC-6) : l'index SIRENE"
        " n'a pas été remplacé ; --allow-empty le vide volontairement.",
        "{file} holds no usable establishment (SEC-6): the SIRENE index was not replaced;"
        " --allow-empty empties it on purpose.",
    ),
    "sec5.password_wrong_factor": (
        "Mot de passe incorrect (SEC-5) : il est demandé avant d'ajouter un facteur"
        " d'authentification.",
        "Wrong password (SEC-5): it is asked before an authentication factor is added.",
    ),
    "sec7.empty_password": (
        "Mot de passe vide (SEC-7) : rien n'a été vérifié ni compté.",
        "Empty password (SEC-7): nothing was checked or counted.",
    ),
    "sec7.no_attempt": (
        "Aucune connexion en attente de code pour {email} (SEC-7) : commencez par"
        " « chorus login {email} » (ou --password-stdin avec --code).",
        "No log-in awaits a code for {email} (SEC-7): start with `chorus login {email}`"
        " (or --password-stdin with --code).",
    ),
    "sec1.control_character": (
        "Le champ {field} contient un caractère de contrôle ou invisible ({code}) (SEC-1).",
        "The {field} field holds a control or invisible character ({code}) (SEC-1).",
    ),
    # SEC-2: TOTP seeds sealed under a key kept outside the store, `db rotate-key`
    "sec2.seed_key_missing": (
        "Les secrets TOTP de ce magasin sont chiffrés avec la clé {key_id}, absente de cette"
        " machine (SEC-2) : définissez CHORUS_SEED_KEY avec cette clé, ou lancez chorus"
        " depuis la machine qui la détient.",
        "This store's TOTP seeds are sealed with key {key_id}, which this machine does not"
        " hold (SEC-2): set CHORUS_SEED_KEY to that key, or run chorus from the machine"
        " that holds it.",
    ),
    "sec2.seed_key_invalid": (
        "CHORUS_SEED_KEY n'est pas une clé valable (SEC-2) : il faut le base64 de 32 octets"
        " (« openssl rand -base64 32 »), plusieurs séparées par des virgules, la plus"
        " récente d'abord.",
        "CHORUS_SEED_KEY is not a valid key (SEC-2): it must be the base64 of 32 bytes"
        " (`openssl rand -base64 32`), several separated by commas, the newest first.",
    ),
    "sec2.seed_unreadable": (
        "Le secret TOTP de ce compte ne se déchiffre pas (SEC-2) : il a été modifié ou"
        " recopié d'un autre compte ; retirez l'application TOTP et ajoutez-la à nouveau.",
        "This account's TOTP seed does not decrypt (SEC-2): it was altered or copied from"
        " another account; remove the TOTP app and add it again.",
    ),
    "sec2.rotate_same_env_key": (
        "La clé {key_id} de CHORUS_SEED_KEY est déjà celle du magasin (SEC-2) : mettez une"
        " nouvelle clé en premier, l'ancienne après une virgule, puis relancez.",
        "Key {key_id} of CHORUS_SEED_KEY already is the store's (SEC-2): put a new key first,"
        " the old one after a comma, then run again.",
    ),
    "sec2.done_rotated": (
        "{count} secret(s) TOTP chiffré(s) avec la nouvelle clé {new} (SEC-2).",
        "{count} TOTP seed(s) sealed with the new key {new} (SEC-2).",
    ),
    "sec2.done_old_kept": (
        "L'ancienne clé {old} n'est plus utilisée par ce magasin ; elle reste où elle était"
        " (--keep-old, ou CHORUS_SEED_KEY : retirez-la-en).",
        "The old key {old} is no longer used by this store; it stays where it was"
        " (--keep-old, or CHORUS_SEED_KEY: remove it from there).",
    ),
    "sec2.done_sealed": (
        "{count} secret(s) TOTP conservé(s) en clair par une version précédente désormais"
        " chiffré(s) (SEC-2).",
        "{count} TOTP seed(s) kept in clear by an earlier version now sealed (SEC-2).",
    ),
}


def message(key: str, lang: str | None = None, **params: Any) -> str:
    """The sentence for ``key`` in ``lang`` (default: the current language)."""
    index = 1 if (lang or current()) == "en" else 0
    if "field" in params and params["field"] in FIELDS:
        params["field"] = FIELDS[params["field"]][index]
    if "fields" in params and isinstance(params["fields"], list):
        names = ", ".join(FIELDS[f][index] if f in FIELDS else f for f in params["fields"])
        missing = " (manquants : {})" if index == 0 else " (missing: {})"
        params["fields"] = missing.format(names) if names else ""
    if "rules" in params and isinstance(params["rules"], list):
        params["rules"] = ", ".join(PASSWORD_RULES[r][index] for r in params["rules"])
    # What a user typed or a store holds reaches the terminal escaped (SEC-1).
    from chorus_cli.domain.text import displayed

    params = {k: displayed(v) if isinstance(v, str) else v for k, v in params.items()}
    template = MESSAGES.get(key, (key, key))[index]
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template
