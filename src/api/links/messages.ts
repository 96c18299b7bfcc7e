// Every text the /j/<token> pages show, in French and in English. One table per language with
// the same keys (the type makes a missing key a compile error; a unit test checks no text is
// empty). `{title}` and `{seconds}` are filled in by page.ts, HTML-escaped. French typography:
// no-break spaces inside « » and before a colon.

export type Lang = 'fr' | 'en';
export const LANGS: readonly Lang[] = ['fr', 'en'];
/** The ministry's users are French speakers first. */
export const DEFAULT_LANG: Lang = 'fr';

/** Why a page is not the form: a link refusal, a join refusal, or a request we cannot serve. */
export type Refusal =
  | 'invalid'
  | 'expired'
  | 'revoked'
  | 'usedUp'
  | 'roomGone'
  | 'full'
  | 'ended'
  | 'unavailable'
  | 'rateLimited'
  | 'methodNotAllowed';

/** Why a submitted form was not accepted (the form is shown again with this message). */
export type FormProblem = 'nameMissing' | 'nameTooLong' | 'formUnreadable' | 'formTooLarge' | 'formType';

type RefusalTexts = { [R in Refusal as `${R}Heading` | `${R}Text`]: string };
type FormTexts = { [P in FormProblem]: string };

export interface Messages extends RefusalTexts, FormTexts {
  /** The language's own name, for the switch. */
  languageName: string;
  languageSwitch: string;
  service: string;
  joinHeading: string;
  joinIntro: string;
  joinAsModerator: string;
  joinAsViewer: string;
  nameLabel: string;
  nameHint: string;
  submit: string;
  errorPrefix: string;
  tryAgain: string;
  refusedTitle: string;
}

export const MESSAGES: Readonly<Record<Lang, Messages>> = {
  fr: {
    languageName: 'Français',
    languageSwitch: 'Langue',
    service: 'Amphi, classes virtuelles',
    joinHeading: 'Rejoindre la classe virtuelle',
    joinIntro: 'Vous êtes invité ou invitée à «\u00a0{title}\u00a0».',
    joinAsModerator: 'Vous entrerez comme animateur ou animatrice.',
    joinAsViewer: 'Vous entrerez comme participant ou participante.',
    nameLabel: 'Votre nom',
    nameHint: 'Les autres participants le verront. 100 caractères au plus.',
    submit: 'Rejoindre',
    errorPrefix: 'Erreur\u00a0:',
    tryAgain: 'Réessayer',
    refusedTitle: 'Accès impossible',
    nameMissing: 'Indiquez votre nom pour entrer.',
    nameTooLong: 'Votre nom doit faire 100 caractères au plus.',
    formUnreadable: 'Le formulaire envoyé n’a pas pu être lu. Indiquez votre nom et réessayez.',
    formTooLarge: 'Le formulaire envoyé est trop long. Indiquez votre nom et réessayez.',
    formType: 'Le formulaire doit être envoyé depuis cette page. Indiquez votre nom et réessayez.',
    invalidHeading: 'Lien non valide',
    invalidText: 'Ce lien n’existe pas ou a été mal copié. Vérifiez-le ou demandez-en un nouveau à la personne qui vous l’a envoyé.',
    expiredHeading: 'Lien expiré',
    expiredText: 'Ce lien n’est plus valable. Demandez-en un nouveau à la personne qui vous l’a envoyé.',
    revokedHeading: 'Lien retiré',
    revokedText: 'Ce lien a été retiré par la personne qui organise la séance. Demandez-en un nouveau à la personne qui vous l’a envoyé.',
    usedUpHeading: 'Lien épuisé',
    usedUpText: 'Ce lien a déjà servi autant de fois que prévu. Demandez-en un nouveau à la personne qui vous l’a envoyé.',
    roomGoneHeading: 'Salle supprimée',
    roomGoneText: 'La salle de ce lien n’existe plus.',
    fullHeading: 'Salle complète',
    fullText: 'La salle «\u00a0{title}\u00a0» accueille déjà autant de personnes que possible. Réessayez dans quelques minutes.',
    endedHeading: 'Séance terminée',
    endedText: 'La séance «\u00a0{title}\u00a0» est terminée.',
    unavailableHeading: 'Service momentanément indisponible',
    unavailableText: 'La salle ne peut pas être ouverte pour le moment. Réessayez dans quelques minutes.',
    rateLimitedHeading: 'Trop de demandes',
    rateLimitedText: 'Trop de demandes viennent de votre adresse. Réessayez dans {seconds} secondes.',
    methodNotAllowedHeading: 'Demande non prise en charge',
    methodNotAllowedText: 'Cette adresse s’ouvre dans un navigateur. Ouvrez le lien reçu.',
  },
  en: {
    languageName: 'English',
    languageSwitch: 'Language',
    service: 'Amphi virtual classrooms',
    joinHeading: 'Join the virtual classroom',
    joinIntro: 'You are invited to “{title}”.',
    joinAsModerator: 'You will join as a moderator.',
    joinAsViewer: 'You will join as a participant.',
    nameLabel: 'Your name',
    nameHint: 'Other participants will see it. At most 100 characters.',
    submit: 'Join',
    errorPrefix: 'Error:',
    tryAgain: 'Try again',
    refusedTitle: 'Cannot join',
    nameMissing: 'Enter your name to join.',
    nameTooLong: 'Your name must be at most 100 characters long.',
    formUnreadable: 'The form sent could not be read. Enter your name and try again.',
    formTooLarge: 'The form sent is too long. Enter your name and try again.',
    formType: 'The form must be sent from this page. Enter your name and try again.',
    invalidHeading: 'Invalid link',
    invalidText: 'This link does not exist or was copied incompletely. Check it, or ask the person who sent it for a new one.',
    expiredHeading: 'Link expired',
    expiredText: 'This link is no longer valid. Ask the person who sent it for a new one.',
    revokedHeading: 'Link withdrawn',
    revokedText: 'The organiser has withdrawn this link. Ask the person who sent it for a new one.',
    usedUpHeading: 'Link used up',
    usedUpText: 'This link has been used as many times as allowed. Ask the person who sent it for a new one.',
    roomGoneHeading: 'Room deleted',
    roomGoneText: 'The room of this link no longer exists.',
    fullHeading: 'Room full',
    fullText: 'The room “{title}” already holds as many people as it can. Try again in a few minutes.',
    endedHeading: 'Session over',
    endedText: 'The session “{title}” is over.',
    unavailableHeading: 'Service temporarily unavailable',
    unavailableText: 'The room cannot be opened right now. Try again in a few minutes.',
    rateLimitedHeading: 'Too many requests',
    rateLimitedText: 'Too many requests come from your address. Try again in {seconds} seconds.',
    methodNotAllowedHeading: 'Request not supported',
    methodNotAllowedText: 'This address opens in a web browser. Open the link you received.',
  },
};
